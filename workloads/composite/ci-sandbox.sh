#!/bin/sh
# pml-family: composite
# pml-summary: a CI job sandbox: the toolchain from a squashfs image, an overlay work tree
#   on top of it, an isolated network namespace with a firewall that only allows a local
#   cache service over veth, the "build" runs, artifacts packed to a FAT image for upload
# pml-expect: loop squashfs overlay veth nf_tables nfnetlink vfat fat nls_cp437 nls_ascii
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range port 3000 3999
pml_pick comp gzip xz zstd
pml_param cache_port "$port"; pml_param compressor "$comp"
w=$(mktemp -d /tmp/ci.XXXXXX)
pml_defer rm -rf "$w"
pml_step toolchain
mkdir -p "$w/tc/bin"
cp /bin/busybox "$w/tc/bin/" 2>/dev/null || cp /bin/sh "$w/tc/bin/"
mksquashfs "$w/tc" "$w/tc.sqfs" -comp "$comp" -quiet -no-progress > /dev/null
pml_mount -o loop,ro "$w/tc.sqfs" "$w/lower"
mkdir -p "$w/up" "$w/wk"
pml_mount -t overlay overlay -o "lowerdir=$w/lower,upperdir=$w/up,workdir=$w/wk" "$w/tree"
pml_step network
pml_ns_pair job$$ cache$$ 10.77.0
ip netns exec job$$ nft -f - <<EON
table inet sandbox {
	chain out {
		type filter hook output priority 0; policy drop;
		oif lo accept
		ip daddr 10.77.0.2 tcp dport $port accept
		ct state established accept
	}
}
EON
pml_expect nft_ct nf_conntrack nf_defrag_ipv4 nf_defrag_ipv6 libcrc32c
ip netns exec cache$$ socat TCP-LISTEN:"$port",reuseaddr 'SYSTEM:echo cached-deps' &
pml_srv=$!
sleep 0.3
pml_step build
ip netns exec job$$ socat -u TCP:10.77.0.2:"$port" - > "$w/tree/deps"
pml_files "$w/tree/out" 4 50
wait "$pml_srv"
pml_step artifacts
truncate -s 8M "$w/art.img"
mkfs.vfat "$w/art.img" > /dev/null
pml_mount -o loop "$w/art.img" "$w/art"
cp -r "$w/tree/out" "$w/art/"
ls "$w/art/out" | wc -l
