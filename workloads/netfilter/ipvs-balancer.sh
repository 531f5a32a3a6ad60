#!/bin/sh
# pml-family: netfilter
# pml-summary: an IPVS virtual service over backends in namespaces (random scheduler,
#   direct routing or masquerading), listed with ipvsadm
# pml-expect: ip_vs nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6 libcrc32c veth
# pml-packages: ipvsadm
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd ipvsadm
pml_pick sched rr wrr lc sh
pml_range nb 2 3
pml_param scheduler "$sched"; pml_param backends "$nb"
pml_expect "ip_vs_$sched"
pml_netns lb$$
ip -n lb$$ link add vip0 type dummy; ip -n lb$$ addr add 10.0.0.100/32 dev vip0
ip -n lb$$ link set vip0 up
pml_expect dummy
i=1
while [ $i -le "$nb" ]; do
	pml_netns be$i$$
	ip link add "b$i" netns lb$$ type veth peer name eth0 netns be$i$$
	ip -n lb$$ addr add "10.1.$i.1/24" dev "b$i"; ip -n lb$$ link set "b$i" up
	ip -n be$i$$ addr add "10.1.$i.2/24" dev eth0; ip -n be$i$$ link set eth0 up
	ip -n be$i$$ route add default via "10.1.$i.1"
	ip -n be$i$$ addr add 10.0.0.100/32 dev lo
	ip netns exec be$i$$ socat TCP-LISTEN:80,reuseaddr,fork "SYSTEM:echo backend$i" &
	pml_defer kill $!
	i=$((i + 1))
done
ip netns exec lb$$ ipvsadm -A -t 10.0.0.100:80 -s "$sched"
i=1
while [ $i -le "$nb" ]; do
	ip netns exec lb$$ ipvsadm -a -t 10.0.0.100:80 -r "10.1.$i.2:80" -g 2>/dev/null ||
		ip netns exec lb$$ ipvsadm -a -t 10.0.0.100:80 -r "10.1.$i.2:80" -m
	i=$((i + 1))
done
ip netns exec lb$$ ipvsadm -Ln
