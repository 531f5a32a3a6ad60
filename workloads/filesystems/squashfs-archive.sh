#!/bin/sh
# pml-family: filesystems
# pml-summary: pack a directory tree into a squashfs archive with a random compressor and
#   block size, mount it and check every file
# pml-expect: loop squashfs
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick comp gzip xz lzo lz4 zstd
pml_pick bs 4K 16K 64K 128K 1M
pml_range nfiles 5 40
pml_param compressor "$comp"; pml_param block "$bs"; pml_param files "$nfiles"
w=$(mktemp -d /tmp/sqfs.XXXXXX)
pml_defer rm -rf "$w"
pml_files "$w/tree/data" "$nfiles" 100
cp -r /etc/apt "$w/tree/" 2>/dev/null || true
mksquashfs "$w/tree" "$w/tree.sqfs" -comp "$comp" -b "$bs" -no-progress -quiet > /dev/null
pml_mount -o loop,ro -t squashfs "$w/tree.sqfs" "$w/mnt"
(cd "$w/mnt/data" && sha256sum -c MANIFEST > /dev/null)
echo "squashfs: $(du -k "$w/tree.sqfs" | cut -f1) KiB, $nfiles files checked"
