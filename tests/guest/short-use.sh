# A prefetch used for a few microseconds (tests/guest/run, boot 16): wait until load-all has
# loaded loop, let a tick pass, open and close /dev/loop-control (a reference on loop for the
# time of one open), let another tick pass. pmld's tick reads loop at refcount 0 both times.
n=0
while ! grep -q '^loop ' /proc/modules && [ $n -lt 200 ]; do sleep 0.05; n=$((n+1)); done
sleep 0.4
exec 3</dev/loop-control
exec 3<&-
sleep 0.6
grep '^loop ' /proc/modules
