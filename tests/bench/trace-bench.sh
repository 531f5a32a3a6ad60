#!/bin/sh
# The tracer overhead benchmark (issue 4), run in ONE guest boot:
#   make O=build-trace build-trace/bench/trace-bench
#   build-trace/pml run --timeout 3000 --copy build-trace/bench/trace-bench \
#       --copy tests/bench/trace-bench.sh --report out -- sh ./trace-bench.sh
# Prints, for a syscall loop (getpid, open/close) and realistic workloads (tar of a
# directory tree, a shell script), the time untraced, under `pml trace record` with the
# version-1 event set (system calls, module tracepoints, processes: --no-samples
# --no-faults --no-objects), under `pml trace record` as it records by default (plus
# instruction-pointer samples (99 Hz per CPU), page faults per 100 ms, full paths of
# mapped files), and under `strace -f`; best of ROUNDS (5) interleaved runs, and the
# ratios. Then one traced run of the shell script with the kernel's BPF stats on: each
# program's runs and ns per run (what sampling and fault counting cost), and the
# tracer's own CPU time. Results also go to OUT (/work/out/bench.txt).
# Knobs (environment): PML, B (the driver), N (loop calls), ROUNDS, TREE (directories to
# archive), SCRIPT_ITER (shell script iterations), OUT, STRACE=0 (skip strace).
PML=${PML:-/job/bin/pml}
B=${B:-./trace-bench}
N=${N:-100000}
OUT=${OUT:-/work/out/bench.txt}
STRACE=${STRACE:-1}
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
say() { echo "$*"; echo "$*" >> "$OUT"; }

ROUNDS=${ROUNDS:-5}
minof() { awk -v a="$1" -v v="$2" 'BEGIN { print (a == "" || v + 0 < a + 0) ? v : a }'; }
traced1() { "$PML" trace record -o /tmp/bench1.bin --no-samples --no-faults --no-objects -- "$@"; }
traced() { "$PML" trace record -o /tmp/bench.bin -- "$@"; }
straced() { if [ "$STRACE" = 1 ]; then strace -f -o /dev/null "$@"; else echo 0; fi; }

# name, then the workload command (which prints one number). The variants run
# interleaved, ROUNDS times, and the best of each is kept, so a drift in the machine's
# load hits them alike.
row() {
	name=$1; shift
	u=""; t1=""; t=""; s=""
	for i in $(seq "$ROUNDS"); do
		u=$(minof "$u" "$("$@" 2>/dev/null | tail -1)")
		t1=$(minof "$t1" "$(traced1 "$@" 2>/dev/null | tail -1)")
		t=$(minof "$t" "$(traced "$@" 2>/tmp/bench.err | tail -1)")
		s=$(minof "$s" "$(straced "$@" 2>/dev/null | tail -1)")
	done
	ev1=$("$PML" trace dump /tmp/bench1.bin 2>/dev/null | tail -1)
	ev=$("$PML" trace dump /tmp/bench.bin 2>/dev/null | tail -1)
	say "$(awk -v n="$name" -v u="$u" -v a="$t1" -v t="$t" -v s="$s" 'BEGIN {
		printf "%-24s untraced %9.3f  pml-v1 %9.3f  pml %9.3f  strace %10.3f  pml-v1 %5.3fx  pml %5.3fx  strace %6.2fx  strace/pml overhead %6.1f\n",
			n, u, a, t, s, a / u, t / u, s / u, (t - u > 0) ? (s - u) / (t - u) : 0 }')"
	say "    last pml-v1 trace: $ev1"
	say "    last pml trace: $ev; $(grep -h 'samples\|tracer CPU' /tmp/bench.err | tr '\n' ' ')"
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
say "# pml-v1: --no-samples --no-faults --no-objects; pml: the defaults ($("$PML" trace record --help 2>&1 | grep -A1 -e '--sample-hz' | grep -o 'default [0-9]*' | head -1) Hz samples, faults, objects)"
row "getpid loop (ns/call)" $B getpid "$N"
row "open+close (ns/pair)" $B openclose "$((N / 4))"
row "tar of $(du -sh /tmp/tree | cut -f1) tree (ms)" $B time tar cf /tmp/tree.tar -C /tmp tree
row "shell script (ms)" $B time sh /tmp/script.sh

# what each BPF program costs on the shell script (kernel BPF stats), and the sampling
# alone: the script without samples against 99 Hz and 1 kHz, faults and objects on
say "# BPF programs on one traced run of the shell script (--stats):"
"$PML" trace record -o /tmp/stats.bin --stats -- $B time sh /tmp/script.sh > /tmp/stats.out 2> /tmp/stats.err
say "    script $(tail -1 /tmp/stats.out) ms"
while read -r line; do say "    $line"; done < /tmp/stats.err
say "# sampling rate on the shell script (ms, best of $ROUNDS):"
n0=""; n1=""; n5=""
for i in $(seq "$ROUNDS"); do
	n0=$(minof "$n0" "$("$PML" trace record -o /tmp/s0.bin --no-samples -- $B time sh /tmp/script.sh 2>/dev/null | tail -1)")
	n1=$(minof "$n1" "$("$PML" trace record -o /tmp/s1.bin --sample-hz 99 -- $B time sh /tmp/script.sh 2>/dev/null | tail -1)")
	n5=$(minof "$n5" "$("$PML" trace record -o /tmp/s5.bin --sample-hz 1000 -- $B time sh /tmp/script.sh 2>/dev/null | tail -1)")
done
say "$(awk -v a="$n0" -v b="$n1" -v c="$n5" 'BEGIN { printf "    no samples %.1f  99 Hz %.1f (%.3fx)  1 kHz %.1f (%.3fx)\n", a, b, b / a, c, c / a }')"
