#!/usr/bin/env bash
# The horizon's measurement (doc/model.md): train the same model with labels "needed
# within H ms" for several H and judge each on the validation split with the same,
# horizon-free measures (a need is predicted when its modules crossed the threshold
# before it; a crossing is right when the module is needed later in the run; lead time
# from the crossing to the need). Prints one line per horizon.
#   tests/model/horizon.sh DATASET [BUILD] [-- pml train options, e.g. --epochs 8]
# Environment: HORIZONS (default "500 1000 2000 5000 15000"), OUT (default BUILD/horizon).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
ds=${1:?usage: tests/model/horizon.sh DATASET [BUILD] [-- train options]}
shift
build=build
[ $# -gt 0 ] && [ "$1" != "--" ] && { build=$1; shift; }
[ $# -gt 0 ] && [ "$1" = "--" ] && shift
out=${OUT:-$root/$build/horizon}
mkdir -p "$out"
make -C "$root" -s "$build/pml"
pml=$root/$build/pml
printf '%-8s %-8s %-8s %-8s %-8s %-9s %-9s %-9s %s\n' horizon val_loss recall need_rec precis \
	lead_med lead_mean lead_p10 threshold
for h in ${HORIZONS:-500 1000 2000 5000 15000}; do
	(cd "$root" && nice "$pml" train --dataset "$ds" -o "$out/h$h.pml" --horizon-ms "$h" -q "$@" \
		>"$out/h$h.train" 2>&1)
	line=$(grep '^validation:' "$out/h$h.train" || true)
	if [ -z "$line" ]; then
		echo "$h: no validation line (see $out/h$h.train)"
		continue
	fi
	awk -v h="$h" '{
		for (i = 1; i <= NF; i++) {
			if ($i == "loss" && !loss) loss = $(i + 1)
			if ($i == "recall" && $(i - 1) == "module") rec = $(i + 1)
			if ($i == "recall" && $(i - 1) == "need") nrec = $(i + 1)
			if ($i == "precision") prec = $(i + 1)
			if ($i == "median") med = $(i + 1)
			if ($i == "mean") mean = $(i + 1)
			if ($i == "p10") p10 = $(i + 1)
			if ($i == "p" && $(i + 1) == ">=") thr = $(i + 2)
		}
		sub(":", "", thr)
		printf "%-8s %-8s %-8s %-8s %-8s %-9s %-9s %-9s %s\n", h, loss, rec, nrec, prec, med, mean, p10, thr
	}' <<<"$line"
done
