#!/bin/sh
# pml-family: filesystems
# pml-summary: format an SD-card sized exFAT image (random cluster size), copy photos-like
#   files, check them (exfat is what cameras and phones write)
# pml-expect: loop exfat
# pml-packages: exfatprogs
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd mkfs.exfat
pml_pick cluster 4K 32K 128K
pml_range mb 32 96
pml_param cluster "$cluster"; pml_param size_mb "$mb"
pml_pick cs utf8 utf8 iso8859-1
pml_param iocharset "$cs"
[ "$cs" = utf8 ] || pml_expect "nls_$(echo "$cs" | tr - _)"
w=$(mktemp -d /tmp/exfat.XXXXXX)
pml_defer rm -rf "$w"
truncate -s "${mb}M" "$w/card.img"
mkfs.exfat -c "$cluster" -L PMLCARD "$w/card.img" > /dev/null
pml_mount -o "loop,iocharset=$cs" -t exfat "$w/card.img" "$w/mnt"
pml_files "$w/mnt/DCIM" 8 300
(cd "$w/mnt/DCIM" && sha256sum -c MANIFEST > /dev/null)
echo "exfat: ok"
