#!/bin/sh
# pml-family: block
# pml-summary: an encrypted volume: LUKS format (random version, cipher, key size) on a loop
#   device with cryptsetup, open, ext4 inside, write and check files, close
# pml-expect: loop dm_mod dm_crypt
set -e
. "$(dirname "$0")/../lib/common.sh"
pml_start
pml_pick type luks1 luks2 luks2
pml_pick cipher aes-xts-plain64 aes-xts-plain64 aes-cbc-essiv:sha256 serpent-xts-plain64 twofish-xts-plain64
pml_param type "$type"; pml_param cipher "$cipher"
case $cipher in
aes-xts*) pml_expect xts ;;
aes-cbc-essiv*) pml_expect essiv ;;
serpent*) pml_expect af_alg algif_skcipher xts serpent_generic serpent_sse2_x86_64 serpent_avx_x86_64 serpent_avx2 cryptd crypto_simd ecb ;;
twofish*) pml_expect af_alg algif_skcipher xts twofish_generic twofish_common twofish_x86_64 twofish_x86_64_3way twofish_avx_x86_64 cryptd crypto_simd ecb ;;
esac
w=$(mktemp -d /tmp/luks.XXXXXX)
pml_defer rm -rf "$w"
truncate -s 64M "$w/vault.img"
pml_hex key 32
printf '%s' "$key" > "$w/key"
pml_loopdev dev "$w/vault.img"
cryptsetup luksFormat -q --type "$type" --cipher "$cipher" --pbkdf pbkdf2 \
	--pbkdf-force-iterations 1000 --key-file "$w/key" "$dev"
name=vault$$
cryptsetup open --key-file "$w/key" "$dev" "$name"
pml_defer cryptsetup close "$name"
mkfs.ext4 -q "/dev/mapper/$name"
pml_mount "/dev/mapper/$name" "$w/mnt"
pml_files "$w/mnt/secrets" 5 100
(cd "$w/mnt/secrets" && sha256sum -c MANIFEST > /dev/null)
cryptsetup status "$name" | grep -E 'cipher|keysize'
