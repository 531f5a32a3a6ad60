#!/bin/sh
# pml-family: composite
# pml-summary: preparing a hypervisor host's network: a bridge with VLAN filtering, tagged
#   TAP ports for guests, a bond uplink of two veths into a "switch" namespace, netem on
#   one guest port to emulate a remote site, an nftables filter on the bridge
# pml-expect: bridge stp llc tun bonding veth sch_netem nf_tables nfnetlink
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range nvm 1 3
pml_pick bmode active-backup balance-xor
pml_range delay 10 60
pml_param vms "$nvm"; pml_param bond_mode "$bmode"; pml_param delay_ms "$delay"
pml_expect tls
ip link add hvbr type bridge vlan_filtering 1
pml_defer ip link del hvbr
ip link set hvbr up
pml_netns sw$$
ip link add hvbond type bond mode "$bmode" miimon 100
pml_defer ip link del hvbond
for i in 0 1; do
	ip link add "up$i" type veth peer name "sw$i" netns sw$$
	ip link set "up$i" master hvbond
	ip -n sw$$ link set "sw$i" up
done
ip link set hvbond master hvbr up
i=0
while [ $i -lt "$nvm" ]; do
	pml_range vid 10 4000
	ip tuntap add dev "vm$i" mode tap
	pml_defer ip link del "vm$i"
	ip link set "vm$i" master hvbr up
	bridge vlan add dev "vm$i" vid "$vid" pvid untagged
	bridge vlan add dev hvbond vid "$vid"
	i=$((i + 1))
done
tc qdisc add dev vm0 root netem delay "${delay}ms"
nft add table bridge hvfilter
pml_defer nft delete table bridge hvfilter
nft add chain bridge hvfilter brforward '{ type filter hook forward priority 0; }'
nft add rule bridge hvfilter brforward ether type arp accept
bridge vlan show | head -8
