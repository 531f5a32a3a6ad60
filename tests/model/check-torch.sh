#!/usr/bin/env bash
# Compare the C LSTM with torch afresh: regenerate the golden tensors with the installed
# python3-torch (tests/model/lstm_ref.py) into a temporary folder and run the C comparison
# (build/tests/test-model-torch) on them. The unit suite runs the same C test on the golden
# files committed under tests/fixtures/model/, so it needs no torch; this script is the
# check that those files still agree with torch.
#   tests/model/check-torch.sh [--install] [--update] [BUILD]
#     --install  apt-get install python3-torch when it is missing (big: ~1 GB, once)
#     --update   also copy the fresh golden files into tests/fixtures/model/
# Exit 0 on pass, 1 on a mismatch, 77 (skipped) when torch is absent and not installed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
install=0 update=0 build=build
for a in "$@"; do
	case $a in
	--install) install=1 ;;
	--update) update=1 ;;
	-h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) build=$a ;;
	esac
done

find_torch() {
	# Debian's torch is for Debian's python; a pyenv or venv python3 first on PATH lacks it
	for py in /usr/bin/python3 python3; do
		if command -v "$py" >/dev/null && "$py" -c 'import torch' 2>/dev/null; then
			echo "$py"; return 0
		fi
	done
	return 1
}

if ! py=$(find_torch); then
	if [ "$install" = 1 ]; then
		echo "check-torch: installing python3-torch (Debian package)"
		DEBIAN_FRONTEND=noninteractive nice apt-get install -y --no-install-recommends python3-torch
		py=$(find_torch) || { echo "check-torch: torch still not importable"; exit 1; }
	else
		echo "SKIP check-torch: python3-torch is not installed (apt-get install python3-torch," \
		     "or run with --install); the committed golden files are still checked by make check"
		exit 77
	fi
fi
make -C "$root" -s "$build/tests/test-model-torch" >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for l in 1 2; do
	nice "$py" "$here/lstm_ref.py" --layers "$l" "$tmp/lstm-golden-l$l.bin"
done
PML_MODEL_GOLDEN_DIR=$tmp "$root/$build/tests/test-model-torch"
if [ "$update" = 1 ]; then
	cp "$tmp"/lstm-golden-l*.bin "$root/tests/fixtures/model/"
	echo "check-torch: golden files updated in tests/fixtures/model/"
fi
exit 0
