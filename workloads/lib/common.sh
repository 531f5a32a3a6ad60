# Shared helpers of the workload scenarios (POSIX sh, sourced by every workloads/*/*.sh).
#
# A scenario is a realistic task that makes the kernel autoload modules. What it does is
# drawn from a seed (PML_SEED, random when unset) so that no two runs give the same trace
# but any run can be repeated: sizes, names, orders, addresses, optional steps and the
# unrelated background activity all come from pml_rand. The seed and every drawn parameter
# are printed at the start ("pml-param NAME VALUE") so the collector can record them.
#
# Cleanup is a stack: pml_defer CMD pushes a command run (last first) at exit, so the next
# scenario of a batch finds the guest as it was (no mounts, netns, links, loop devices),
# which is what lets the driver unload the modules again between scenarios.

PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

PML_WORKLOADS=${PML_WORKLOADS:-$(cd "$(dirname "$0")/.." && pwd)}
PML_TOOLS=${PML_TOOLS:-$PML_WORKLOADS/bin}
export PML_WORKLOADS PML_TOOLS

if [ -z "${PML_SEED:-}" ]; then
	PML_SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fi
export PML_SEED
PML_SCENARIO=${PML_SCENARIO:-$(basename "$0" .sh)}
# The generator: a 64-bit LCG in shell arithmetic (dash and busybox sh have intmax_t),
# the scenario's name mixed into the state so two scenarios with one seed differ.
_pml_rs=$PML_SEED
for _c in $(printf '%s' "$PML_SCENARIO" | od -An -tu1); do
	_pml_rs=$(( (_pml_rs * 31 + _c) % 4294967296 ))
done

# pml_rand VAR N: VAR = a number in [0, N).
pml_rand() {
	_pml_rs=$(( (_pml_rs * 6364136223846793005 + 1442695040888963407) & 0x7fffffffffffffff ))
	eval "$1=$(( (_pml_rs >> 17) % $2 ))"
}

# pml_range VAR LO HI: VAR = a number in [LO, HI].
pml_range() {
	pml_rand _pml_t $(( $3 - $2 + 1 ))
	eval "$1=$(( $2 + _pml_t ))"
}

# pml_pick VAR WORD...: VAR = one of the words.
pml_pick() {
	_pml_v=$1
	shift
	pml_rand _pml_t $#
	shift "$_pml_t"
	eval "$_pml_v=\$1"
}

# pml_shuffle WORD...: prints the words in a random order, one a line.
pml_shuffle() {
	_pml_l=""
	for _w in "$@"; do
		pml_rand _pml_t 1000000
		_pml_l="$_pml_l$_pml_t $_w
"
	done
	printf '%s' "$_pml_l" | sort -n | cut -d' ' -f2-
}

# pml_chance VAR PERCENT: VAR = 1 with that probability, else 0.
pml_chance() {
	pml_rand _pml_t 100
	if [ "$_pml_t" -lt "$2" ]; then eval "$1=1"; else eval "$1=0"; fi
}

# pml_hex VAR BYTES: VAR = BYTES random bytes in hex (from the seed, not /dev/urandom).
pml_hex() {
	_pml_h=""
	_pml_i=0
	while [ "$_pml_i" -lt "$2" ]; do
		pml_rand _pml_t 256
		_pml_h=$_pml_h$(printf '%02x' "$_pml_t")
		_pml_i=$((_pml_i + 1))
	done
	eval "$1=$_pml_h"
}

pml_param() {
	echo "pml-param $1 $2"
}

pml_step() {
	echo "pml-step $*"
}

pml_die() {
	echo "pml-fail $*" >&2
	exit 1
}

# pml_sleep: a short random pause (0-300 ms), as a person or a job script would leave.
pml_sleep() {
	pml_rand _pml_t 4
	[ "$_pml_t" -eq 0 ] || sleep "0.$((_pml_t * 7))"
}

# The cleanup stack.
_pml_defer=""
pml_defer() {
	_pml_defer="$*
$_pml_defer"
}
_pml_cleanup() {
	_pml_rc=$?
	set +e
	pml_noise_stop
	printf '%s' "$_pml_defer" | while IFS= read -r _cmd; do
		[ -n "$_cmd" ] && eval "$_cmd" >/dev/null 2>&1
	done
	exit "$_pml_rc"
}
trap _pml_cleanup EXIT
trap 'exit 130' INT TERM

# Unrelated background activity, so the trace is not only the task: file churn, hashing,
# process spawning, reading /proc and /sys. None of it loads a module.
_pml_noise_pids=""
pml_noise_start() {
	pml_rand _pml_n 3
	pml_param noise "$_pml_n"
	_pml_k=0
	while [ "$_pml_k" -lt "$_pml_n" ]; do
		pml_pick _pml_kind churn hash spawn procfs compress
		pml_param noise_kind "$_pml_kind"
		_pml_noise_one "$_pml_kind" &
		_pml_noise_pids="$_pml_noise_pids $!"
		_pml_k=$((_pml_k + 1))
	done
}
_pml_noise_one() {
	d=$(mktemp -d /tmp/pml-noise.XXXXXX)
	trap 'rm -rf "$d"; exit 0' TERM INT
	while :; do
		case $1 in
		churn)
			i=0
			while [ $i -lt 20 ]; do
				head -c $((i * 512)) /dev/zero > "$d/f$i"; i=$((i + 1))
			done
			rm -f "$d"/f*
			;;
		hash) find /usr/share/doc -type f 2>/dev/null | head -40 | xargs cat 2>/dev/null |
			sha256sum > /dev/null ;;
		spawn) for i in 1 2 3 4 5; do /bin/true; date > /dev/null; done ;;
		procfs) cat /proc/meminfo /proc/stat /proc/interrupts > /dev/null 2>&1
			ls /sys/class/net /sys/block > /dev/null 2>&1 ;;
		compress) head -c 65536 /dev/urandom | gzip -c > "$d/z.gz"; gzip -dc "$d/z.gz" |
			wc -c > /dev/null ;;
		esac
		sleep 0.2
	done
}
pml_noise_stop() {
	for _p in $_pml_noise_pids; do
		kill "$_p" 2>/dev/null
	done
	for _p in $_pml_noise_pids; do
		wait "$_p" 2>/dev/null
	done
	_pml_noise_pids=""
}

# pml_tool NAME: the path of a compiled helper (workloads/tools/NAME.c).
pml_tool() {
	if [ -x "$PML_TOOLS/$1" ]; then
		echo "$PML_TOOLS/$1"
	else
		pml_die "tool $1 missing in $PML_TOOLS (run workloads/tools/build)"
	fi
}

# pml_need_cmd CMD...: fail clearly when the guest lacks a program.
pml_need_cmd() {
	for _c in "$@"; do
		command -v "$_c" > /dev/null 2>&1 || pml_die "command $_c missing (pml-packages?)"
	done
}

# pml_netns NAME: make a network namespace, deleted at exit.
pml_netns() {
	ip netns add "$1"
	pml_defer ip netns del "$1"
	ip -n "$1" link set lo up
}

# pml_loopdev VAR FILE: attach FILE to a free loop device, detached at exit.
pml_loopdev() {
	_pml_ld=$(losetup -f --show "$2")
	pml_defer losetup -d "$_pml_ld"
	eval "$1=$_pml_ld"
}

# pml_mount ARGS... DIR: mount, unmounted at exit (lazily, if busy).
pml_mount() {
	for _m; do :; done
	mkdir -p "$_m"
	mount "$@"
	pml_defer "umount $_m || umount -l $_m"
}

# pml_files DIR COUNT MAXKB: COUNT files of random sizes with a manifest, for copy tasks.
pml_files() {
	mkdir -p "$1"
	_pml_i=0
	while [ "$_pml_i" -lt "$2" ]; do
		pml_range _pml_kb 1 "$3"
		head -c $((_pml_kb * 1024)) /dev/urandom > "$1/file$_pml_i.dat"
		_pml_i=$((_pml_i + 1))
	done
	(cd "$1" && sha256sum file*.dat > MANIFEST)
}

pml_start() {
	echo "pml-scenario $PML_SCENARIO seed $PML_SEED"
	pml_chance _pml_bg 70
	[ "$_pml_bg" -eq 1 ] && pml_noise_start
	:
}

# pml_expect MOD...: modules this run needs because of a drawn parameter (a cipher, a
# codepage), on top of the header's fixed pml-expect list; the verifier adds them.
pml_expect() {
	echo "pml-expect-extra $*"
}

# pml_ns_pair NS1 NS2 NET: two namespaces joined by a veth pair, NET.1/24 and NET.2/24
# (NET like 10.7.3); the ends are called ul0 in both.
pml_ns_pair() {
	pml_netns "$1"
	pml_netns "$2"
	ip link add ul0 netns "$1" type veth peer name ul0 netns "$2"
	ip -n "$1" addr add "$3.1/24" dev ul0
	ip -n "$2" addr add "$3.2/24" dev ul0
	ip -n "$1" link set ul0 up
	ip -n "$2" link set ul0 up
}

# pml_net VAR: VAR = a random private /24 prefix (10.A.B).
pml_net() {
	pml_range _pml_a 1 254
	pml_range _pml_b 1 254
	eval "$1=10.$_pml_a.$_pml_b"
}

# pml_ping NS ADDR: a few pings from NS (iputils ping, else busybox's).
if command -v ping > /dev/null 2>&1; then PML_PING=ping; else PML_PING="busybox ping"; fi
export PML_PING
pml_ping() {
	pml_range _pml_c 2 4
	ip netns exec "$1" $PML_PING -c "$_pml_c" -W 2 "$2" > /dev/null
}
