#!/bin/sh
# pml-family: misc
# pml-summary: register a binary format handler (as qemu-user-static or Wine packages do):
#   mount binfmt_misc, register a magic- or extension-matched interpreter with random
#   name and flags, run a file through it, unregister
# pml-expect: binfmt_misc
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick match magic extension
pml_pick flags "" P F
pml_hex tag 3
name=pml$tag
pml_param match "$match"; pml_param name "$name"; pml_param flags "$flags"
d=/proc/sys/fs/binfmt_misc
mountpoint -q "$d" || { mount -t binfmt_misc binfmt_misc "$d"; pml_defer umount "$d"; }
w=$(mktemp -d /tmp/binfmt.XXXXXX)
pml_defer rm -rf "$w"
printf '#!/bin/sh\necho "interpreted $1"\n' > "$w/interp"
chmod +x "$w/interp"
if [ "$match" = magic ]; then
	echo ":$name:M::PMLX::$w/interp:$flags" > "$d/register"
	printf 'PMLX payload\n' > "$w/prog"
else
	echo ":$name:E::pmlx::$w/interp:$flags" > "$d/register"
	printf 'payload\n' > "$w/prog"; mv "$w/prog" "$w/prog.pmlx"; ln -s prog.pmlx "$w/prog"
	cp "$w/prog.pmlx" "$w/run.pmlx"
fi
pml_defer "echo -1 > $d/$name"
chmod +x "$w/prog" "$w/"*.pmlx 2>/dev/null || true
cat "$d/$name" | head -2
if [ "$match" = magic ]; then "$w/prog"; else "$w/run.pmlx"; fi
