#!/bin/sh
# e2e job: a camera card exchanged with a Western-European Windows machine. A FAT32 image on
# a loop device mounted with a DOS codepage and an ISO-8859-15 I/O charset (utf8=0: the
# kernel's default is UTF-8 names), files with accented names written, then the card
# mounted again as a UTF-8 system would and the names listed; fsck.vfat checks it.
set -eu
img=/tmp/card.img
truncate -s 40M "$img"
mkfs.vfat -F 32 -n CAMERA -s 1 "$img" >/dev/null
dev=$(losetup -f --show "$img")
mkdir -p /mnt/card
mount -t vfat -o codepage=850,iocharset=iso8859-15,utf8=0,shortname=winnt,uid=1000,gid=1000,umask=022 "$dev" /mnt/card
mkdir /mnt/card/DCIM
for i in 1 2 3 4 5; do
	# "caf\xe9-N.jpg" in ISO-8859-15
	name=$(printf 'DCIM/caf\351-%d.jpg' "$i")
	dd if=/dev/urandom of="/mnt/card/$name" bs=16k count=$i 2>/dev/null
done
printf 'r\351sum\351\n' >"/mnt/card/$(printf 'notes-\244.txt')"
ls /mnt/card/DCIM | wc -l
umount /mnt/card
mount -t vfat -o iocharset=utf8,ro "$dev" /mnt/card
ls /mnt/card /mnt/card/DCIM
umount /mnt/card
losetup -d "$dev"
fsck.vfat -n "$img"
echo "vfat-charsets: ok"
