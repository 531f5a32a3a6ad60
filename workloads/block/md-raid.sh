#!/bin/sh
# pml-family: block
# pml-summary: software RAID with mdadm over loop devices (random level and member count),
#   filesystem on the array, write, fail and remove a member where the level allows, stop
# pml-expect: loop md_mod
# pml-packages: mdadm
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd mdadm
pml_pick level 0 1 1 10 5
case $level in 0|1) pml_range n 2 3 ;; 10) n=4 ;; 5) pml_range n 3 4 ;; esac
pml_param level "$level"; pml_param members "$n"
case $level in 0) pml_expect raid0 ;; 1) pml_expect raid1 ;; 10) pml_expect raid10 ;;
5) pml_expect raid456 async_raid6_recov async_memcpy async_pq async_xor async_tx xor raid6_pq libcrc32c ;;
esac
w=$(mktemp -d /tmp/md.XXXXXX)
pml_defer rm -rf "$w"
devs=""
i=0
while [ $i -lt "$n" ]; do
	truncate -s 64M "$w/m$i.img"
	pml_loopdev d "$w/m$i.img"
	devs="$devs $d"
	i=$((i + 1))
done
mkdir -p /run/mdadm
mdadm --create /dev/md/pml --run --force --metadata=1.2 --level="$level" \
	--raid-devices="$n" $devs > /dev/null 2>&1
pml_defer mdadm --stop /dev/md/pml
mkfs.ext4 -q /dev/md/pml
pml_mount /dev/md/pml "$w/mnt"
pml_files "$w/mnt/data" 5 100
sync
if [ "$level" != 0 ]; then
	set -- $devs
	mdadm /dev/md/pml --fail "$1" > /dev/null 2>&1
fi
(cd "$w/mnt/data" && sha256sum -c MANIFEST > /dev/null)
cat /proc/mdstat
