#!/bin/sh
# pml-family: filesystems
# pml-summary: make a FAT image (FAT12/16/32, random size), mount it through a loop device
#   with a random codepage and charset, copy a file set in, remount, check the manifest
# pml-expect: loop vfat fat
# pml-packages:
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick bits 12 16 32
case $bits in 12) mb=4 ;; 16) pml_range mb 16 64 ;; 32) pml_range mb 40 96 ;; esac
pml_pick cp 437 850 437 852 866
pml_pick cs ascii utf8 iso8859-1 iso8859-15 ascii
pml_range nfiles 3 25
pml_param fat_bits "$bits"; pml_param size_mb "$mb"; pml_param codepage "$cp"
pml_param iocharset "$cs"; pml_param files "$nfiles"
pml_expect "nls_cp$cp" "nls_$(echo "$cs" | tr - _)"
w=$(mktemp -d /tmp/vfat.XXXXXX)
pml_defer rm -rf "$w"
pml_files "$w/src" "$nfiles" 200
truncate -s "${mb}M" "$w/fat.img"
pml_step mkfs
mkfs.fat -F "$bits" -n PMLDATA "$w/fat.img" > /dev/null
pml_sleep
pml_step mount
pml_mount -o "loop,codepage=$cp,iocharset=$cs" -t vfat "$w/fat.img" "$w/mnt"
cp -r "$w/src" "$w/mnt/backup"
sync
umount "$w/mnt"
pml_step verify
mount -o "loop,ro,codepage=$cp,iocharset=$cs" "$w/fat.img" "$w/mnt"
(cd "$w/mnt/backup" && sha256sum -c MANIFEST > /dev/null)
df -h "$w/mnt" | tail -1
echo "vfat: $nfiles files verified on FAT$bits"
