#!/bin/sh
# pml-family: filesystems
# pml-summary: format a UDF image (random revision) with mkudffs, write and read back
#   files, as for a writable optical or cross-platform disk
# pml-expect: loop udf crc_itu_t cdrom
# pml-packages: udftools
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd mkudffs
pml_pick rev 1.02 1.50 2.01
pml_range mb 16 64
pml_param revision "$rev"; pml_param size_mb "$mb"
w=$(mktemp -d /tmp/udf.XXXXXX)
pml_defer rm -rf "$w"
truncate -s "${mb}M" "$w/disc.udf"
mkudffs --media-type=hd --udfrev="$rev" --label=PMLDISC "$w/disc.udf" > /dev/null
pml_mount -o loop -t udf "$w/disc.udf" "$w/mnt"
pml_files "$w/mnt/media" 5 200
sync
(cd "$w/mnt/media" && sha256sum -c MANIFEST > /dev/null)
echo "udf $rev: ok"
