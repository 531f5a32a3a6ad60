#!/bin/sh
# pml-family: netfilter
# pml-summary: a NAT gateway: a router namespace between a LAN and a WAN namespace with an
#   nftables masquerade (or SNAT) ruleset, clients on the LAN reach a WAN server over TCP
# pml-expect: veth nf_tables nfnetlink nft_chain_nat nf_nat nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6 libcrc32c
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick how masquerade snat
pml_range port 1000 9000
pml_param nat "$how"; pml_param port "$port"
if [ "$how" = masquerade ]; then pml_expect nft_masq; else pml_expect nft_nat; fi
pml_netns lan$$; pml_netns gw$$; pml_netns wan$$
ip link add l0 netns lan$$ type veth peer name gl0 netns gw$$
ip link add w0 netns wan$$ type veth peer name gw0 netns gw$$
ip -n lan$$ addr add 192.168.1.10/24 dev l0; ip -n lan$$ link set l0 up
ip -n lan$$ route add default via 192.168.1.1
ip -n gw$$ addr add 192.168.1.1/24 dev gl0; ip -n gw$$ link set gl0 up
ip -n gw$$ addr add 203.0.113.1/24 dev gw0; ip -n gw$$ link set gw0 up
ip -n wan$$ addr add 203.0.113.80/24 dev w0; ip -n wan$$ link set w0 up
ip netns exec gw$$ sysctl -qw net.ipv4.ip_forward=1
if [ "$how" = masquerade ]; then
	rule="oifname gw0 masquerade"
else
	rule="oifname gw0 snat to 203.0.113.1"
fi
ip netns exec gw$$ nft -f - <<EON
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		$rule
	}
}
EON
ip netns exec wan$$ socat TCP-LISTEN:"$port",reuseaddr 'SYSTEM:echo $SOCAT_PEERADDR' &
pml_srv=$!
sleep 0.4
seen=$(ip netns exec lan$$ socat -u TCP:203.0.113.80:"$port" -)
wait "$pml_srv"
echo "server saw $seen"
[ "$seen" = 203.0.113.1 ]
ip netns exec gw$$ nft list ruleset | head -3
