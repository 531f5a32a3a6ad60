#!/bin/sh
# pml-family: block
# pml-summary: seal a read-only image with dm-verity (random hash and block size), open it,
#   read everything through the verified device, as an A/B update system does at boot
# pml-expect: loop dm_mod dm_verity dm_bufio reed_solomon
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick hash sha256 sha256 sha1 sha512
pml_pick bs 1024 4096 4096
pml_param hash "$hash"; pml_param block "$bs"
[ "$hash" = sha512 ] && pml_expect sha512_generic
w=$(mktemp -d /tmp/verity.XXXXXX)
pml_defer rm -rf "$w"
pml_files "$w/src" 6 100
mksquashfs "$w/src" "$w/data.img" -quiet -no-progress > /dev/null 2>&1 || {
	truncate -s 16M "$w/data.img"; mkfs.ext4 -q "$w/data.img"; }
truncate -s 8M "$w/hash.img"
root=$(veritysetup format --hash "$hash" --data-block-size "$bs" --hash-block-size "$bs" \
	"$w/data.img" "$w/hash.img" | awk '/Root hash/ {print $3}')
pml_param root_hash "$root"
pml_loopdev ddev "$w/data.img"
pml_loopdev hdev "$w/hash.img"
veritysetup open "$ddev" pmlverity "$hdev" "$root"
pml_defer veritysetup close pmlverity
dd if=/dev/mapper/pmlverity of=/dev/null bs=64k 2>/dev/null
veritysetup status pmlverity | grep -E 'status|hash type'
