#!/bin/sh
# pml-family: protocols
# pml-summary: a monitoring agent's socket inventory with ss (TCP, UDP, raw, UNIX, packet,
#   netlink, in a random order and subset) while some listeners are open
# pml-expect:
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range port 3000 9000
socat TCP-LISTEN:"$port",reuseaddr,fork /dev/null &
pml_defer kill $!
socat UDP-RECV:$((port + 1)) /dev/null &
pml_defer kill $!
sleep 0.3
qs=""
for q in $(pml_shuffle tcp udp raw unix packet netlink); do
	pml_chance take 70
	[ "$take" -eq 1 ] && qs="$qs $q"
done
for q in ${qs:-tcp}; do
	pml_param query "$q"
	case $q in
	tcp) pml_expect inet_diag tcp_diag; ss -tan | head -3 ;;
	udp) pml_expect inet_diag udp_diag; ss -uan | head -3 ;;
	raw) pml_expect inet_diag raw_diag; ss -wan | head -3 ;;
	unix) pml_expect unix_diag; ss -xa | head -3 ;;
	packet) pml_expect af_packet_diag; ss -0a | head -3 ;;
	netlink) ss -A netlink | head -3 ;;
	esac
done
