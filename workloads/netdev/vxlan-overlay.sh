#!/bin/sh
# pml-family: netdev
# pml-summary: a VXLAN overlay between two namespaces over a veth underlay (random VNI,
#   port, unicast or multicast-free static FDB), ping across the overlay
# pml-expect: veth vxlan udp_tunnel ip6_udp_tunnel
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_net under
pml_net over
pml_range vni 1 16000000
pml_pick port 4789 8472
pml_param underlay "$under"; pml_param overlay "$over"; pml_param vni "$vni"
pml_param port "$port"
pml_ns_pair va$$ vb$$ "$under"
for side in a:1:2 b:2:1; do
	ns=v${side%%:*}$$; me=$(echo "$side" | cut -d: -f2); peer=${side##*:}
	ip -n "$ns" link add vx0 type vxlan id "$vni" dstport "$port" local "$under.$me" \
		remote "$under.$peer" dev ul0
	ip -n "$ns" addr add "$over.$me/24" dev vx0
	ip -n "$ns" link set vx0 up
done
pml_ping va$$ "$over.2"
ip -n va$$ -d link show vx0 | grep -o 'vxlan id [0-9]*'
