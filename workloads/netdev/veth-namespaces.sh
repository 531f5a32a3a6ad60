#!/bin/sh
# pml-family: netdev
# pml-summary: two network namespaces joined by a veth pair (random addresses, MTU), ping
#   and a TCP transfer with socat between them
# pml-expect: veth
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_net net
pml_pick mtu 1500 1400 9000
pml_param net "$net"; pml_param mtu "$mtu"
pml_ns_pair pa$$ pb$$ "$net"
ip -n pa$$ link set ul0 mtu "$mtu"; ip -n pb$$ link set ul0 mtu "$mtu"
pml_ping pa$$ "$net.2"
ip netns exec pb$$ socat -u TCP-LISTEN:7000,reuseaddr OPEN:/tmp/rx$$,creat &
pml_srv=$!
sleep 0.3
head -c 200000 /dev/urandom > /tmp/tx$$
ip netns exec pa$$ socat -u OPEN:/tmp/tx$$ TCP:"$net.2":7000
wait "$pml_srv"
cmp /tmp/tx$$ /tmp/rx$$ && echo "veth: transfer ok"
rm -f /tmp/tx$$ /tmp/rx$$
