#!/bin/sh
# pml-family: block
# pml-summary: point-in-time backup with device-mapper: linear origin, copy-on-write
#   snapshot (random chunk size), change the origin, read the old state from the snapshot
# pml-expect: loop dm_mod dm_snapshot dm_bufio
# pml-packages: dmsetup
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd dmsetup
pml_pick chunk 8 16 32 64
pml_param chunk_sectors "$chunk"
w=$(mktemp -d /tmp/dmsnap.XXXXXX)
pml_defer rm -rf "$w"
truncate -s 32M "$w/origin.img"
truncate -s 16M "$w/cow.img"
pml_loopdev odev "$w/origin.img"
pml_loopdev cdev "$w/cow.img"
mkfs.ext4 -q "$odev"
sz=$(blockdev --getsz "$odev")
echo "0 $sz snapshot-origin $odev" | dmsetup create pmlorigin
pml_defer dmsetup remove pmlorigin
echo "0 $sz snapshot $odev $cdev P $chunk" | dmsetup create pmlsnap
dmsetup mknodes
pml_defer dmsetup remove pmlsnap
pml_mount /dev/mapper/pmlorigin "$w/mnt"
echo "after" > "$w/mnt/state"
sync
mkdir -p "$w/snap"
mount -o ro,noload /dev/mapper/pmlsnap "$w/snap" 2>/dev/null || mount -o ro /dev/mapper/pmlsnap "$w/snap"
pml_defer umount "$w/snap"
[ ! -e "$w/snap/state" ] && echo "snapshot keeps the old state"
dmsetup status pmlsnap
