#!/bin/sh
# pml-family: netfilter
# pml-summary: a classic iptables script (iptables-nft backend): conntrack, multiport,
#   comments, MASQUERADE, a custom chain, then list and flush, as Docker or an old
#   firewall script does
# pml-expect: nf_tables nfnetlink nft_compat x_tables xt_conntrack nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6 libcrc32c
# pml-packages: iptables
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd iptables
pml_range p 1000 60000
pml_param port "$p"
pml_netns ipt$$
x() { ip netns exec ipt$$ iptables "$@"; }
x -N PML-IN
x -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
x -A INPUT -p tcp -m multiport --dports 22,80,"$p" -m comment --comment "services" -j PML-IN
x -A PML-IN -j ACCEPT
pml_expect xt_multiport xt_comment
pml_chance nat 60
if [ "$nat" -eq 1 ]; then
	x -t nat -A POSTROUTING -o lo -j MASQUERADE
	pml_expect xt_MASQUERADE nft_chain_nat nf_nat
fi
x -L -n -v | head -8
x -F; x -X PML-IN
