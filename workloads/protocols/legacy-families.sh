#!/bin/sh
# pml-family: protocols
# pml-summary: a protocol-compatibility probe (as a network test suite or a fuzzer's
#   setup runs): opens sockets of a random subset of less common families
# pml-expect:
. "$(dirname "$0")/../lib/common.sh"
pml_start
set --
for f in $(pml_shuffle key rds can-raw can-bcm appletalk llc phonet rxrpc kcm qipcrtr smc \
	pppoe l2tp-ppp); do
	pml_chance take 35
	[ "$take" -eq 1 ] || continue
	pml_param family "$f"
	case $f in
	key) set -- "$@" key raw 2; pml_expect af_key ;;
	rds) set -- "$@" rds seqpacket 0; pml_expect rds ;;
	can-raw) set -- "$@" can raw 1; pml_expect can can_raw ;;
	can-bcm) set -- "$@" can dgram 2; pml_expect can can_bcm ;;
	appletalk) set -- "$@" appletalk dgram 0; pml_expect appletalk psnap llc ;;
	llc) set -- "$@" llc dgram 0; pml_expect llc2 llc ;;
	phonet) set -- "$@" phonet dgram 0; pml_expect phonet ;;
	rxrpc) set -- "$@" rxrpc dgram 2; pml_expect rxrpc ;;
	kcm) set -- "$@" kcm dgram 0; pml_expect kcm ;;
	qipcrtr) set -- "$@" qipcrtr dgram 0; pml_expect qrtr ;;
	smc) set -- "$@" smc stream 0; pml_expect smc ;;
	pppoe) set -- "$@" pppox stream 0; pml_expect pppoe pppox ppp_generic slhc ;;
	l2tp-ppp) set -- "$@" pppox dgram 1; pml_expect l2tp_ppp pppox ppp_generic slhc l2tp_core l2tp_netlink udp_tunnel ip6_udp_tunnel ;;
	esac
done
[ $# -eq 0 ] && set -- key raw 2 && pml_expect af_key
"$(pml_tool netsock)" "$@" || true
