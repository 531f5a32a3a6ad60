#!/bin/sh
# pml-family: tc
# pml-summary: emulate a WAN link on a veth between namespaces with netem (random delay,
#   jitter, loss, reordering), measure with ping and a transfer
# pml-expect: veth sch_netem
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range delay 5 80
pml_range jitter 0 10
pml_pick loss 0% 0.5% 1% 2%
pml_param delay_ms "$delay"; pml_param jitter_ms "$jitter"; pml_param loss "$loss"
pml_ns_pair na$$ nb$$ 10.61.0
ip netns exec na$$ tc qdisc add dev ul0 root netem delay "${delay}ms" "${jitter}ms" loss "$loss"
ip netns exec na$$ $PML_PING -c 4 -i 0.2 10.61.0.2 | tail -1 || true
ip netns exec na$$ tc -s qdisc show dev ul0 | head -2
