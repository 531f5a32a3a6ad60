#!/bin/sh
# pml-family: tc
# pml-summary: per-class bandwidth shaping: an HTB tree (random rates, class count) with
#   SFQ or fq_codel leaves and u32 filters by destination port, traffic through it
# pml-expect: veth sch_htb cls_u32
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range ncls 2 4
pml_pick leaf sfq fq_codel pfifo
pml_range rate 1 50
pml_param classes "$ncls"; pml_param leaf "$leaf"; pml_param rate_mbit "$rate"
[ "$leaf" = sfq ] && pml_expect sch_sfq
pml_ns_pair ha$$ hb$$ 10.62.0
t() { ip netns exec ha$$ tc "$@"; }
t qdisc add dev ul0 root handle 1: htb default 10
t class add dev ul0 parent 1: classid 1:1 htb rate "$((rate * ncls))mbit"
i=1
while [ $i -le "$ncls" ]; do
	t class add dev ul0 parent 1:1 classid "1:$((i * 10))" htb rate "${rate}mbit" ceil "$((rate * 2))mbit"
	t qdisc add dev ul0 parent "1:$((i * 10))" handle "$((i * 10)):" "$leaf"
	t filter add dev ul0 parent 1: protocol ip prio 1 u32 match ip dport "$((5000 + i))" 0xffff flowid "1:$((i * 10))"
	i=$((i + 1))
done
ip netns exec hb$$ socat -u TCP-LISTEN:5001,reuseaddr /dev/null &
pml_srv=$!
sleep 0.3
head -c 100000 /dev/zero | ip netns exec ha$$ socat -u - TCP:10.62.0.2:5001
wait "$pml_srv"
t -s class show dev ul0 | grep -c class
