#!/bin/sh
# pml-family: keys
# pml-summary: a credential store in the kernel keyrings: user and logon keys, an
#   encrypted key sealed by a user key, a session keyring, timeouts, searches, and by
#   chance a dns_resolver or rxrpc key type lookup
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
for t in $(pml_shuffle dns_resolver rxrpc big_key); do
	pml_chance take 50
	[ "$take" -eq 1 ] || continue
	pml_param key_type "$t"
	case $t in
	dns_resolver) pml_expect dns_resolver
		keyctl request2 dns_resolver "a:example.invalid" "" "$ring" > /dev/null 2>&1 || true ;;
	rxrpc) pml_expect rxrpc
		keyctl add rxrpc "afs@PML" "" "$ring" > /dev/null 2>&1 || true ;;
	big_key) keyctl padd big_key pmlbig "$ring" < /etc/services > /dev/null 2>&1 || true ;;
	esac
done
keyctl show "$ring" | head -8
