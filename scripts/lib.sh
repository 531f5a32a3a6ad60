# Shared by pml's shell scripts: the cache location (same rule as src/vm/paths.c) and
# messages. Source it; it defines no side effects.
pml_cache() {
	if [ -n "${PML_CACHE:-}" ]; then printf '%s\n' "$PML_CACHE"
	elif [ -n "${XDG_CACHE_HOME:-}" ]; then printf '%s\n' "$XDG_CACHE_HOME/pml"
	else printf '%s\n' "${HOME:-/root}/.cache/pml"; fi
}
say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { say "error: $*"; exit 1; }
