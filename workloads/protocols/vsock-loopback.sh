#!/bin/sh
# pml-family: protocols
# pml-summary: a host-guest style vsock service tested on loopback (CID 1): vsock_loopback
#   loaded as test suites do, socat VSOCK listener and client, random port, transfer, compare
# pml-expect: vsock vsock_loopback vmw_vsock_virtio_transport_common
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_range port 1024 65000
pml_range kb 1 128
pml_param port "$port"; pml_param kb "$kb"
w=$(mktemp -d /tmp/vsock.XXXXXX)
pml_defer rm -rf "$w"
head -c $((kb * 1024)) /dev/urandom > "$w/tx"
modprobe vsock_loopback
socat -u VSOCK-LISTEN:"$port" OPEN:"$w/rx",creat &
pml_srv=$!
sleep 0.5
socat -u OPEN:"$w/tx" VSOCK-CONNECT:1:"$port"
wait "$pml_srv"
cmp "$w/tx" "$w/rx" && echo "vsock: $kb KiB ok"
