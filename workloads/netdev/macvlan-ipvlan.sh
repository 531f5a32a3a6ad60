#!/bin/sh
# pml-family: netdev
# pml-summary: give containers their own addresses on a parent link: macvlan (random mode)
#   or ipvlan (L2/L3) sub-interfaces moved into namespaces, ping between them
# pml-expect: dummy
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick kind macvlan macvlan ipvlan
case $kind in macvlan) pml_pick mode bridge private vepa passthru bridge ;;
ipvlan) pml_pick mode l2 l3 ;; esac
[ "$kind" = macvlan ] && [ "$mode" = passthru ] && mode=bridge
pml_net net
pml_param kind "$kind"; pml_param mode "$mode"; pml_param net "$net"
pml_expect "$kind"
ip link add parent0 type dummy
pml_defer ip link del parent0
ip link set parent0 up
for i in 1 2; do
	pml_netns c$i$$
	ip link add "sub$i" link parent0 type "$kind" mode "$mode"
	ip link set "sub$i" netns c$i$$
	ip -n c$i$$ addr add "$net.$i/24" dev "sub$i"
	ip -n c$i$$ link set "sub$i" up
done
if [ "$kind" = macvlan ] && [ "$mode" = bridge ]; then
	pml_ping c1$$ "$net.2"
fi
ip -n c1$$ -d link show sub1 | grep -o "$kind mode [a-z0-9]*"
