#!/bin/sh
# pml-family: filesystems
# pml-summary: an F2FS (flash-friendly) volume on loop, as on a phone's data partition:
#   write, fsync, remount, check
# pml-expect: loop f2fs lz4_compress lz4hc_compress zstd_compress crc32_generic crc32_pclmul
# pml-packages: f2fs-tools
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd mkfs.f2fs
pml_range mb 64 160
pml_param size_mb "$mb"
w=$(mktemp -d /tmp/f2fs.XXXXXX)
pml_defer rm -rf "$w"
truncate -s "${mb}M" "$w/flash.img"
mkfs.f2fs -q -l PMLF2FS "$w/flash.img" > /dev/null
pml_mount -o loop -t f2fs "$w/flash.img" "$w/mnt"
pml_files "$w/mnt/data" 10 200
sync
umount "$w/mnt"
mount -o loop,ro -t f2fs "$w/flash.img" "$w/mnt"
(cd "$w/mnt/data" && sha256sum -c MANIFEST > /dev/null)
echo "f2fs: ok"
