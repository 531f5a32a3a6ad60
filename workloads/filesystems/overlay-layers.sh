#!/bin/sh
# pml-family: filesystems
# pml-summary: stack an overlay of several read-only lower layers and a writable upper
#   (as a container runtime does), modify, delete (whiteouts) and inspect the upper layer
# pml-expect: overlay
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range nlayers 1 4
pml_chance index 30
pml_param layers "$nlayers"; pml_param index "$index"
w=$(mktemp -d /tmp/ovl.XXXXXX)
pml_defer rm -rf "$w"
lower=""
i=0
while [ $i -lt "$nlayers" ]; do
	mkdir -p "$w/l$i/etc" "$w/l$i/usr/bin"
	echo "layer $i" > "$w/l$i/etc/layer"
	echo "#!/bin/sh" > "$w/l$i/usr/bin/tool$i"
	lower="$w/l$i${lower:+:$lower}"
	i=$((i + 1))
done
mkdir -p "$w/upper" "$w/work"
o="lowerdir=$lower,upperdir=$w/upper,workdir=$w/work"
[ "$index" -eq 1 ] && o="$o,index=on"
pml_mount -t overlay overlay -o "$o" "$w/root"
cat "$w/root/etc/layer"
echo app > "$w/root/etc/app.conf"
rm "$w/root/usr/bin/tool0"
ls -la "$w/upper/usr/bin" | grep -c tool0
