#!/bin/sh
# pml-family: vpn
# pml-summary: an OpenVPN point-to-point link between two namespaces with a static key:
#   TUN or TAP (drawn, TAP by chance bridged), UDP or TCP, data cipher and port drawn;
#   ping through the tunnel
# pml-expect: veth tun
# pml-packages: openvpn
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd openvpn
pml_net net
pml_param net "$net"
A=ova$$ B=ovb$$
pml_ns_pair $A $B "$net"
w=$(mktemp -d /tmp/ovpn.XXXXXX)
pml_defer rm -rf "$w"
pml_pick dev tun tap
pml_pick proto udp tcp
pml_pick cipher AES-256-CBC AES-128-CBC CHACHA20-POLY1305 AES-256-GCM
pml_range port 1100 1999
pml_range ov 16 31
pml_param dev "$dev"; pml_param proto "$proto"; pml_param cipher "$cipher"; pml_param port "$port"
case $cipher in *GCM|CHACHA*) cipher=AES-256-CBC ;; esac   # static key mode takes CBC ciphers only
openvpn --genkey secret "$w/static.key"
if [ "$dev" = tun ]; then
	ifa="--ifconfig 172.$ov.0.1 172.$ov.0.2"; ifb="--ifconfig 172.$ov.0.2 172.$ov.0.1"
else
	ifa="--ifconfig 172.$ov.0.1 255.255.255.0"; ifb="--ifconfig 172.$ov.0.2 255.255.255.0"
fi
if [ "$proto" = udp ]; then pa="--proto udp"; pb="--proto udp"; else pa="--proto tcp-server"; pb="--proto tcp-client"; fi
common="--dev ${dev}0 --dev-type $dev --secret $w/static.key --cipher $cipher --auth SHA256 --verb 1 --daemon --ping 1"
ip netns exec $A openvpn $common $pa --local $net.1 --lport $port $ifa --writepid "$w/a.pid" --log "$w/a.log"
pml_defer 'kill $(cat '"$w"'/a.pid)'
ip netns exec $B openvpn $common $pb --remote $net.1 $port --nobind $ifb --writepid "$w/b.pid" --log "$w/b.log"
pml_defer 'kill $(cat '"$w"'/b.pid)'
i=0
while ! ip netns exec $B $PML_PING -c 1 -W 1 172.$ov.0.1 > /dev/null 2>&1; do
	i=$((i + 1))
	[ $i -lt 20 ] || { cat "$w"/*.log; pml_die "no tunnel"; }
done
pml_ping $B 172.$ov.0.1
pml_chance bridge 40
pml_param bridged "$bridge"
if [ "$dev" = tap ] && [ "$bridge" -eq 1 ]; then
	pml_expect bridge stp llc
	ip -n $A link add br0 type bridge
	ip -n $A link set tap0 master br0
	ip -n $A link set br0 up
fi
echo ok
