#!/bin/sh
# pml-family: netdev
# pml-summary: a site-to-site tunnel of a random kind (IPIP, GRE, GRETAP, SIT, IP6IP6)
#   between two namespaces, ping through it
# pml-expect: veth
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick kind ipip gre gretap sit ip6tnl
pml_net under
pml_param kind "$kind"; pml_param underlay "$under"
case $kind in
ipip) pml_expect ipip tunnel4 ip_tunnel ;;
gre|gretap) pml_expect ip_gre gre ip_tunnel ;;
sit) pml_expect sit tunnel4 ip_tunnel ;;
ip6tnl) pml_expect ip6_tunnel tunnel6 ;;
esac
pml_ns_pair ta$$ tb$$ "$under"
if [ "$kind" = ip6tnl ]; then
	ip -n ta$$ addr add fd00:1::1/64 dev ul0 nodad; ip -n tb$$ addr add fd00:1::2/64 dev ul0 nodad
	ip -n ta$$ link add tun0 type ip6tnl mode ip6ip6 local fd00:1::1 remote fd00:1::2
	ip -n tb$$ link add tun0 type ip6tnl mode ip6ip6 local fd00:1::2 remote fd00:1::1
	ip -n ta$$ addr add fd00:2::1/64 dev tun0 nodad; ip -n tb$$ addr add fd00:2::2/64 dev tun0 nodad
	ip -n ta$$ link set tun0 up; ip -n tb$$ link set tun0 up
	sleep 0.3
	ip netns exec ta$$ $PML_PING -c 2 -W 2 fd00:2::2 > /dev/null
else
	ip -n ta$$ link add tun0 type "$kind" local "$under.1" remote "$under.2"
	ip -n tb$$ link add tun0 type "$kind" local "$under.2" remote "$under.1"
	ip -n ta$$ addr add 192.168.77.1/30 dev tun0; ip -n tb$$ addr add 192.168.77.2/30 dev tun0
	ip -n ta$$ link set tun0 up; ip -n tb$$ link set tun0 up
	pml_ping ta$$ 192.168.77.2
fi
ip -n ta$$ -d link show tun0 | sed -n 3p
