#!/bin/sh
# pml-family: netdev
# pml-summary: a routing lab: dummy interfaces carrying service addresses, a VRF per tenant
#   (random count), routes in each VRF's table, lookups with ip route get
# pml-expect: dummy vrf
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range nvrf 1 3
pml_range nroutes 5 40
pml_param vrfs "$nvrf"; pml_param routes "$nroutes"
i=0
while [ $i -lt "$nvrf" ]; do
	ip link add "tenant$i" type vrf table $((100 + i))
	pml_defer ip link del "tenant$i"
	ip link set "tenant$i" up
	ip link add "svc$i" type dummy
	pml_defer ip link del "svc$i"
	ip link set "svc$i" master "tenant$i" up
	ip addr add "172.16.$i.1/24" dev "svc$i"
	r=0
	while [ $r -lt "$nroutes" ]; do
		ip route add "10.$i.$r.0/24" via "172.16.$i.2" vrf "tenant$i"
		r=$((r + 1))
	done
	ip route get "10.$i.1.5" vrf "tenant$i"
	i=$((i + 1))
done
ip -br link show type vrf
