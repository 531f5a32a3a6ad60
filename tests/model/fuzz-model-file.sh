#!/usr/bin/env bash
# Build the model file loader's libFuzzer target (tests/fuzz/fuzz-model-file.c) with clang
# and run it for FUZZ_TIME seconds (default 20), seeded with tests/fixtures/model/*.pml.
# A crash leaves its input as BUILD/fuzz/crash-* and fails the script.
#   tests/model/fuzz-model-file.sh [BUILD]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
out=$root/$build/fuzz
cc=${FUZZ_CC:-clang}
mkdir -p "$out/corpus-model"
cp -n "$root"/tests/fixtures/model/*.pml "$out/corpus-model/" 2>/dev/null || true
"$cc" -g -O1 -std=gnu17 -D_GNU_SOURCE -I"$root/src" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$out/fuzz-model-file" "$root/tests/fuzz/fuzz-model-file.c" \
	"$root/src/model/model-file.c" "$root/src/model/lstm.c" "$root/src/model/lstm-layers.c" \
	"$root/src/model/lstm-stream.c" "$root/src/model/rng.c" \
	"$root/src/util/log.c" \
	"$root/src/util/parse.c" "$root/src/util/option-table.c" \
	-lm -lpthread
cd "$out"
nice ./fuzz-model-file -max_total_time="${FUZZ_TIME:-20}" -max_len=8192 -artifact_prefix=crash- \
	corpus-model
