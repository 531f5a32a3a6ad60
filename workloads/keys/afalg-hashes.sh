#!/bin/sh
# pml-family: keys
# pml-summary: checksum and MAC files with the kernel's crypto through AF_ALG (as libkcapi
#   tools do): a random subset of hash algorithms, keyed ones with a random key
# pml-expect: af_alg algif_hash
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
A=$(pml_tool afalg)
head -c 50000 /dev/urandom > /tmp/afh$$
pml_defer rm -f /tmp/afh$$
n=0
for alg in $(pml_shuffle sha256 sha512 sha3-256 blake2b-256 md4 rmd160 wp512 streebog256 \
	xxhash64 crc32 cmac-aes hmac-sha256); do
	pml_chance take 40
	[ "$take" -eq 1 ] || continue
	pml_param alg "$alg"
	key=""
	case $alg in
	sha512) pml_expect sha512_generic ;;
	sha3-256) pml_expect sha3_generic ;;
	blake2b-256) pml_expect blake2b_generic ;;
	md4) pml_expect md4 ;;
	rmd160) pml_expect rmd160 ;;
	wp512) pml_expect wp512 ;;
	streebog256) pml_expect streebog_generic ;;
	xxhash64) pml_expect xxhash_generic ;;
	crc32) pml_expect crc32_generic ;;
	cmac-aes) alg="cmac(aes)"; pml_hex key 16; pml_expect cmac ;;
	hmac-sha256) alg="hmac(sha256)"; pml_hex key 32 ;;
	esac
	d=$("$A" hash "$alg" $key < /tmp/afh$$)
	echo "$alg $d"
	n=$((n + 1))
done
[ $n -gt 0 ] || "$A" hash sha256 < /tmp/afh$$
