#!/bin/sh
# pml-family: netdev
# pml-summary: a WireGuard tunnel between two namespaces: keys generated with wg, random
#   port and addresses, handshake by pinging through, show the peers
# pml-expect: veth wireguard libchacha20poly1305 chacha_x86_64 poly1305_x86_64 curve25519_x86_64 libcurve25519_generic libchacha ip6_udp_tunnel udp_tunnel
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_net under
pml_net tun
pml_range port 40000 60000
pml_param port "$port"; pml_param tunnel "$tun"
pml_ns_pair wa$$ wb$$ "$under"
w=$(mktemp -d /tmp/wg.XXXXXX)
pml_defer rm -rf "$w"
for s in a b; do
	wg genkey > "$w/$s.key"
	wg pubkey < "$w/$s.key" > "$w/$s.pub"
done
ip -n wa$$ link add wg0 type wireguard
ip -n wb$$ link add wg0 type wireguard
ip netns exec wa$$ wg set wg0 private-key "$w/a.key" listen-port "$port" \
	peer "$(cat "$w/b.pub")" allowed-ips "$tun.2/32" endpoint "$under.2:$port"
ip netns exec wb$$ wg set wg0 private-key "$w/b.key" listen-port "$port" \
	peer "$(cat "$w/a.pub")" allowed-ips "$tun.1/32" endpoint "$under.1:$port"
ip -n wa$$ addr add "$tun.1/24" dev wg0; ip -n wa$$ link set wg0 up
ip -n wb$$ addr add "$tun.2/24" dev wg0; ip -n wb$$ link set wg0 up
pml_ping wa$$ "$tun.2"
ip netns exec wa$$ wg show wg0 | grep -E 'handshake|transfer'
