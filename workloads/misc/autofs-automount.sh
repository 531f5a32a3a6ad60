#!/bin/sh
# pml-family: misc
# pml-summary: what an automounter sets up: an autofs mount point talking to its daemon
#   over a pipe (random timeout and protocol version), queried, then taken down
# pml-expect: autofs4
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range tmo 10 600
pml_param timeout "$tmo"
w=$(mktemp -d /tmp/autofs.XXXXXX)
pml_defer rm -rf "$w"
mkfifo "$w/pipe"
exec 3<>"$w/pipe"
mkdir -p "$w/auto"
mount -t autofs -o "fd=3,pgrp=$$,minproto=5,maxproto=5,indirect" pmlauto "$w/auto"
pml_defer umount "$w/auto"
grep pmlauto /proc/mounts
