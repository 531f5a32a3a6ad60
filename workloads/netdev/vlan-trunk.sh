#!/bin/sh
# pml-family: netdev
# pml-summary: an 802.1Q trunk between two namespaces: several VLANs (random IDs, GVRP or
#   MVRP by chance) on a veth, one subnet per VLAN, ping on each
# pml-expect: veth 8021q garp mrp stp llc
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range nvlan 1 4
pml_pick reg none gvrp mvrp
pml_param vlans "$nvlan"; pml_param registration "$reg"
pml_ns_pair ta$$ tb$$ 10.254.254
i=0
while [ $i -lt "$nvlan" ]; do
	pml_range id 2 4094
	pml_param vlan_id "$id"
	extra=""
	[ "$reg" = none ] || extra="$reg on"
	for ns in ta$$ tb$$; do
		ip -n "$ns" link add link ul0 name "v$i" type vlan id "$id" $extra
		ip -n "$ns" link set "v$i" up
	done
	ip -n ta$$ addr add "10.200.$i.1/24" dev "v$i"
	ip -n tb$$ addr add "10.200.$i.2/24" dev "v$i"
	pml_ping ta$$ "10.200.$i.2"
	i=$((i + 1))
done
cat /proc/net/vlan/config 2>/dev/null || ip -n ta$$ -d link show type vlan
