#!/bin/sh
# pml-family: protocols
# pml-summary: TIPC node-local messaging: load tipc (it has no socket alias in 6.1, so
#   its service scripts modprobe it), give the node an identity with the tipc tool, a
#   service bound by name, datagrams sent to it by name, the name table listed
# pml-expect: tipc udp_tunnel ip6_udp_tunnel
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range type 1000 60000
pml_range inst 0 100
pml_range count 3 20
pml_param type "$type"; pml_param instance "$inst"; pml_param count "$count"
modprobe tipc
if command -v tipc > /dev/null; then
	pml_hex id 4
	tipc node set identity "pml$id" 2>/dev/null || true
fi
"$(pml_tool tipcmsg)" "$type" "$inst" "$count"
command -v tipc > /dev/null && tipc nametable show | head -5 || true
