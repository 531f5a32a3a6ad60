#!/bin/sh
# pml-family: protocols
# pml-summary: an SCTP service (as telecom signalling uses): socat SCTP listener and client
#   on loopback or between namespaces, random port and message sizes, echo and compare
# pml-expect: sctp libcrc32c udp_tunnel ip6_udp_tunnel
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range port 2000 60000
pml_range kb 1 256
pml_pick where loopback loopback netns
pml_param port "$port"; pml_param kb "$kb"; pml_param where "$where"
w=$(mktemp -d /tmp/sctp.XXXXXX)
pml_defer rm -rf "$w"
head -c $((kb * 1024)) /dev/urandom > "$w/tx"
if [ "$where" = netns ]; then
	pml_expect veth
	pml_ns_pair sa$$ sb$$ 10.132.0
	ip netns exec sb$$ socat -u SCTP-LISTEN:"$port",reuseaddr OPEN:"$w/rx",creat &
	pml_srv=$!
	sleep 0.5
	ip netns exec sa$$ socat -u OPEN:"$w/tx" SCTP:10.132.0.2:"$port"
else
	socat -u SCTP-LISTEN:"$port",reuseaddr OPEN:"$w/rx",creat &
	pml_srv=$!
	sleep 0.5
	socat -u OPEN:"$w/tx" SCTP:127.0.0.1:"$port"
fi
wait "$pml_srv"
cmp "$w/tx" "$w/rx" && echo "sctp: $kb KiB ok"
