#!/bin/sh
# e2e job: reading old media images. A Minix v3 filesystem and an SCO BFS boot filesystem,
# each made on a loop device, filled, mounted again read-only and compared.
set -eu
truncate -s 8M /tmp/minix.img
truncate -s 2M /tmp/bfs.img
mkfs.minix -3 /tmp/minix.img >/dev/null
mkfs.bfs -V bootfs -F sco /tmp/bfs.img >/dev/null 2>&1
mkdir -p /mnt/minix /mnt/bfs /tmp/src
for i in 1 2 3 4 5 6; do seq $i 3 3000 >/tmp/src/f$i; done
mount -o loop -t minix /tmp/minix.img /mnt/minix
mount -o loop -t bfs /tmp/bfs.img /mnt/bfs
cp /tmp/src/* /mnt/minix/
cp /tmp/src/f1 /tmp/src/f2 /mnt/bfs/
umount /mnt/minix /mnt/bfs
mount -o loop,ro -t minix /tmp/minix.img /mnt/minix
mount -o loop,ro -t bfs /tmp/bfs.img /mnt/bfs
for i in 1 2 3 4 5 6; do cmp /tmp/src/f$i /mnt/minix/f$i; done
cmp /tmp/src/f2 /mnt/bfs/f2
umount /mnt/minix /mnt/bfs
echo "legacy-minix-bfs: ok"
