#!/bin/sh
# pml-family: tc
# pml-summary: rate limit egress with a token bucket (tbf, random rate and burst) and
#   police ingress with a matchall or basic filter and a police action
# pml-expect: veth sch_tbf sch_ingress act_police
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range rate 1 20
pml_pick burst 16k 32k 64k
pml_pick cls matchall basic
pml_param rate_mbit "$rate"; pml_param burst "$burst"; pml_param classifier "$cls"
pml_expect "cls_$cls"
pml_ns_pair ta$$ tb$$ 10.63.0
ip netns exec ta$$ tc qdisc add dev ul0 root tbf rate "${rate}mbit" burst "$burst" latency 50ms
ip netns exec tb$$ tc qdisc add dev ul0 handle ffff: ingress
ip netns exec tb$$ tc filter add dev ul0 parent ffff: "$cls" action police rate "$((rate * 2))mbit" burst "$burst" conform-exceed drop
pml_ping ta$$ 10.63.0.2
ip netns exec tb$$ tc -s filter show dev ul0 parent ffff: | head -6
