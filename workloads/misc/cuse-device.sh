#!/bin/sh
# pml-family: misc
# pml-summary: a character device implemented in user space with CUSE (as osspd does for
#   /dev/dsp): serve /dev/NAME, a client writes and reads it back
# pml-expect: cuse fuse
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_hex tag 2
pml_param device "pmlcuse$tag"
"$(pml_tool cuse)" "pmlcuse$tag" "message $tag from $$"
