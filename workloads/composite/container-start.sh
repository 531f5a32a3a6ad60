#!/bin/sh
# pml-family: composite
# pml-summary: what a container runtime does to start a container: an overlay root from
#   image layers, a network namespace, a veth into a host bridge, NAT for the container's
#   subnet with nftables, port publishing by chance, then the "container" process runs
#   and talks to the host; steps in the order runtimes use, details random
# pml-expect: overlay veth bridge stp llc nf_tables nfnetlink nft_chain_nat nf_nat nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6 libcrc32c nft_masq
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range nlayers 1 3
pml_range sub 1 250
pml_chance publish 50
pml_param layers "$nlayers"; pml_param subnet "172.30.$sub.0/24"; pml_param publish "$publish"
w=$(mktemp -d /tmp/ctr.XXXXXX)
pml_defer rm -rf "$w"
pml_step image
lower=""
i=0
while [ $i -lt "$nlayers" ]; do
	mkdir -p "$w/layers/$i/bin" "$w/layers/$i/etc"
	echo "layer$i" > "$w/layers/$i/etc/layer"
	lower="$w/layers/$i${lower:+:$lower}"
	i=$((i + 1))
done
mkdir -p "$w/upper" "$w/work"
pml_mount -t overlay overlay -o "lowerdir=$lower,upperdir=$w/upper,workdir=$w/work" "$w/rootfs"
pml_step network
id=c$$
br=ctrbr$sub
ip link add "$br" type bridge
pml_defer ip link del "$br"
ip addr add "172.30.$sub.1/24" dev "$br"
ip link set "$br" up
pml_netns "$id"
ip link add "veth$sub" type veth peer name eth0 netns "$id"
ip link set "veth$sub" master "$br" up
ip -n "$id" addr add "172.30.$sub.2/24" dev eth0
ip -n "$id" link set eth0 up
ip -n "$id" route add default via "172.30.$sub.1"
sysctl -qw net.ipv4.ip_forward=1
pml_step nat
nft add table ip ctrnat
pml_defer nft delete table ip ctrnat
nft add chain ip ctrnat post '{ type nat hook postrouting priority srcnat; }'
nft add rule ip ctrnat post ip saddr "172.30.$sub.0/24" oifname != "$br" masquerade
if [ "$publish" -eq 1 ]; then
	pml_expect nft_nat
	nft add chain ip ctrnat pre '{ type nat hook prerouting priority dstnat; }'
	nft add rule ip ctrnat pre tcp dport 8080 dnat to "172.30.$sub.2:80"
fi
pml_step run
ip netns exec "$id" sh -c "cat $w/rootfs/etc/layer; echo hi > $w/rootfs/etc/hostname"
socat TCP-LISTEN:9999,reuseaddr 'SYSTEM:echo host' &
pml_srv=$!
sleep 0.3
ip netns exec "$id" socat -u TCP:"172.30.$sub.1":9999 -
wait "$pml_srv"
ls "$w/upper/etc"
