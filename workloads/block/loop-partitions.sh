#!/bin/sh
# pml-family: block
# pml-summary: partition a disk image (GPT or MBR, random layout) with sfdisk, attach it
#   with partition scanning, make filesystems on the partitions, mount one and write
# pml-expect: loop
# pml-packages: fdisk
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick label gpt dos
pml_range nparts 2 4
pml_param label "$label"; pml_param partitions "$nparts"
w=$(mktemp -d /tmp/disk.XXXXXX)
pml_defer rm -rf "$w"
truncate -s 128M "$w/disk.img"
{
	echo "label: $label"
	i=1
	while [ $i -lt "$nparts" ]; do echo ",24M"; i=$((i + 1)); done
	echo ","
} | sfdisk -q "$w/disk.img"
dev=$(losetup -f --show -P "$w/disk.img")
pml_defer losetup -d "$dev"
sleep 0.3
ls "${dev}"p* 
mkfs.ext4 -q "${dev}p1"
pml_mount "${dev}p1" "$w/mnt"
pml_files "$w/mnt/data" 5 100
(cd "$w/mnt/data" && sha256sum -c MANIFEST > /dev/null)
