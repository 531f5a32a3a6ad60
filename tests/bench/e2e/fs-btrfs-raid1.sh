#!/bin/sh
# e2e job: a mirrored data volume. btrfs over two loop devices with raid1 data and
# metadata and xxhash checksums, mounted with lzo compression; a subvolume written, the
# filesystem scrubbed, its usage reported per device, and it mounted degraded-free again.
set -eu
for i in 0 1; do truncate -s 160M /tmp/disk$i.img; done
d0=$(losetup -f --show /tmp/disk0.img)
d1=$(losetup -f --show /tmp/disk1.img)
mkfs.btrfs -q -f -L mirror -d raid1 -m raid1 --csum xxhash "$d0" "$d1" >/dev/null
btrfs device scan "$d0" "$d1" >/dev/null
mkdir -p /mnt/mirror
mount -t btrfs -o compress=lzo,noatime,space_cache=v2 "$d0" /mnt/mirror
btrfs subvolume create /mnt/mirror/data >/dev/null
for i in 1 2 3 4; do
	seq 1 20000 >/mnt/mirror/data/log$i.txt
done
dd if=/dev/urandom of=/mnt/mirror/data/blob bs=64k count=8 2>/dev/null
sync
btrfs scrub start -B /mnt/mirror >/dev/null
btrfs device usage /mnt/mirror | grep -c 'Device size'
umount /mnt/mirror
mount -t btrfs -o ro "$d1" /mnt/mirror
sha256sum /mnt/mirror/data/log1.txt >/dev/null
umount /mnt/mirror
losetup -d "$d0"; losetup -d "$d1"
echo "btrfs-raid1: ok"
