#!/bin/sh
# pml-family: netstorage
# pml-summary: an NFSv4 server (knfsd, v4 only, no rpcbind) exporting a directory and the
#   kernel client mounting it over loopback (minor version, rsize and sync drawn): copy a
#   file set in, check it on the server side
# pml-expect: nfsd nfs nfsv4 sunrpc lockd grace auth_rpcgss rpcsec_gss_krb5 nfs_acl dns_resolver fscache netfs
# pml-packages: nfs-kernel-server
# pml-timeout: 180
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd rpc.nfsd rpc.mountd exportfs mount.nfs4
w=$(mktemp -d /tmp/nfs.XXXXXX)
pml_defer rm -rf "$w"
pml_pick minor 0 1 2
pml_pick rs 32768 65536 131072
pml_pick sy sync async
pml_param minorversion "$minor"; pml_param rsize "$rs"; pml_param export_sync "$sy"
mkdir -p "$w/export" /var/lib/nfs/v4recovery
mountpoint -q /proc/fs/nfsd || { mount -t nfsd nfsd /proc/fs/nfsd; pml_defer umount /proc/fs/nfsd; }
exportfs -o rw,$sy,no_root_squash,no_subtree_check,insecure,fsid=0 127.0.0.1:"$w/export"
pml_defer exportfs -ua
rpc.mountd -N 2 -N 3 --no-udp
pml_defer "pkill -x rpc.mountd"
rpc.nfsd -N 3 -V 4 --no-udp 4
pml_defer "rpc.nfsd 0"
pml_mount -t nfs4 -o vers=4.$minor,rsize=$rs,wsize=$rs,proto=tcp 127.0.0.1:/ "$w/mnt"
pml_range nf 2 8
pml_files "$w/mnt/data" $nf 200
sync
(cd "$w/export/data" && sha256sum -c MANIFEST > /dev/null)
umount "$w/mnt"
echo ok
