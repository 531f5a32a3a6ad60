#!/bin/sh
# pml-family: misc
# pml-summary: a virtual keyboard through /dev/uinput (remote desktop, key remapper or a
#   UI test rig), random device name and number of key presses
# pml-expect: uinput
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range keys 5 200
pml_pick name pml-kbd remote-input virtual-keypad
pml_param keys "$keys"; pml_param name "$name"
"$(pml_tool uinput)" "$name" "$keys"
grep -A1 "Name=\"$name\"" /proc/bus/input/devices 2>/dev/null | head -2 || true
