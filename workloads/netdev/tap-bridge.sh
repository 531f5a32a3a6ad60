#!/bin/sh
# pml-family: netdev
# pml-summary: what a VM host does before starting guests: a bridge with STP by chance, a
#   few TAP devices (random count, multiqueue) enslaved, addresses, a veth uplink
# pml-expect: tun bridge stp llc
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range ntap 1 4
pml_chance stp 40
pml_chance uplink 60
pml_param taps "$ntap"; pml_param stp "$stp"; pml_param uplink "$uplink"
[ "$uplink" -eq 1 ] && pml_expect veth
pml_range n 0 9
br=vmbr$n
ip link add "$br" type bridge stp_state "$stp"
pml_defer ip link del "$br"
ip addr add 192.168.$((100 + n)).1/24 dev "$br"
ip link set "$br" up
i=0
while [ $i -lt "$ntap" ]; do
	ip tuntap add dev "vmtap$i" mode tap
	pml_defer ip link del "vmtap$i"
	ip link set "vmtap$i" master "$br" up
	i=$((i + 1))
done
if [ "$uplink" -eq 1 ]; then
	ip link add vmup0 type veth peer name vmup1
	pml_defer ip link del vmup0
	ip link set vmup0 master "$br" up
fi
bridge link show
