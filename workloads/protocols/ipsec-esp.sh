#!/bin/sh
# pml-family: protocols
# pml-summary: an IPsec ESP tunnel between two namespaces set up with ip xfrm (random
#   cipher and integrity algorithms, SPIs and keys), ping through it, show the SAs
# pml-expect: veth xfrm_user xfrm_algo esp4
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick suite cbc-sha256 cbc-sha1 gcm rfc4106
pml_pick mode tunnel transport
pml_param suite "$suite"; pml_param mode "$mode"
pml_ns_pair xa$$ xb$$ 10.50.0
pml_hex spi1 4; pml_hex spi2 4
pml_hex ekey 16; pml_hex akey 32; pml_hex gkey 20
case $suite in
cbc-sha256) alg="enc cbc(aes) 0x$ekey auth-trunc hmac(sha256) 0x$akey 128"; pml_expect authenc echainiv ;;
cbc-sha1) alg="enc cbc(aes) 0x$ekey auth-trunc hmac(sha1) 0x$(echo "$akey" | cut -c1-40) 96"; pml_expect authenc echainiv ;;
*) alg="aead rfc4106(gcm(aes)) 0x$gkey 128"; pml_expect gcm seqiv ;;
esac
for ns in xa$$ xb$$; do
	ip -n "$ns" xfrm state add src 10.50.0.1 dst 10.50.0.2 proto esp spi "0x$spi1" \
		mode "$mode" $alg
	ip -n "$ns" xfrm state add src 10.50.0.2 dst 10.50.0.1 proto esp spi "0x$spi2" \
		mode "$mode" $alg
done
ip -n xa$$ xfrm policy add src 10.50.0.1 dst 10.50.0.2 dir out tmpl src 10.50.0.1 dst 10.50.0.2 proto esp mode "$mode"
ip -n xb$$ xfrm policy add src 10.50.0.1 dst 10.50.0.2 dir in tmpl src 10.50.0.1 dst 10.50.0.2 proto esp mode "$mode"
ip -n xb$$ xfrm policy add src 10.50.0.2 dst 10.50.0.1 dir out tmpl src 10.50.0.2 dst 10.50.0.1 proto esp mode "$mode"
ip -n xa$$ xfrm policy add src 10.50.0.2 dst 10.50.0.1 dir in tmpl src 10.50.0.2 dst 10.50.0.1 proto esp mode "$mode"
pml_ping xa$$ 10.50.0.2
ip -n xa$$ -s xfrm state | grep -E 'proto esp|lifetime current' | head -4
