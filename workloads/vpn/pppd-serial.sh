#!/bin/sh
# pml-family: vpn
# pml-summary: a PPP link over a pseudo-terminal pair (as over a serial modem line): two
#   pppd, one in a namespace, compression (deflate, BSD, none) and VJ header compression
#   drawn, addresses negotiated, ping across
# pml-expect: ppp_generic ppp_async slhc
# pml-packages: ppp
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd pppd socat
mkdir -p /run/lock   # /etc/ppp/options says "lock" (/var/lock points there)
w=$(mktemp -d /tmp/ppp.XXXXXX)
pml_defer rm -rf "$w"
pml_netns pp$$
pml_pick comp none deflate bsdcomp
pml_chance vj 50
pml_range ov 16 31
pml_param compression "$comp"; pml_param vj "$vj"
case $comp in
none) co="nodeflate nobsdcomp noccp" ;;
deflate) co="deflate 15 nobsdcomp"; pml_expect ppp_deflate ;;
bsdcomp) co="bsdcomp 15 nodeflate"; pml_expect bsd_comp ;;
esac
[ "$vj" -eq 1 ] || co="$co novj"
socat PTY,link="$w/p0",raw,echo=0 PTY,link="$w/p1",raw,echo=0 &
pml_defer kill $!
i=0; while [ ! -e "$w/p1" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
opts="noauth local nodetach nocrtscts nodefaultroute noipdefault $co"
pppd "$w/p0" 115200 $opts 172.$ov.0.1:172.$ov.0.2 > "$w/a.log" 2>&1 &
pml_defer kill $!
ip netns exec pp$$ pppd "$w/p1" 115200 $opts > "$w/b.log" 2>&1 &
pml_defer kill $!
i=0
while ! ip netns exec pp$$ $PML_PING -c 1 -W 1 172.$ov.0.1 > /dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 20 ] || { cat "$w"/*.log; pml_die "no PPP link"; }
	sleep 0.5
done
pml_ping pp$$ 172.$ov.0.1
echo ok
