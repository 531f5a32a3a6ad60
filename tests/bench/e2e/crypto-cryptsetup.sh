#!/bin/sh
# e2e job: choosing a disk cipher. cryptsetup's benchmark runs each candidate in the kernel
# through AF_ALG (serpent, twofish and camellia in XTS mode), then the choice is used: a
# plain dm-crypt mapping with twofish-xts on a loop device, ext4 on it, files written and
# read back after the mapping is reopened.
set -eu
for c in serpent-xts-plain64 twofish-xts-plain64 camellia-xts-plain64; do
	cryptsetup benchmark --cipher "$c" --key-size 256 | tail -1
done
truncate -s 32M /tmp/vault.img
dev=$(losetup -f --show /tmp/vault.img)
head -c 64 /dev/urandom >/tmp/vault.key
open() {
	cryptsetup open --type plain --cipher twofish-xts-plain64 --key-size 512 \
		--key-file /tmp/vault.key "$dev" vault
}
open
mkfs.ext4 -q -F /dev/mapper/vault
mkdir -p /mnt/vault
mount /dev/mapper/vault /mnt/vault
seq 1 40000 >/mnt/vault/ledger
sha256sum /mnt/vault/ledger >/tmp/ledger.sum
umount /mnt/vault
cryptsetup close vault
open
mount -o ro /dev/mapper/vault /mnt/vault
(cd /mnt/vault && sha256sum -c /tmp/ledger.sum)
umount /mnt/vault
cryptsetup close vault
losetup -d "$dev"
echo "crypto-cryptsetup: ok"
