#!/bin/sh
# e2e job: a shared home volume with disk quotas. An ext4 image on a loop device made with
# the quota and project features (user, group and project quota inodes), mounted with a
# full data journal; files written for three users and a project directory, usage read
# back, the volume checked with e2fsck after unmount.
set -eu
img=/tmp/home.img
truncate -s 48M "$img"
mkfs.ext4 -q -F -L home -O quota,project -E quotatype=usrquota:grpquota:prjquota "$img"
dev=$(losetup -f --show "$img")
mkdir -p /mnt/home
mount -t ext4 -o data=journal,noatime,errors=remount-ro,commit=5 "$dev" /mnt/home
for u in 1001 1002 1003; do
	mkdir /mnt/home/u$u
	dd if=/dev/zero of=/mnt/home/u$u/data bs=64k count=$((u - 996)) 2>/dev/null
	chown -R $u:100 /mnt/home/u$u
done
mkdir /mnt/home/project
chattr +P -p 42 /mnt/home/project
dd if=/dev/urandom of=/mnt/home/project/blob bs=64k count=4 2>/dev/null
lsattr -p -d /mnt/home/project
du -sk /mnt/home/*
sync
umount /mnt/home
losetup -d "$dev"
e2fsck -f -n "$img"
tune2fs -l "$img" | grep -E 'features|quota'
echo "ext4-quota: ok"
