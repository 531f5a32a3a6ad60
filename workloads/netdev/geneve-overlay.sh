#!/bin/sh
# pml-family: netdev
# pml-summary: a Geneve tunnel between two namespaces (random VNI, TTL), ping through it
# pml-expect: veth geneve udp_tunnel ip6_udp_tunnel
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_net under
pml_net over
pml_range vni 1 16000000
pml_range ttl 16 64
pml_param vni "$vni"; pml_param ttl "$ttl"
pml_ns_pair ga$$ gb$$ "$under"
ip -n ga$$ link add gnv0 type geneve id "$vni" remote "$under.2" ttl "$ttl"
ip -n gb$$ link add gnv0 type geneve id "$vni" remote "$under.1" ttl "$ttl"
ip -n ga$$ addr add "$over.1/24" dev gnv0; ip -n ga$$ link set gnv0 up
ip -n gb$$ addr add "$over.2/24" dev gnv0; ip -n gb$$ link set gnv0 up
pml_ping ga$$ "$over.2"
echo "geneve: vni $vni ok"
