#!/bin/sh
# e2e job: thin provisioning as an image store does it, with dmsetup only. A thin pool on
# two loop devices (metadata, data), a thin volume larger than the pool with ext4 on it, a
# snapshot of it taken while suspended, both mounted and the pool's usage read (no udev in
# the guest: dmsetup makes the device nodes).
set -eu
truncate -s 4M /tmp/meta.img
truncate -s 96M /tmp/data.img
meta=$(losetup -f --show /tmp/meta.img)
data=$(losetup -f --show /tmp/data.img)
dd if=/dev/zero of="$meta" bs=4096 count=1 2>/dev/null
sectors=$(blockdev --getsz "$data")
dmsetup create pool --table "0 $sectors thin-pool $meta $data 128 0"
dmsetup mknodes pool
dmsetup message /dev/mapper/pool 0 "create_thin 0"
dmsetup create thin0 --table "0 1048576 thin /dev/mapper/pool 0"
dmsetup mknodes thin0
mkfs.ext4 -q -F /dev/mapper/thin0
mkdir -p /mnt/thin0 /mnt/snap
mount /dev/mapper/thin0 /mnt/thin0
seq 1 50000 >/mnt/thin0/v1
sync
dmsetup suspend /dev/mapper/thin0
dmsetup message /dev/mapper/pool 0 "create_snap 1 0"
dmsetup resume /dev/mapper/thin0
dmsetup create snap1 --table "0 1048576 thin /dev/mapper/pool 1"
dmsetup mknodes snap1
seq 1 10 >/mnt/thin0/v1
mount -o ro,noload /dev/mapper/snap1 /mnt/snap
test "$(wc -l </mnt/snap/v1)" -eq 50000
dmsetup status pool
umount /mnt/snap /mnt/thin0
dmsetup remove snap1
dmsetup remove thin0
dmsetup remove pool
losetup -d "$meta"; losetup -d "$data"
echo "dm-thin: ok"
