#!/bin/sh
# pml-family: filesystems
# pml-summary: mount an ext2/3/4 image without kernel filesystem code, through fuse2fs
#   (FUSE), copy files in and out, unmount with fusermount3
# pml-expect: fuse
# pml-packages: fuse3 fuse2fs
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd fuse2fs fusermount3
pml_pick fstype ext2 ext3 ext4
pml_range mb 16 64
pml_param fstype "$fstype"; pml_param size_mb "$mb"
w=$(mktemp -d /tmp/fuse2fs.XXXXXX)
pml_defer rm -rf "$w"
truncate -s "${mb}M" "$w/disk.img"
mkfs."$fstype" -q -F "$w/disk.img"
mkdir -p "$w/mnt"
fuse2fs -o fakeroot "$w/disk.img" "$w/mnt"
pml_defer fusermount3 -u "$w/mnt"
pml_files "$w/mnt/data" 6 100
(cd "$w/mnt/data" && sha256sum -c MANIFEST > /dev/null)
fusermount3 -u "$w/mnt"
e2fsck -fn "$w/disk.img" > /dev/null && echo "fuse2fs: $fstype image clean"
