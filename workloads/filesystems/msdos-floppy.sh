#!/bin/sh
# pml-family: filesystems
# pml-summary: build a 1.44 MB DOS floppy image (8.3 names, msdos driver) with a boot
#   config and some files, check it back read-only
# pml-expect: loop msdos fat nls_cp437
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick size 720 1440 2880
pml_range nfiles 2 8
pml_param size_kb "$size"; pml_param files "$nfiles"
w=$(mktemp -d /tmp/floppy.XXXXXX)
pml_defer rm -rf "$w"
dd if=/dev/zero of="$w/floppy.img" bs=1k count="$size" 2>/dev/null
mkfs.fat -F 12 -n FLOPPY "$w/floppy.img" > /dev/null
pml_mount -o loop -t msdos "$w/floppy.img" "$w/mnt"
printf '[boot]\ndevice=%s\n' "$size" > "$w/mnt/CONFIG.SYS"
i=0
while [ $i -lt "$nfiles" ]; do
	head -c $((i * 1000 + 100)) /dev/urandom > "$w/mnt/DATA$i.BIN"; i=$((i + 1))
done
(cd "$w/mnt" && sha256sum -- * > ../sums)
umount "$w/mnt"
mount -o loop,ro -t msdos "$w/floppy.img" "$w/mnt"
(cd "$w/mnt" && sha256sum -c ../sums > /dev/null)
ls "$w/mnt"
