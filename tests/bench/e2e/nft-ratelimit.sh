#!/bin/sh
# e2e job: an edge host's nftables policy against abuse. In a server namespace: an inet
# table with a dynamic blocklist filled by a rate limit, a named counter and quota, reverse
# path filtering with fib, rejects for a closed UDP port, logged SSH attempts, packets
# marked by numgen and jhash in prerouting, and a netdev ingress table on the link. A
# client sends each kind of traffic; the counters and set are read back.
set -eu
ip netns add edge; ip netns add cli
ip link add v0 netns edge type veth peer name v0 netns cli
for n in edge cli; do ip -n $n link set lo up; ip -n $n link set v0 up; done
ip -n edge addr add 10.80.0.1/24 dev v0
ip -n cli addr add 10.80.0.2/24 dev v0

ip netns exec edge nft -f - <<'NFT'
table inet edge {
	set blocked { type ipv4_addr; flags dynamic, timeout; timeout 30s; }
	counter web_hits { }
	quota web_quota { over 200 mbytes }
	chain pre {
		type filter hook prerouting priority -150; policy accept;
		meta mark set numgen inc mod 4
		ct mark set jhash ip saddr mod 16
	}
	chain input {
		type filter hook input priority 0; policy accept;
		iif lo accept
		ip saddr @blocked drop
		fib saddr . iif oif missing drop
		tcp dport 8080 limit rate over 200/second add @blocked { ip saddr } drop
		tcp dport 8080 counter name web_hits quota name web_quota accept
		udp dport 9999 reject with icmpx type port-unreachable
		tcp dport 22 log prefix "edge-ssh " level info accept
		icmp type echo-request limit rate 20/second accept
	}
}
table netdev guard {
	chain ingress {
		type filter hook ingress device v0 priority -500; policy accept;
		ether type arp limit rate 100/second accept
	}
}
NFT
ip netns exec edge socat -u TCP-LISTEN:8080,reuseaddr,fork OPEN:/dev/null &
srv=$!
sleep 0.3
ip netns exec cli busybox ping -c 2 -i 0.2 10.80.0.1 >/dev/null
for i in 1 2 3 4 5; do
	echo "GET /$i" | ip netns exec cli socat -u - TCP:10.80.0.1:8080,retry=10,interval=0.2
done
echo probe | ip netns exec cli socat - UDP:10.80.0.1:9999 >/dev/null 2>&1 || true
ip netns exec cli socat -u /dev/null TCP:10.80.0.1:22,connect-timeout=1 2>/dev/null || true
kill $srv
ip netns exec edge nft list counter inet edge web_hits
ip netns exec edge nft list ruleset | grep -c limit
ip netns del edge; ip netns del cli
echo "nft-ratelimit: ok"
