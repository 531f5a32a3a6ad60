#!/bin/sh
# pml-family: netdev
# pml-summary: a bonded link (random mode, miimon) of two veth slaves into a peer namespace,
#   traffic, take a slave down, traffic again
# pml-expect: bonding veth tls
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick mode active-backup active-backup balance-rr balance-xor broadcast
pml_pick miimon 50 100 200
pml_param mode "$mode"; pml_param miimon "$miimon"
pml_range bn 1 99
bond=bond$bn
pml_param bond "$bond"
pml_netns peer$$
ip link add "$bond" type bond mode "$mode" miimon "$miimon"
pml_defer ip link del "$bond"
ip -n peer$$ link add br0 type bridge
pml_expect bridge stp llc
for i in 0 1; do
	ip link add "bs$i" type veth peer name "pe$i" netns peer$$
	ip link set "bs$i" master "$bond"
	ip -n peer$$ link set "pe$i" master br0 up
done
ip -n peer$$ addr add 10.99.0.2/24 dev br0
ip -n peer$$ link set br0 up
ip addr add 10.99.0.1/24 dev "$bond"
ip link set "$bond" up
sleep 0.5
$PML_PING -c 2 -W 2 10.99.0.2 > /dev/null
ip link set bs0 down
sleep 0.3
$PML_PING -c 2 -W 2 10.99.0.2 > /dev/null || echo "bond: no failover in mode $mode"
grep -E 'Bonding Mode|Currently Active' "/proc/net/bonding/$bond"
