#!/bin/sh
# Guest test job for --copy: sources a helper beside it, runs a C program compiled on the
# host, follows a symlink, and leaves results in /work/out for the host.
. "./lib/helper functions.sh"
greet "from the guest" > "/work/out/greeting file.txt"
./hello > /work/out/hello.txt
cat "link to data" > /work/out/data-copy.txt
[ -x "./run me.sh" ] && echo "exec bit kept" >> /work/out/checks.txt
[ -L "./link to data" ] && echo "symlink kept" >> /work/out/checks.txt
pwd >> /work/out/checks.txt
ln -s "greeting file.txt" "/work/out/a link"
echo copy-job-done
