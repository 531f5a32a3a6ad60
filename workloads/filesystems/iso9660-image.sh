#!/bin/sh
# pml-family: filesystems
# pml-summary: master an ISO 9660 image (Rock Ridge, Joliet by chance) with xorriso, loop
#   mount it and verify the contents, as a release pipeline does for install media
# pml-expect: loop isofs cdrom
# pml-packages: xorriso
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd xorriso
pml_range nfiles 3 20
pml_chance joliet 50
pml_param files "$nfiles"; pml_param joliet "$joliet"
w=$(mktemp -d /tmp/iso.XXXXXX)
pml_defer rm -rf "$w"
pml_files "$w/cd/pool" "$nfiles" 150
echo "PML release $(date +%s)" > "$w/cd/README"
j=""
[ "$joliet" -eq 1 ] && j="-joliet on"
xorriso -outdev "$w/release.iso" -volid PMLREL $j -map "$w/cd" / -commit > /dev/null 2>&1
pml_mount -o loop,ro "$w/release.iso" "$w/mnt"
(cd "$w/mnt/pool" && sha256sum -c MANIFEST > /dev/null)
echo "iso: $nfiles files verified"
