#!/bin/sh
# The tracer's parts on the shell script of trace-bench.sh, each alone over the version-1
# set, interleaved with the untraced run, best of R (9): which part of the defaults costs.
#   build/pml run --timeout 3000 --copy build/bench/trace-bench \
#       --copy tests/bench/trace-parts.sh -- sh ./trace-parts.sh
PML=/job/bin/pml; B=./trace-bench; R=${R:-9}
cat > /tmp/script.sh <<EOS
for i in \$(seq 20); do
	ls /usr/bin > /dev/null
	grep -c root /etc/passwd > /dev/null
	cat /etc/os-release | wc -l > /dev/null
done
EOS
minof() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b + 0 < a + 0) print b; else print a }'; }
u=; v1=; f=; o=; s=; d=
for i in $(seq "$R"); do
	u=$(minof "$u" "$($B time sh /tmp/script.sh | tail -1)")
	v1=$(minof "$v1" "$($PML trace record -o /tmp/a.bin --no-samples --no-faults --no-objects -- $B time sh /tmp/script.sh 2>/dev/null | tail -1)")
	f=$(minof "$f" "$($PML trace record -o /tmp/b.bin --no-samples --no-objects -- $B time sh /tmp/script.sh 2>/dev/null | tail -1)")
	o=$(minof "$o" "$($PML trace record -o /tmp/c.bin --no-samples --no-faults -- $B time sh /tmp/script.sh 2>/dev/null | tail -1)")
	s=$(minof "$s" "$($PML trace record -o /tmp/d.bin --no-faults --no-objects -- $B time sh /tmp/script.sh 2>/dev/null | tail -1)")
	d=$(minof "$d" "$($PML trace record -o /tmp/e.bin -- $B time sh /tmp/script.sh 2>/dev/null | tail -1)")
done
awk -v u="$u" -v a="$v1" -v f="$f" -v o="$o" -v s="$s" -v d="$d" 'BEGIN {
	printf "untraced %.1f ms\nv1 %.1f (%.3fx)\nv1+faults %.1f (%.3fx)\nv1+objects %.1f (%.3fx)\nv1+samples 99Hz %.1f (%.3fx)\ndefaults %.1f (%.3fx)\n",
		u, a, a/u, f, f/u, o, o/u, s, s/u, d, d/u }'
