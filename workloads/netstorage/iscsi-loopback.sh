#!/bin/sh
# pml-family: netstorage
# pml-summary: an iSCSI target (tgt) exporting a file-backed LUN of a drawn size, and the
#   open-iscsi initiator logging in over loopback: discovery, login, a file system on the
#   new SCSI disk, files, logout (tgtd also loads the RDMA stack for its iSER driver)
# pml-expect: iscsi_tcp libiscsi_tcp libiscsi scsi_transport_iscsi scsi_mod scsi_common sd_mod t10_pi crc_t10dif crct10dif_common crct10dif_generic crct10dif_pclmul crc64_rocksoft crc64_rocksoft_generic crc64 configfs ib_core ib_cm ib_uverbs iw_cm rdma_cm rdma_ucm
# pml-packages: tgt open-iscsi
# pml-timeout: 180
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd tgtd tgtadm iscsid iscsiadm
w=$(mktemp -d /tmp/iscsi.XXXXXX)
pml_defer rm -rf "$w"
pml_range mb 32 128
pml_range port 3260 3290
pml_param size_mb "$mb"; pml_param port "$port"
iqn=iqn.2026-12.org.pml:disk$$
truncate -s ${mb}M "$w/lun.img"
tgtd --iscsi portal=127.0.0.1:$port
pml_defer "tgtadm --op update --mode sys --name State -v offline; tgtadm --op delete --mode system"
sleep 0.5
tgtadm --lld iscsi --op new --mode target --tid 1 -T $iqn
tgtadm --lld iscsi --op new --mode logicalunit --tid 1 --lun 1 -b "$w/lun.img"
tgtadm --lld iscsi --op bind --mode target --tid 1 -I ALL
mkdir -p /run/lock/iscsi /var/lib/iscsi
[ -s /etc/iscsi/initiatorname.iscsi ] || echo "InitiatorName=$(iscsi-iname)" > /etc/iscsi/initiatorname.iscsi
# No udev in the guest: a stock system's udev loads the disk driver from the new SCSI
# device's modalias (scsi:t-0x00); here the job does it, as on a system without udev.
modprobe sd_mod
iscsid
pml_defer "iscsiadm -k 0 2>/dev/null || pkill -x iscsid"
iscsiadm -m discovery -t sendtargets -p 127.0.0.1:$port > /dev/null
iscsiadm -m node -T $iqn -p 127.0.0.1:$port --login > /dev/null
pml_defer "iscsiadm -m node -T $iqn -p 127.0.0.1:$port --logout; iscsiadm -m node -o delete -T $iqn"
i=0; dev=""
while [ -z "$dev" ] && [ $i -lt 50 ]; do
	dev=$(ls -d /sys/class/iscsi_session/session*/device/target*/*/block/* 2>/dev/null | head -1)
	sleep 0.2; i=$((i + 1))
done
[ -n "$dev" ] || pml_die "no disk after login"
dev=/dev/$(basename "$dev")
mkfs.ext4 -q -F "$dev"
pml_mount "$dev" "$w/mnt"
pml_range nf 2 8
pml_files "$w/mnt/data" $nf 300
sync
(cd "$w/mnt/data" && sha256sum -c MANIFEST > /dev/null)
umount "$w/mnt"
echo ok
