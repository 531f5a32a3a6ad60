#!/bin/sh
# pml-family: keys
# pml-summary: encrypt and decrypt buffers through AF_ALG skcipher and AEAD sockets and
#   draw from the kernel DRBG: random ciphers, modes, keys and IVs
# pml-expect: af_alg algif_skcipher
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
A=$(pml_tool afalg)
head -c 4096 /dev/urandom > /tmp/afc$$
pml_defer rm -f /tmp/afc$$
for c in $(pml_shuffle cbc-aes ctr-aes xts-aes ecb-des3 cbc-serpent cbc-twofish cbc-camellia \
	cbc-cast5 gcm-aes chacha20poly1305 drbg); do
	pml_chance take 40
	[ "$take" -eq 1 ] || continue
	pml_param cipher "$c"
	mode=${c%%-*}; blk=${c#*-}
	case $c in
	xts-aes) pml_hex k 32; pml_hex iv 16; pml_expect xts ;;
	ecb-des3) pml_hex k 24; iv=""; blk=des3_ede; pml_expect libdes ;;
	cbc-serpent) pml_hex k 32; pml_hex iv 16; pml_expect serpent_generic ;;
	cbc-twofish) pml_hex k 32; pml_hex iv 16; pml_expect twofish_generic twofish_common ;;
	cbc-camellia) pml_hex k 32; pml_hex iv 16; pml_expect camellia_generic ;;
	cbc-cast5) pml_hex k 16; pml_hex iv 8; pml_expect cast5_generic cast_common ;;
	ctr-aes) pml_hex k 16; pml_hex iv 16; pml_expect ctr ;;
	*) pml_hex k 16; pml_hex iv 16 ;;
	esac
	case $c in
	gcm-aes) pml_hex iv 12; pml_expect algif_aead gcm
		"$A" aead "gcm(aes)" "$k" "$iv" 16 < /tmp/afc$$ ;;
	ccm-aes) pml_expect algif_aead ccm
		"$A" aead "ccm(aes)" "$k" "03${iv#??}" 16 < /tmp/afc$$ ;;
	chacha20poly1305) pml_hex k 32; pml_hex iv 12; pml_expect algif_aead chacha20poly1305
		"$A" aead "rfc7539(chacha20,poly1305)" "$k" "$iv" 16 < /tmp/afc$$ ;;
	drbg) pml_expect algif_rng drbg; "$A" rng drbg_nopr_hmac_sha256 32 ;;
	*) "$A" skcipher "$mode($blk)" "$k" "$iv" < /tmp/afc$$ ;;
	esac
done
"$A" skcipher "cbc(aes)" 000102030405060708090a0b0c0d0e0f 000102030405060708090a0b0c0d0e0f < /tmp/afc$$
