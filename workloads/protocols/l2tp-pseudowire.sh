#!/bin/sh
# pml-family: protocols
# pml-summary: an L2TPv3 Ethernet pseudowire between two namespaces (UDP or IP
#   encapsulation, random tunnel and session IDs), ping across it
# pml-expect: veth l2tp_core l2tp_netlink l2tp_eth udp_tunnel ip6_udp_tunnel
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick encap udp udp ip
pml_range tid 1 60000
pml_range sid 1 60000
pml_param encap "$encap"; pml_param tunnel_id "$tid"; pml_param session_id "$sid"
[ "$encap" = ip ] && pml_expect l2tp_ip
pml_ns_pair la$$ lb$$ 10.115.0
for side in a:1:2 b:2:1; do
	ns=l${side%%:*}$$; me=$(echo "$side" | cut -d: -f2); peer=${side##*:}
	if [ "$encap" = udp ]; then
		ip -n "$ns" l2tp add tunnel tunnel_id "$tid" peer_tunnel_id "$tid" encap udp \
			local "10.115.0.$me" remote "10.115.0.$peer" udp_sport 5000 udp_dport 5000
	else
		ip -n "$ns" l2tp add tunnel tunnel_id "$tid" peer_tunnel_id "$tid" encap ip \
			local "10.115.0.$me" remote "10.115.0.$peer"
	fi
	ip -n "$ns" l2tp add session name pw0 tunnel_id "$tid" session_id "$sid" peer_session_id "$sid"
	ip -n "$ns" addr add "192.168.115.$me/24" dev pw0
	ip -n "$ns" link set pw0 up
done
pml_ping la$$ 192.168.115.2
ip -n la$$ l2tp show session
