#!/bin/sh
# pml-family: block
# pml-summary: a disk with per-sector integrity tags (dm-integrity, random checksum),
#   formatted, opened, filled through a filesystem and checked
# pml-expect: loop dm_mod dm_integrity dm_bufio async_xor async_tx xor
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick alg crc32c crc32c sha256 sha1
pml_param integrity "$alg"
w=$(mktemp -d /tmp/integ.XXXXXX)
pml_defer rm -rf "$w"
truncate -s 24M "$w/disk.img"
pml_loopdev dev "$w/disk.img"
integritysetup format -q --integrity "$alg" "$dev"
integritysetup open --integrity "$alg" "$dev" pmlinteg
pml_defer integritysetup close pmlinteg
mkfs.ext4 -q /dev/mapper/pmlinteg
pml_mount /dev/mapper/pmlinteg "$w/mnt"
pml_files "$w/mnt/data" 5 100
(cd "$w/mnt/data" && sha256sum -c MANIFEST > /dev/null)
integritysetup status pmlinteg | grep -E 'integrity|status'
