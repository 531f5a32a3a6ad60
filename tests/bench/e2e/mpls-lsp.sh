#!/bin/sh
# e2e job: an MPLS label-switched path through a core router. Three namespaces (edge A,
# core P, edge B): A pushes label 100 onto traffic for B's network, P swaps 100 for 200,
# B pops it; the return path is plain IP. A ping and a TCP transfer cross the LSP.
set -eu
for n in pa pp pb; do ip netns add $n; ip -n $n link set lo up; done
ip link add ab netns pa type veth peer name pa netns pp
ip link add pb netns pp type veth peer name pp netns pb
ip -n pa addr add 10.86.1.1/24 dev ab; ip -n pa link set ab up
ip -n pp addr add 10.86.1.2/24 dev pa; ip -n pp link set pa up
ip -n pp addr add 10.86.2.1/24 dev pb; ip -n pp link set pb up
ip -n pb addr add 10.86.2.2/24 dev pp; ip -n pb link set pp up
ip -n pb addr add 10.86.9.1/32 dev lo
ip -n pa addr add 10.86.8.1/32 dev lo
# the ingress route's MPLS encapsulation is what brings the MPLS code in
ip -n pa route add 10.86.9.0/24 encap mpls 100 via 10.86.1.2 src 10.86.8.1
for n in pp pb; do
	ip netns exec $n sysctl -q -w net.mpls.platform_labels=1000
done
ip netns exec pp sysctl -q -w net.mpls.conf.pa.input=1
ip netns exec pb sysctl -q -w net.mpls.conf.pp.input=1
ip -n pp -f mpls route add 100 as 200 via inet 10.86.2.2
ip -n pb -f mpls route add 200 dev lo
ip netns exec pp sysctl -q -w net.ipv4.ip_forward=1
ip -n pp route add 10.86.8.0/24 via 10.86.1.1
ip -n pb route add 10.86.8.0/24 via 10.86.2.1
ip netns exec pb sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.lo.rp_filter=0
ip netns exec pa busybox ping -c 3 -i 0.2 -W 2 -I 10.86.8.1 10.86.9.1 >/dev/null
ip netns exec pb socat -u TCP-LISTEN:7100,bind=10.86.9.1,reuseaddr OPEN:/tmp/lsp-recv,creat,trunc &
sleep 0.3
seq 1 10000 | ip netns exec pa socat -u - TCP:10.86.9.1:7100,bind=10.86.8.1,retry=10,interval=0.2
wait
test "$(wc -l </tmp/lsp-recv)" -eq 10000
ip -n pp -f mpls route show
for n in pa pp pb; do ip netns del $n; done
echo "mpls-lsp: ok"
