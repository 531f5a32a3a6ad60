#!/bin/sh
# pml-family: filesystems
# pml-summary: create an XFS volume on a loop device (random block and log sizes), write a
#   tree of files, grow the filesystem, run a repair check on the unmounted image
# pml-expect: loop xfs libcrc32c
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range mb 320 480
pml_pick bsize 1024 2048 4096 4096
pml_range nfiles 5 30
pml_chance grow 60
pml_param size_mb "$mb"; pml_param block "$bsize"; pml_param files "$nfiles"
pml_param grow "$grow"
w=$(mktemp -d /tmp/xfs.XXXXXX)
pml_defer rm -rf "$w"
truncate -s "${mb}M" "$w/xfs.img"
pml_loopdev dev "$w/xfs.img"
mkfs.xfs -q -f -b size="$bsize" "$dev"
pml_mount "$dev" "$w/mnt"
pml_files "$w/mnt/data" "$nfiles" 300
if [ "$grow" -eq 1 ]; then
	umount "$w/mnt"
	truncate -s "$((mb + 128))M" "$w/xfs.img"
	losetup -c "$dev"
	mount "$dev" "$w/mnt"
	xfs_growfs "$w/mnt" > /dev/null
fi
(cd "$w/mnt/data" && sha256sum -c MANIFEST > /dev/null)
df -h "$w/mnt" | tail -1
umount "$w/mnt"
xfs_repair -n "$dev" > /dev/null 2>&1 && echo "xfs: repair check clean"
