#!/bin/sh
# pml-family: block
# pml-summary: export a disk image with nbd-server on localhost and attach it with
#   nbd-client (random port and export name), make a filesystem over NBD, write, detach
# pml-expect: nbd
# pml-packages: nbd-server nbd-client
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd nbd-server nbd-client
pml_range port 10809 10900
pml_pick export data backup scratch
pml_param port "$port"; pml_param export "$export"
w=$(mktemp -d /tmp/nbd.XXXXXX)
pml_defer rm -rf "$w"
truncate -s 64M "$w/export.img"
cat > "$w/config" <<EOC
[generic]
user = root
group = root
port = $port
[$export]
exportname = $w/export.img
EOC
nbd-server -C "$w/config" -p "$w/pid"
pml_defer 'kill $(cat '"$w"'/pid)'
sleep 0.5
# nbd has no alias to autoload it by: nbd-client's service unit loads it.
modprobe nbd nbds_max=4
[ -e /dev/nbd0 ] || mknod /dev/nbd0 b 43 0
nbd-client -L -N "$export" 127.0.0.1 "$port" /dev/nbd0
pml_defer nbd-client -d /dev/nbd0
mkfs.ext4 -q /dev/nbd0
pml_mount /dev/nbd0 "$w/mnt"
pml_files "$w/mnt/data" 4 100
(cd "$w/mnt/data" && sha256sum -c MANIFEST > /dev/null)
echo "nbd: ok"
