#!/bin/sh
# pml-family: filesystems
# pml-summary: a btrfs volume on loop (random checksum and compression), subvolumes, a
#   read-only snapshot before changing data, compare, scrub
# pml-expect: loop btrfs raid6_pq xor zstd_compress libcrc32c
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick csum crc32c crc32c xxhash sha256 blake2
pml_pick comp none zlib lzo zstd
pml_range nsub 1 4
pml_param csum "$csum"; pml_param compress "$comp"; pml_param subvolumes "$nsub"
case $csum in xxhash) pml_expect xxhash_generic ;; blake2) pml_expect blake2b_generic ;; esac
w=$(mktemp -d /tmp/btrfs.XXXXXX)
pml_defer rm -rf "$w"
truncate -s 256M "$w/btrfs.img"
mkfs.btrfs -q --csum "$csum" -L pmlbackup "$w/btrfs.img"
opt=loop
[ "$comp" = none ] || opt="loop,compress=$comp"
pml_mount -o "$opt" "$w/btrfs.img" "$w/mnt"
i=0
while [ $i -lt "$nsub" ]; do
	btrfs -q subvolume create "$w/mnt/vol$i"
	pml_files "$w/mnt/vol$i" 6 120
	i=$((i + 1))
done
btrfs -q subvolume snapshot -r "$w/mnt/vol0" "$w/mnt/vol0.snap"
echo changed > "$w/mnt/vol0/file0.dat"
(cd "$w/mnt/vol0.snap" && sha256sum -c MANIFEST > /dev/null)
btrfs scrub start -B "$w/mnt" > /dev/null 2>&1 || true
btrfs filesystem df "$w/mnt"
