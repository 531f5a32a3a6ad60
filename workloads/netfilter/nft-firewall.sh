#!/bin/sh
# pml-family: netfilter
# pml-summary: a host firewall in an inet table: stateful rules (ct state), a set of allowed
#   ports, rate limits, rejects, counters and log by chance; probe allowed and blocked ports
# pml-expect: veth nf_tables nfnetlink nft_ct nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6 libcrc32c
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range p1 1000 3000
pml_range p2 3001 6000
pml_chance limit 50
pml_chance reject 60
pml_chance logit 40
pml_param allowed "$p1"; pml_param blocked "$p2"; pml_param limit "$limit"
pml_param reject "$reject"; pml_param log "$logit"
pml_ns_pair fwc$$ fws$$ 10.33.0
extra=""
[ "$limit" -eq 1 ] && extra="$extra
		icmp type echo-request limit rate 10/second accept" && pml_expect nft_limit
final="drop"
[ "$reject" -eq 1 ] && final="reject with tcp reset" && pml_expect nft_reject_inet nft_reject nf_reject_ipv4 nf_reject_ipv6
[ "$logit" -eq 1 ] && final="log prefix \"fw-drop \" $final" && pml_expect nft_log nf_log_syslog
ip netns exec fws$$ nft -f - <<EON
table inet filter {
	set allowed { type inet_service; elements = { $p1, 22 } }
	chain input {
		type filter hook input priority filter; policy accept;
		ct state established,related accept
		iif lo accept$extra
		tcp dport @allowed counter accept
		ip protocol tcp $final
	}
}
EON
ip netns exec fws$$ socat TCP-LISTEN:"$p1",reuseaddr /dev/null &
pml_srv=$!
sleep 0.3
ip netns exec fwc$$ socat -u /dev/null TCP:10.33.0.2:"$p1"
if ip netns exec fwc$$ timeout 3 socat -u /dev/null TCP:10.33.0.2:"$p2",connect-timeout=1 2>/dev/null; then
	echo "blocked port open?"; exit 1
fi
wait "$pml_srv"
ip netns exec fws$$ nft list chain inet filter input | grep counter
