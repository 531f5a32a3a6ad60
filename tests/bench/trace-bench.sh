#!/bin/sh
# The tracer overhead benchmark (issue 4), run in ONE guest boot:
#   make build/bench/trace-bench
#   build/pml run --copy build/bench/trace-bench --copy tests/bench/trace-bench.sh \
#       --report out -- sh ./trace-bench.sh
# Prints, for a syscall loop (getpid, open/close) and realistic workloads (tar of a
# directory tree, a shell script), the time untraced, under `pml trace record` and under
# `strace -f`, best of ROUNDS (5) interleaved runs, and the ratios. Results also go to /work/out/bench.txt.
# Knobs (environment): PML, B (the driver), N (loop calls), ROUNDS, TREE (directories to
# archive), SCRIPT_ITER (shell script iterations), OUT.
PML=${PML:-/job/bin/pml}
B=${B:-./trace-bench}
N=${N:-100000}
OUT=${OUT:-/work/out/bench.txt}
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
say() { echo "$*"; echo "$*" >> "$OUT"; }

ROUNDS=${ROUNDS:-5}
minof() { awk -v a="$1" -v v="$2" 'BEGIN { print (a == "" || v + 0 < a + 0) ? v : a }'; }
traced() { "$PML" trace record -o /tmp/bench.bin -- "$@"; }
straced() { strace -f -o /dev/null "$@"; }

# name, then the workload command (which prints one number). The three variants run
# interleaved, ROUNDS times, and the best of each is kept, so a drift in the machine's
# load hits all three alike.
row() {
	name=$1; shift
	u=""; t=""; s=""
	for i in $(seq "$ROUNDS"); do
		u=$(minof "$u" "$("$@" 2>/dev/null | tail -1)")
		t=$(minof "$t" "$(traced "$@" 2>/dev/null | tail -1)")
		s=$(minof "$s" "$(straced "$@" 2>/dev/null | tail -1)")
	done
	ev=$("$PML" trace dump /tmp/bench.bin 2>/dev/null | tail -1)
	say "$(awk -v n="$name" -v u="$u" -v t="$t" -v s="$s" 'BEGIN {
		printf "%-24s untraced %9.3f  pml %9.3f  strace %10.3f  pml %5.2fx  strace %6.2fx  strace/pml overhead %6.1f\n",
			n, u, t, s, t / u, s / u, (t - u > 0) ? (s - u) / (t - u) : 0 }')"
	say "    last pml trace: $ev"
}

# a directory tree to archive, and a script
TREE=${TREE:-/usr/share/doc /usr/lib/x86_64-linux-gnu/perl-base}
mkdir -p /tmp/tree && cp -a $TREE /tmp/tree/ 2>/dev/null
cat > /tmp/script.sh <<EOS
for i in \$(seq ${SCRIPT_ITER:-100}); do
	ls /usr/bin > /dev/null
	grep -c root /etc/passwd > /dev/null
	cat /etc/os-release | wc -l > /dev/null
done
EOS

say "# trace-bench: $(uname -r), $(nproc) CPU, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
say "# times: ns per call for the loops, ms for the workloads; best of $ROUNDS interleaved"
row "getpid loop (ns/call)" $B getpid "$N"
row "open+close (ns/pair)" $B openclose "$((N / 4))"
row "tar of $(du -sh /tmp/tree | cut -f1) tree (ms)" $B time tar cf /tmp/tree.tar -C /tmp tree
row "shell script (ms)" $B time sh /tmp/script.sh
