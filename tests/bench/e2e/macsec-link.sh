#!/bin/sh
# e2e job: an encrypted Ethernet segment (IEEE 802.1AE MACsec with static keys, GCM-AES-128)
# over a veth link between two namespaces, a ping and a TCP transfer through it, the
# secure channel's counters read back.
set -eu
ip netns add ma; ip netns add mb
ip link add v0 netns ma address 02:00:00:00:00:0a type veth peer name v0 netns mb address 02:00:00:00:00:0b
for n in ma mb; do ip -n $n link set lo up; ip -n $n link set v0 up; done
ka=00112233445566778899aabbccddeeff
kb=ffeeddccbbaa99887766554433221100
setup() { # NS MY-KEY PEER-MAC PEER-KEY ADDR
	ip -n "$1" link add link v0 ms0 type macsec port 1 encrypt on cipher gcm-aes-128
	ip -n "$1" macsec add ms0 tx sa 0 pn 1 on key 01 "$2"
	ip -n "$1" macsec add ms0 rx port 1 address "$3"
	ip -n "$1" macsec add ms0 rx port 1 address "$3" sa 0 pn 1 on key 02 "$4"
	ip -n "$1" addr add "$5" dev ms0
	ip -n "$1" link set ms0 up
}
setup ma $ka 02:00:00:00:00:0b $kb 10.85.0.1/24
setup mb $kb 02:00:00:00:00:0a $ka 10.85.0.2/24
ip netns exec ma busybox ping -c 3 -i 0.2 -W 2 10.85.0.2 >/dev/null
ip netns exec mb socat -u TCP-LISTEN:7000,reuseaddr OPEN:/tmp/ms-recv,creat,trunc &
sleep 0.3
seq 1 20000 | ip netns exec ma socat -u - TCP:10.85.0.2:7000,retry=10,interval=0.2
wait
test "$(wc -l </tmp/ms-recv)" -eq 20000
ip -n ma -s macsec show ms0 | grep -c -i 'OutPktsEncrypted\|txsa'
ip netns del ma; ip netns del mb
echo "macsec-link: ok"
