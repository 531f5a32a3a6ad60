#!/bin/sh
# pml-family: keys
# pml-summary: a credential store in the kernel keyrings: user and logon keys, an
#   encrypted key sealed by a user key, timeouts, searches, and by chance an AFS-style
#   rxrpc key (the key type exists once an AF_RXRPC socket has loaded rxrpc: key types
#   themselves are not autoloaded in 6.1; user, logon, encrypted are built in)
# pml-expect:
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_need_cmd keyctl
pml_range nkeys 2 10
pml_param keys "$nkeys"
ring=$(keyctl newring "pml$$" @u)
pml_defer keyctl unlink "$ring" @u
i=0
while [ $i -lt "$nkeys" ]; do
	pml_hex v 16
	id=$(keyctl add user "svc$i" "$v" "$ring")
	keyctl timeout "$id" 600
	i=$((i + 1))
done
keyctl add logon "pml:token" "secret$$" "$ring" > /dev/null
keyctl search "$ring" user svc1 > /dev/null
pml_hex master 32
keyctl add user pmlmaster "$master" "$ring" > /dev/null
keyctl add encrypted pmlenc "new user:pmlmaster 32" "$ring" > /dev/null 2>&1 || echo "encrypted key type refused"
pml_chance rx 50
pml_param rxrpc "$rx"
if [ "$rx" -eq 1 ]; then
	pml_expect rxrpc
	"$(pml_tool netsock)" rxrpc dgram 2
	keyctl add rxrpc "afs@PML.TEST" "" "$ring" > /dev/null 2>&1 || echo "rxrpc key refused"
fi
keyctl show "$ring" | head -8
