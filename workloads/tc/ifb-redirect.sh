#!/bin/sh
# pml-family: tc
# pml-summary: shape incoming traffic the usual way: redirect ingress to an IFB device
#   with a flower (or u32) filter and mirred, a random root qdisc on the IFB (cake, fq,
#   prio, red)
# pml-expect: veth ifb sch_ingress act_mirred
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick cls flower u32
pml_pick root cake fq prio hfsc
pml_param classifier "$cls"; pml_param root "$root"
pml_expect "cls_$cls" "sch_$root"
pml_ns_pair ia$$ ib$$ 10.64.0
t() { ip netns exec ib$$ tc "$@"; }
ip -n ib$$ link add ifb0 type ifb
ip -n ib$$ link set ifb0 up
t qdisc add dev ul0 handle ffff: ingress
if [ "$cls" = flower ]; then
	t filter add dev ul0 parent ffff: protocol ip flower ip_proto icmp action mirred egress redirect dev ifb0
else
	t filter add dev ul0 parent ffff: protocol ip u32 match u32 0 0 action mirred egress redirect dev ifb0
fi
case $root in
hfsc) t qdisc add dev ifb0 root handle 1: hfsc default 1
	t class add dev ifb0 parent 1: classid 1:1 hfsc sc rate 10mbit ul rate 10mbit ;;
*) t qdisc add dev ifb0 root "$root" ;;
esac
pml_ping ia$$ 10.64.0.2
t -s qdisc show dev ifb0 | head -3
