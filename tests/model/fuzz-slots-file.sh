#!/usr/bin/env bash
# Build the slot model reader's libFuzzer target (tests/fuzz/fuzz-slots-file.c) with clang
# and run it for FUZZ_TIME seconds (default 20), seeded with tests/fixtures/model/*.pmls.
# A crash leaves its input as BUILD/fuzz/crash-* and fails the script.
#   tests/model/fuzz-slots-file.sh [BUILD]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
out=$root/$build/fuzz
cc=${FUZZ_CC:-clang}
mkdir -p "$out/corpus-slots"
cp -n "$root"/tests/fixtures/model/*.pmls "$out/corpus-slots/" 2>/dev/null || true
"$cc" -g -O1 -std=gnu17 -D_GNU_SOURCE -I"$root/src" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$out/fuzz-slots-file" "$root/tests/fuzz/fuzz-slots-file.c" \
	"$root/src/model/slots-file.c" "$root/src/model/slots.c" "$root/src/model/model-file.c" \
	"$root/src/model/lstm.c" "$root/src/model/lstm-layers.c" "$root/src/model/rng.c" \
	"$root/src/model/prior-tokens.c" "$root/src/model/word-tokens.c" \
	"$root/src/model/record-tokens.c" "$root/src/model/vocab.c" "$root/src/util/log.c" \
	"$root/src/util/modname.c" "$root/src/trace/trace-decode.c" "$root/src/util/json.c" "$root/src/util/parse.c" "$root/src/util/option-table.c" \
	-lz -lm -lpthread
cd "$out"
nice ./fuzz-slots-file -max_total_time="${FUZZ_TIME:-20}" -max_len=4096 -artifact_prefix=crash- \
	corpus-slots
