#!/usr/bin/env bash
# Build and run the predictor benchmark (ns per event) against BUILD/libpml.a.
#   tests/model/bench.sh [BUILD] [EVENTS]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
make -C "$root" -s "$build/libpml.a"
cc -O2 -g -std=gnu17 -D_GNU_SOURCE -I"$root/src" -o "$root/$build/bench-predictor" \
	"$root/tests/model/bench-predictor.c" "$root/$build/libpml.a" -lm -lpthread
nice "$root/$build/bench-predictor" ${2:-}
