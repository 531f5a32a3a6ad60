# A job that uses, lets go and uses again what pml may unload in between (tests/guest/run,
# boots 17-21): it must pass under every policy, as it does under reactive. Every step is a
# command of its own: set -e does not stop at a failure inside an && list.
set -e
check() { "$@" >/dev/null 2>&1 || { echo "reuse: lost: $*" >&2; exit 1; }; }
truncate -s 8M /tmp/img
mkfs.vfat /tmp/img >/dev/null
mkdir -p /mnt/f
for i in 1 2; do
	mount -o loop /tmp/img /mnt/f
	echo "$i" > /mnt/f/f$i
	umount /mnt/f
	losetup -D
	ip link add d$i type dummy
	ip link del d$i
	ip link add va type veth peer name vb
	ip link del va
	./sockopen 2 1 132
	sleep 2
done
mount -o loop /tmp/img /mnt/f
check sh -c '[ "$(cat /mnt/f/f1 /mnt/f/f2)" = "$(printf "1\n2")" ]'
umount /mnt/f
# one ruleset whose expressions' modules nf_tables loads one at a time, replaying the
# whole transaction after each (and asking again for those it has): none is pinned until
# the commit, seconds later; one unloaded in between fails the ruleset
nft -f - <<'NFT'
table inet reusefw {
	quota q { over 100 mbytes }
	chain c {
		type filter hook input priority 0;
		meta mark set numgen inc mod 4
		ct mark set jhash ip saddr mod 16
		tcp dport 8080 quota name q accept
		limit rate 10/second accept
	}
}
NFT
ip netns add ns1
ip -n ns1 link add vc type veth peer name vd
nft add table inet reuse
# a FOU port (a UDP socket fou opens in the kernel: no reference) and an ip6gre tunnel
# (ip6_gre's first interface kind is not ip6gre) in the named namespace
modprobe fou
ip -n ns1 fou add port 5555 ipproto 4
ip -n ns1 link add g6 type ip6gre local fd81::1 remote fd81::2
sleep 2.5
check ip -n ns1 link show vc
check sh -c 'nft list tables | grep -q reuse'
check sh -c 'nft list table inet reusefw | grep -q numgen'
check sh -c 'ip -n ns1 fou show | grep -q 5555'
check ip -n ns1 link show g6
ip -n ns1 link set vc up
ip -n ns1 link set vd up
ip -n ns1 addr add 10.9.0.1/24 dev vc
ip -n ns1 addr add 10.9.0.2/24 dev vd
echo reuse-ok
