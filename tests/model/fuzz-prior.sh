#!/usr/bin/env bash
# Build the prior reader's libFuzzer target (tests/fuzz/fuzz-prior.c: the sh lexer over a
# submitted command line and script, the slot model's and the naming rules' reading of it,
# the wait of the script's namings) with clang and
# run it for FUZZ_TIME seconds (default 20), seeded with the workloads' scripts. A crash
# leaves its input as BUILD/fuzz/crash-* and fails the script.
#   tests/model/fuzz-prior.sh [BUILD]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
out=$root/$build/fuzz
cc=${FUZZ_CC:-clang}
mkdir -p "$out/corpus-prior"
for f in "$root"/workloads/*/*.sh; do
	n=$(basename "$(dirname "$f")")-$(basename "$f")
	[ -e "$out/corpus-prior/$n" ] || { printf 'sh ./run.sh\0'; cat "$f"; } > "$out/corpus-prior/$n"
done
"$cc" -g -O1 -std=gnu17 -D_GNU_SOURCE -I"$root/src" \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-o "$out/fuzz-prior" "$root/tests/fuzz/fuzz-prior.c" \
	"$root/src/model/slots.c" "$root/src/policy/name-rules.c" "$root/src/policy/name-wait.c" \
	"$root/src/model/prior-tokens.c" "$root/src/model/word-tokens.c" \
	"$root/src/model/record-tokens.c" "$root/src/model/vocab.c" "$root/src/util/log.c" \
	"$root/src/util/modname.c" "$root/src/trace/trace-decode.c" "$root/src/util/json.c" \
	-lm
cd "$out"
nice ./fuzz-prior -max_total_time="${FUZZ_TIME:-20}" -max_len=65536 -timeout=10 \
	-rss_limit_mb=1024 -artifact_prefix=crash- corpus-prior
