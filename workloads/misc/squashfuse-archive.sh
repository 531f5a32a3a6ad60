#!/bin/sh
# pml-family: misc
# pml-summary: a squashfs archive mounted by an unprivileged-style FUSE driver (squashfuse),
#   files read through FUSE, unmounted with fusermount
# pml-expect: fuse
# pml-packages: squashfuse fuse3
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd squashfuse
pml_pick comp gzip xz zstd
pml_param compressor "$comp"
w=$(mktemp -d /tmp/sqfuse.XXXXXX)
pml_defer rm -rf "$w"
pml_files "$w/src" 6 100
mksquashfs "$w/src" "$w/a.sqfs" -comp "$comp" -quiet -no-progress > /dev/null
mkdir -p "$w/mnt"
squashfuse "$w/a.sqfs" "$w/mnt"
pml_defer "fusermount3 -u $w/mnt || fusermount -u $w/mnt || umount $w/mnt"
(cd "$w/mnt" && sha256sum -c MANIFEST > /dev/null) && echo "squashfuse: ok"
