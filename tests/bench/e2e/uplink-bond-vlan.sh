#!/bin/sh
# e2e job: a virtualization host's uplink. Two veth links bonded with LACP (802.3ad) on both
# ends, a tagged VLAN on the bond, and two containers (namespaces) with macvlan interfaces
# in bridge mode on that VLAN; the containers reach the switch side and each other.
set -eu
# the bond is not called bond0: loading the bonding module creates a bond0 of its own
ip netns add sw; ip netns add c1; ip netns add c2
for n in sw c1 c2; do ip -n $n link set lo up; done
ip link add up0 type bond mode 802.3ad miimon 100 lacp_rate fast
ip -n sw link add up0 type bond mode 802.3ad miimon 100 lacp_rate fast
for i in 0 1; do
	ip link add e$i type veth peer name e$i netns sw
	ip link set e$i master up0
	ip -n sw link set e$i master up0
done
ip link set up0 up; ip -n sw link set up0 up
ip link add link up0 name up0.42 type vlan id 42
ip -n sw link add link up0 name up0.42 type vlan id 42
ip link set up0.42 up
ip -n sw addr add 10.87.42.1/24 dev up0.42; ip -n sw link set up0.42 up
for c in 1 2; do
	ip link add mv$c link up0.42 type macvlan mode bridge
	ip link set mv$c netns c$c
	ip -n c$c addr add 10.87.42.1$c/24 dev mv$c
	ip -n c$c link set mv$c up
done
# LACP needs a few fast periods to aggregate
i=0
until ip netns exec c1 busybox ping -c 1 -W 1 10.87.42.1 >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 20 ] || { echo "no path through the bond" >&2; exit 1; }
	sleep 0.3
done
ip netns exec c2 busybox ping -c 2 -i 0.2 -W 2 10.87.42.1 >/dev/null
ip netns exec c1 busybox ping -c 2 -i 0.2 -W 2 10.87.42.12 >/dev/null
grep -E 'Bonding Mode|Aggregator ID' /proc/net/bonding/up0 | head -3
for n in sw c1 c2; do ip netns del $n; done
ip link del up0.42; ip link del up0
echo "uplink-bond-vlan: ok"
