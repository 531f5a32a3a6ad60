#!/usr/bin/env bash
# Build and run the predictor benchmark (ns per event) against BUILD/libpml.a: the
# predictors on a synthetic token stream, then the lstm policy's whole per-record path
# (features + predictor) on the guest acceptance trace, with MODEL when given (default:
# the shipped data/model-lstm-*.pmlm when present, and untrained LSTMs of three sizes).
#   tests/model/bench.sh [BUILD] [EVENTS] [MODEL]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
make -C "$root" -s "$build/libpml.a"
cc -O2 -g -std=gnu17 -D_GNU_SOURCE -I"$root/src" -o "$root/$build/bench-predictor" \
	"$root/tests/model/bench-predictor.c" "$root/$build/libpml.a" $(pkg-config --libs libkmod sqlite3 libbpf libelf zlib) -lm -lpthread
trace=$root/tests/fixtures/trace/guest-acceptance.bin
model=${3:-$(ls "$root"/data/model-lstm-*.pmlm 2>/dev/null | head -1)}
nice "$root/$build/bench-predictor" "${2:-200000}" "$trace"
if [ -n "$model" ]; then
	"$root/$build/bench-predictor" 1 "$trace" "$model" | tail -1
fi
