#!/bin/sh
# The tracer overhead benchmark (issue 4), run in ONE guest boot:
#   make build/bench/trace-bench
#   build/pml run --copy build/bench/trace-bench --copy tests/bench/trace-bench.sh \
#       --report out -- sh ./trace-bench.sh
# Prints, for a syscall loop (getpid, open/close) and realistic workloads (tar of a
# directory tree, a shell script), the time untraced, under `pml trace record` and under
# `strace -f`, best of 3, and the ratios. Results also go to /work/out/bench.txt.
PML=${PML:-/job/bin/pml}
B=./trace-bench
N=${N:-100000}
OUT=/work/out/bench.txt
mkdir -p /work/out
: > "$OUT"
say() { echo "$*"; echo "$*" >> "$OUT"; }

best() { # best of 3 runs of "$@" (each prints one number)
	b=""
	for i in 1 2 3; do
		v=$("$@" 2>/dev/null | tail -1)
		b=$(awk -v a="$b" -v v="$v" 'BEGIN { print (a == "" || v + 0 < a + 0) ? v : a }')
	done
	echo "$b"
}
traced() { "$PML" trace record -o /tmp/bench.bin -- "$@"; }
straced() { strace -f -o /dev/null "$@"; }

row() { # name, then the workload command (which prints one number)
	name=$1; shift
	u=$(best "$@")
	t=$(best traced "$@")
	s=$(best straced "$@")
	ev=$("$PML" trace dump /tmp/bench.bin 2>/dev/null | tail -1)
	say "$(awk -v n="$name" -v u="$u" -v t="$t" -v s="$s" 'BEGIN {
		printf "%-22s untraced %10.3f  pml %10.3f  strace %10.3f  pml/untraced %5.2fx  strace/untraced %6.2fx  (strace-u)/(pml-u) %6.1f\n",
			n, u, t, s, t / u, s / u, (t - u > 0) ? (s - u) / (t - u) : 0 }')"
	say "    last pml trace: $ev"
}

# a directory tree to archive, and a script
mkdir -p /tmp/tree && cp -a /usr/share/doc /usr/lib/x86_64-linux-gnu/perl-base /tmp/tree/ 2>/dev/null
cat > /tmp/script.sh <<'EOS'
for i in $(seq 100); do
	ls /usr/bin > /dev/null
	grep -c root /etc/passwd > /dev/null
	cat /etc/os-release | wc -l > /dev/null
done
EOS

say "# trace-bench: $(uname -r), $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
say "# times: ns per call for the loops, ms for the workloads; best of 3"
row "getpid loop (ns/call)" $B getpid "$N"
row "open+close (ns/pair)" $B openclose "$((N / 4))"
row "tar of $(du -sh /tmp/tree | cut -f1) tree (ms)" $B time tar cf /tmp/tree.tar -C /tmp tree
row "shell script (ms)" $B time sh /tmp/script.sh
