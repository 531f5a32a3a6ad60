# A job that uses, lets go and uses again what pml may unload in between (tests/guest/run,
# boot 17): it must pass under every policy, as it does under reactive.
set -e
truncate -s 8M /tmp/img && mkfs.vfat /tmp/img >/dev/null && mkdir -p /mnt/f
for i in 1 2; do
	mount -o loop /tmp/img /mnt/f && echo "$i" > /mnt/f/f$i && umount /mnt/f && losetup -D
	ip link add d$i type dummy && ip link del d$i
	ip link add va type veth peer name vb && ip link del va
	./sockopen 2 1 132
	sleep 2
done
mount -o loop /tmp/img /mnt/f && [ "$(cat /mnt/f/f1 /mnt/f/f2)" = "$(printf '1\n2')" ] && umount /mnt/f
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
ip netns add ns1 && ip -n ns1 link add vc type veth peer name vd
nft add table inet reuse
sleep 2.5
ip -n ns1 link show vc >/dev/null && nft list tables | grep -q reuse && nft list table inet reusefw | grep -q numgen
ip -n ns1 link set vc up && ip -n ns1 link set vd up && ip -n ns1 addr add 10.9.0.1/24 dev vc &&
	ip -n ns1 addr add 10.9.0.2/24 dev vd
echo reuse-ok
