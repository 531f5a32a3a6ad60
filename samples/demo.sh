#!/bin/sh
# The demo job: what a small infrastructure script does on a fresh machine. Each step needs
# kernel modules the base kernel does not have; under pml run they are loaded as needed.
set -e
echo "== an SCTP socket (sctp, libcrc32c and its crc32c softdep)"
socat -u /dev/null SCTP-CONNECT:127.0.0.1:9 2>/dev/null || echo "   (connection refused, as expected: the socket was made)"
echo "== a FAT image, mounted through a loop device (loop, vfat, fat, nls)"
truncate -s 8M /tmp/img
mkfs.vfat /tmp/img >/dev/null
mkdir -p /mnt/fat
mount -o loop /tmp/img /mnt/fat
echo hello > /mnt/fat/hello.txt
ls -l /mnt/fat
umount /mnt/fat
echo "== a dummy network device (dummy)"
ip link add pml0 type dummy
ip link set pml0 up
ip -br link show pml0
ip link del pml0
echo "== an nftables table with NAT (nf_tables, nft_chain_nat, nf_nat, ...)"
nft add table ip demo
nft add chain ip demo post '{ type nat hook postrouting priority 100; }'
nft add rule ip demo post masquerade
nft list ruleset | head -5
echo "done"
