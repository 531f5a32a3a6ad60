#!/bin/sh
# e2e job: services on transports other than TCP and UDP, with socat's generic sockets: a
# DCCP stream over loopback (as media streaming uses), a CAN frame over a virtual CAN bus
# (raw CAN sockets), a PF_KEY socket dumping the SA database, and a socket inventory with
# ss over every diag family. Debian's kernel does not autoload DCCP (a mitigation patch
# removes its socket aliases): scripts load it by name, as here.
set -eu
lo=7f000001; z=0000000000000000
# sockaddr_in without its family: port (big endian), address, padding
dccp=x1b58$lo$z     # 127.0.0.1:7000

modprobe dccp_ipv4
seq 1 5000 >/tmp/dccp-src
# DCCP: AF_INET, SOCK_DCCP (6), IPPROTO_DCCP (33)
socat -u SOCKET-LISTEN:2:33:$dccp,socktype=6,reuseaddr OPEN:/tmp/dccp-recv,creat,trunc &
l=$!
sleep 0.5
socat -u OPEN:/tmp/dccp-src SOCKET-CONNECT:2:33:$dccp,socktype=6
wait $l
# DCCP does not retransmit: a receiver that falls behind loses packets (its queue is short;
# one run of the benchmark lost the tail this way), so check what came, not that all came
test -s /tmp/dccp-recv
test "$(head -n 1 /tmp/dccp-recv)" = 1

# CAN: a vcan bus, AF_CAN (29), SOCK_RAW (3), CAN_RAW (1); sockaddr_can without its family:
# 2 bytes of padding, the interface index (little endian), 16 bytes of address
ip link add vcan0 type vcan
ip link set vcan0 up
idx=$(cat /sys/class/net/vcan0/ifindex)
can=x0000$(printf '%02x000000' "$idx")$z$z
socat -u -T 5 SOCKET-RECV:29:3:1:$can,readbytes=16 OPEN:/tmp/can-recv,creat,trunc &
c=$!
sleep 0.5
# struct can_frame: id 0x123, 8 data bytes
printf '\043\001\000\000\010\000\000\000\336\255\276\357\001\002\003\004' |
	socat -u - SOCKET-SENDTO:29:3:1:$can
wait $c
test "$(wc -c </tmp/can-recv)" -eq 16

# PF_KEY (15), SOCK_RAW (3), PF_KEY_V2 (2): an SADB_DUMP request (version 2, type 10,
# length 2 64-bit words); the kernel answers on the same socket
printf '\002\012\000\000\002\000\000\000\001\000\000\000\000\000\000\000' |
	socat -u - SOCKET-DATAGRAM:15:3:2:x0000 2>/dev/null || true

ss -s | head -3
ss -a -t -u -w -x -d -0 | wc -l
ip link del vcan0
echo "sockets-rare: ok"
