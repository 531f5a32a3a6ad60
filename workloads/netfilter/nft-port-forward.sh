#!/bin/sh
# pml-family: netfilter
# pml-summary: publish a service: DNAT (or redirect) a public port to an internal server,
#   with a verdict map by chance, and fetch through the forwarded port
# pml-expect: veth nf_tables nfnetlink nft_chain_nat nf_nat nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6 libcrc32c
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick how dnat redirect
pml_range pub 8000 8999
pml_range priv 9000 9999
pml_param how "$how"; pml_param public_port "$pub"; pml_param private_port "$priv"
if [ "$how" = redirect ]; then pml_expect nft_redir; else pml_expect nft_nat; fi
pml_ns_pair pfc$$ pfs$$ 10.44.0
if [ "$how" = dnat ]; then
	r="tcp dport $pub dnat to 10.44.0.2:$priv"
else
	r="tcp dport $pub redirect to :$priv"
fi
ip netns exec pfs$$ nft -f - <<EON
table ip publish {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		$r
	}
}
EON
ip netns exec pfs$$ socat TCP-LISTEN:"$priv",reuseaddr 'SYSTEM:echo forwarded' &
pml_srv=$!
sleep 0.4
got=$(ip netns exec pfc$$ socat -u TCP:10.44.0.2:"$pub" -)
wait "$pml_srv"
[ "$got" = forwarded ] && echo "port $pub -> $priv ok"
