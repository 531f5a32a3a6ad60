#!/usr/bin/env bash
# Training throughput of the C LSTM against PyTorch-CPU, same model size, same data, same
# initial weights, same procedure (tests/model/bench-train.c, tests/model/train_ref.py),
# measured in one run; both loss curves go to OUT (default BUILD/model/train-vs-torch.tsv:
# step, C loss, torch loss). The ratio is reported on CPU time (fair on a shared machine)
# and on wall time, one thread each; with THREADS=2 also both at two threads.
#   tests/model/train-vs-torch.sh [BUILD] [-- bench-train options, e.g. -S 400 -H 128]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=build
[ $# -gt 0 ] && [ "$1" != "--" ] && { build=$1; shift; }
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
py=
for p in /usr/bin/python3 python3; do
	if command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null; then py=$p; break; fi
done
if [ -z "$py" ]; then
	echo "SKIP train-vs-torch: python3-torch is not installed (apt-get install python3-torch)"
	exit 77
fi
out=$root/$build/model
mkdir -p "$out"
make -C "$root" -s "$build/libpml.a"
cc -O2 -g -std=gnu17 -D_GNU_SOURCE -I"$root/src" -o "$root/$build/bench-train" \
	"$root/tests/model/bench-train.c" "$root/$build/libpml.a" -lm -lpthread
args=("-S" "400" "$@")
c1=$(nice "$root/$build/bench-train" "${args[@]}" -t 1 -o "$out/train-data.bin" -c "$out/c-curve.txt")
echo "$c1"
t1=$(nice "$py" "$root/tests/model/train_ref.py" "$out/train-data.bin" "$out/torch-curve.txt" --threads 1)
echo "$t1"
rate() { sed -E "s/.*$1 [0-9.]+ s = ([0-9]+) tokens.*/\1/" <<<"$2"; }
awk -v c="$(rate cpu "$c1")" -v t="$(rate cpu "$t1")" -v cw="$(rate wall "$c1")" \
	-v tw="$(rate wall "$t1")" 'BEGIN {
	printf "ratio C/torch, 1 thread: %.2fx on CPU time, %.2fx on wall time\n", c / t, cw / tw }'
if [ "${THREADS:-1}" -gt 1 ]; then
	c2=$(nice "$root/$build/bench-train" "${args[@]}" -t "$THREADS")
	t2=$(nice "$py" "$root/tests/model/train_ref.py" "$out/train-data.bin" /dev/null --threads "$THREADS")
	echo "$c2"; echo "$t2"
	awk -v cw="$(rate wall "$c2")" -v tw="$(rate wall "$t2")" -v n="$THREADS" 'BEGIN {
		printf "ratio C/torch, %d threads: %.2fx on wall time\n", n, cw / tw }'
fi
tsv=$out/train-vs-torch.tsv
{ echo "step	c_loss	torch_loss"; paste "$out/c-curve.txt" "$out/torch-curve.txt" |
	awk '{ printf "%s\t%s\t%s\n", $1, $2, $4 }'; } >"$tsv"
awk -F'\t' 'NR > 1 { d = $2 - $3; if (d < 0) d = -d; if (d > m) m = d; n++ }
	END { printf "loss curves: %d steps in %s, max |C - torch| %.2e\n", n, FILENAME, m }' "$tsv"
