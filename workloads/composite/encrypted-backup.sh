#!/bin/sh
# pml-family: composite
# pml-summary: a nightly backup job: a backup image on loop, opened with LUKS (dm-crypt),
#   btrfs inside with a snapshot per run, the data set copied in and verified, optionally
#   an archive copy packed as squashfs; closed in reverse order
# pml-expect: loop dm_mod dm_crypt btrfs raid6_pq xor zstd_compress libcrc32c
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick cipher aes-xts-plain64 aes-xts-plain64 serpent-xts-plain64
pml_pick comp none zstd lzo
pml_chance archive 50
pml_range runs 1 3
pml_param cipher "$cipher"; pml_param compress "$comp"; pml_param archive "$archive"
pml_param runs "$runs"
pml_expect xts
[ "$cipher" = serpent-xts-plain64 ] && pml_expect serpent_generic
[ "$archive" -eq 1 ] && pml_expect squashfs
w=$(mktemp -d /tmp/backup.XXXXXX)
pml_defer rm -rf "$w"
pml_files "$w/data" 8 200
truncate -s 200M "$w/backup.img"
pml_hex key 32
printf '%s' "$key" > "$w/key"
pml_loopdev dev "$w/backup.img"
cryptsetup luksFormat -q --type luks2 --cipher "$cipher" --pbkdf pbkdf2 \
	--pbkdf-force-iterations 1000 --key-file "$w/key" "$dev"
cryptsetup open --key-file "$w/key" "$dev" bk$$
pml_defer cryptsetup close bk$$
mkfs.btrfs -q /dev/mapper/bk$$
o=""
[ "$comp" = none ] || o="-o compress=$comp"
pml_mount $o /dev/mapper/bk$$ "$w/mnt"
btrfs -q subvolume create "$w/mnt/current"
r=0
while [ $r -lt "$runs" ]; do
	cp -r "$w/data/." "$w/mnt/current/"
	btrfs -q subvolume snapshot -r "$w/mnt/current" "$w/mnt/snap-$r"
	(cd "$w/mnt/snap-$r" && sha256sum -c MANIFEST > /dev/null)
	r=$((r + 1))
done
if [ "$archive" -eq 1 ]; then
	mksquashfs "$w/mnt/snap-0" "$w/mnt/archive.sqfs" -quiet -no-progress > /dev/null
	pml_mount -o loop,ro "$w/mnt/archive.sqfs" "$w/arch"
	(cd "$w/arch" && sha256sum -c MANIFEST > /dev/null)
fi
btrfs subvolume list "$w/mnt"
