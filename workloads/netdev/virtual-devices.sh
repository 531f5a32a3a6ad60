#!/bin/sh
# pml-family: netdev
# pml-summary: a test rig's virtual interfaces: a random subset of IFB, nlmon, vcan,
#   macsec-over-veth, team and netdevsim-free kinds, created, brought up, listed, removed
# pml-expect:
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
for kind in $(pml_shuffle ifb nlmon vcan macsec team dummy); do
	pml_chance take 60
	[ "$take" -eq 1 ] || continue
	pml_param kind "$kind"
	case $kind in
	ifb) pml_expect ifb; ip link add ifb9 type ifb; pml_defer ip link del ifb9; ip link set ifb9 up ;;
	nlmon) pml_expect nlmon; ip link add nlmon9 type nlmon; pml_defer ip link del nlmon9
		ip link set nlmon9 up ;;
	vcan) pml_expect vcan can_dev; ip link add vcan9 type vcan; pml_defer ip link del vcan9
		ip link set vcan9 up ;;
	macsec) pml_expect macsec veth
		ip link add ms9a type veth peer name ms9b; pml_defer ip link del ms9a
		ip link add link ms9a macsec9 type macsec port 11 encrypt on
		ip link set ms9a up; ip link set macsec9 up ;;
	team) pml_expect team; ip link add team9 type team; pml_defer ip link del team9 ;;
	dummy) pml_expect dummy; ip link add dm9 type dummy; pml_defer ip link del dm9 ;;
	esac
done
ip -br link
