#!/bin/sh
# pml-family: block
# pml-summary: compressed RAM swap as zram-generator sets it up: load zram, size a device
#   with a random compressor, mkswap, swapon, put memory pressure on it, tear down
# pml-expect: zram zsmalloc
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick alg lzo-rle lzo lz4 zstd lz4hc
pml_range mb 32 128
pml_param algorithm "$alg"; pml_param size_mb "$mb"
case $alg in lz4) pml_expect lz4 lz4_compress ;; lz4hc) pml_expect lz4hc lz4hc_compress ;;
zstd) pml_expect zstd zstd_compress ;; esac
modprobe zram num_devices=1
pml_defer rmmod zram
echo "$alg" > /sys/block/zram0/comp_algorithm
echo "${mb}M" > /sys/block/zram0/disksize
mkswap /dev/zram0 > /dev/null
swapon -p 100 /dev/zram0
pml_defer swapoff /dev/zram0
head -c $((mb * 1024 * 1024 / 4)) /dev/zero | tr '\0' 'a' > /dev/shm/pml-pressure
rm -f /dev/shm/pml-pressure
cat /sys/block/zram0/mm_stat
swapon --show
