#!/bin/sh
# pml-family: vpn
# pml-summary: a PPPoE session as a DSL line: pppoe-server on one side of a veth pair,
#   pppd's PPPoE plugin (kernel PPPoE) on the other, service name and addresses drawn
#   (the server runs pppd over a pty, which negotiates deflate or BSD compression)
# pml-expect: veth pppoe pppox ppp_generic slhc ppp_async ppp_deflate bsd_comp
# pml-packages: ppp pppoe
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd pppd pppoe-server
pml_net net
pml_param net "$net"
A=poa$$ B=pob$$
pml_ns_pair $A $B "$net"
w=$(mktemp -d /tmp/pppoe.XXXXXX)
pml_defer rm -rf "$w"
pml_range ov 16 31
pml_pick svc isp dsl fiber
pml_param service "$svc"
printf 'noauth\nlcp-echo-interval 5\nnodefaultroute\n' > "$w/server-options"
ip netns exec $A pppoe-server -I ul0 -L 172.$ov.0.1 -R 172.$ov.0.2 -N 2 -S $svc -O "$w/server-options" -F > "$w/s.log" 2>&1 &
pml_defer kill $!
sleep 0.5
ip netns exec $B pppd plugin pppoe.so ul0 rp_pppoe_service $svc noauth nodetach nodefaultroute noipdefault \
	user pml > "$w/c.log" 2>&1 &
pml_defer kill $!
i=0
while ! ip netns exec $B $PML_PING -c 1 -W 1 172.$ov.0.1 > /dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 20 ] || { cat "$w"/*.log; pml_die "no PPPoE session"; }
	sleep 0.5
done
echo ok
