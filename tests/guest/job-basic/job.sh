#!/bin/sh
# Guest test job (reactive, can denied by the run's policy file): each step needs modules
# the base kernel lacks; the host checks the report.
./sockopen 2 1 132                 # AF_INET, SOCK_STREAM, IPPROTO_SCTP -> sctp
./sockopen 29 3 1                  # AF_CAN, SOCK_RAW, CAN_RAW -> can: denied by policy
truncate -s 8M /tmp/img
mkfs.vfat /tmp/img >/dev/null
mkdir -p /mnt/fat
mount -o loop /tmp/img /mnt/fat && echo mounted-vfat
umount /mnt/fat
ip link show nosuchdev0 2>/dev/null || echo no-such-dev
echo to-stderr >&2
exit 7
