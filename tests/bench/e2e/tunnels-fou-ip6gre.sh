#!/bin/sh
# e2e job: tunnels across a routed underlay between two namespaces: IPIP encapsulated in
# UDP (FOU), GRE encapsulated in GUE, and GRE over IPv6 (ip6gre); a ping through each.
set -eu
ip netns add ta; ip netns add tb
ip link add ul netns ta type veth peer name ul netns tb
ip -n ta addr add 10.81.0.1/24 dev ul; ip -n tb addr add 10.81.0.2/24 dev ul
ip -n ta -6 addr add fd81::1/64 dev ul nodad; ip -n tb -6 addr add fd81::2/64 dev ul nodad
for n in ta tb; do ip -n $n link set lo up; ip -n $n link set ul up; done

tun() { # NS LOCAL REMOTE NAME OVERLAY-ADDR ARGS...
	ns=$1 l=$2 r=$3 name=$4 addr=$5
	shift 5
	ip -n "$ns" link add "$name" "$@" local "$l" remote "$r"
	ip -n "$ns" addr add "$addr" dev "$name"
	ip -n "$ns" link set "$name" up
}
# fou has no module alias in 6.1 (nothing autoloads it): scripts load it by name
modprobe fou
for ns in ta tb; do
	ip -n $ns fou add port 5555 ipproto 4
	ip -n $ns fou add port 5556 gue
done
tun ta 10.81.0.1 10.81.0.2 fou0 10.82.0.1/30 type ipip encap fou encap-sport auto encap-dport 5555
tun tb 10.81.0.2 10.81.0.1 fou0 10.82.0.2/30 type ipip encap fou encap-sport auto encap-dport 5555
tun ta 10.81.0.1 10.81.0.2 gue0 10.83.0.1/30 type gre encap gue encap-sport auto encap-dport 5556
tun tb 10.81.0.2 10.81.0.1 gue0 10.83.0.2/30 type gre encap gue encap-sport auto encap-dport 5556
tun ta fd81::1 fd81::2 g6 10.84.0.1/30 type ip6gre
tun tb fd81::2 fd81::1 g6 10.84.0.2/30 type ip6gre
for dst in 10.82.0.2 10.83.0.2 10.84.0.2; do
	ip netns exec ta busybox ping -c 2 -i 0.2 -W 2 $dst >/dev/null
done
ip -n ta -s link show fou0 | grep -A1 TX: | tail -1
ip netns del ta; ip netns del tb
echo "tunnels-fou-ip6gre: ok"
