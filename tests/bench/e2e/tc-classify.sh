#!/bin/sh
# e2e job: traffic classes on a link between two namespaces with tc. Egress: a prio qdisc
# whose bands hold sfq, fq and red, flower filters steering ICMP and a TCP port (rewriting
# the TOS byte with pedit and fixing the checksum), matchall for the rest; the peer shapes
# with cake and drops UDP at ingress with a basic/cmp ematch on clsact. Traffic of each
# kind, then the counters.
set -eu
ip netns add tca; ip netns add tcb
ip link add v0 netns tca type veth peer name v0 netns tcb
for n in a b; do
	ip -n tc$n link set lo up
	ip -n tc$n link set v0 up
done
ip -n tca addr add 10.77.0.1/24 dev v0
ip -n tcb addr add 10.77.0.2/24 dev v0

tc -n tca qdisc add dev v0 root handle 1: prio bands 3
tc -n tca qdisc add dev v0 parent 1:1 handle 10: sfq perturb 10
tc -n tca qdisc add dev v0 parent 1:2 handle 20: fq
tc -n tca qdisc add dev v0 parent 1:3 handle 30: red limit 400000 min 30000 max 90000 \
	avpkt 1000 burst 55 bandwidth 10mbit probability 0.02
tc -n tca filter add dev v0 parent 1: protocol ip prio 1 flower ip_proto icmp classid 1:1
tc -n tca filter add dev v0 parent 1: protocol ip prio 2 flower ip_proto tcp dst_port 5001 \
	classid 1:2 action pedit ex munge ip tos set 0x10 pipe action csum ip tcp
tc -n tca filter add dev v0 parent 1: prio 9 matchall classid 1:3 action gact ok

tc -n tcb qdisc add dev v0 root cake bandwidth 50mbit besteffort
tc -n tcb qdisc add dev v0 clsact
tc -n tcb filter add dev v0 ingress prio 1 protocol ip \
	basic match 'cmp(u8 at 9 layer network eq 17)' action drop

ip netns exec tca busybox ping -c 3 -i 0.2 10.77.0.2 >/dev/null
ip netns exec tcb socat -u TCP-LISTEN:5001,reuseaddr OPEN:/tmp/tc-recv,creat,trunc &
sleep 0.3
seq 1 30000 | ip netns exec tca socat -u - TCP:10.77.0.2:5001,retry=10,interval=0.2
wait
test "$(wc -l </tmp/tc-recv)" -eq 30000
echo probe | ip netns exec tca socat -u - UDP:10.77.0.2:9999 || true
tc -n tca -s qdisc show dev v0 | grep -c Sent
tc -n tcb -s filter show dev v0 ingress | grep -q drop
ip netns del tca; ip netns del tcb
echo "tc-classify: ok"
