#!/bin/sh
# leakcheck.sh RUN - after a test run, no process and no temporary file of run RUN may remain.
#
# Every process the suite starts carries PAT_TEST_RUN=RUN in its environment
# and every temporary name it makes starts with /tmp/pat-test.RUN. (see
# tests/harness.h), so this finds exactly this run's leftovers, not those of
# a run going on beside it.  Whatever it finds is printed (pid, uid, command
# line / path), then killed or removed, and the exit status is 3.  It prints
# one "[LEAKCHECK] ok" or "[LEAKCHECK] FAILED" line either way.
# Exits 2 on a bad RUN.
set -u
run=${1:-}
case $run in
'' | *[!0-9a-zA-Z]*) echo "[LEAKCHECK] usage: leakcheck.sh RUN (letters and digits)" >&2; exit 2 ;;
esac
unset PAT_TEST_RUN PAT_TEST_CASE	# not ourselves, whoever called us

# Our own ancestors (make, a shell that exported the tag) are not leaks.
ancestors=" $$ "
p=$$
while [ "$p" -gt 1 ] 2>/dev/null; do
	p=$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || break
	[ -n "$p" ] || break
	ancestors="$ancestors$p "
done

procs() {
	grep -l -z -x "PAT_TEST_RUN=$run" /proc/[0-9]*/environ 2>/dev/null |
	    sed 's|^/proc/\([0-9]*\)/environ$|\1|' | while read -r pid; do
		case $ancestors in *" $pid "*) ;; *) echo "$pid" ;; esac
	done
}
paths() { ls -d /tmp/*"$run"* 2>/dev/null; }

# A process killed at the very end may take a moment to go: look again
# for up to a second before calling anything a leak.
for _ in 1 2 3 4 5 6 7 8 9 10; do
	left=$(procs)
	[ -z "$left" ] && break
	sleep 0.1
done
files=$(paths)
np=0
nf=0
for pid in $left; do
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
	[ -n "$uid" ] || continue	# gone meanwhile
	echo "[LEAKCHECK] leaked process: pid $pid uid $uid: $cmd"
	kill -KILL "$pid" 2>/dev/null
	np=$((np + 1))
done
for f in $files; do
	echo "[LEAKCHECK] leaked temporary path: $f"
	rm -rf "$f"
	nf=$((nf + 1))
done
if [ $np -eq 0 ] && [ $nf -eq 0 ]; then
	echo "[LEAKCHECK] ok: test run $run left no process and no temporary file behind"
	exit 0
fi
echo "[LEAKCHECK] FAILED: test run $run left $np process(es) and $nf temporary path(s) behind" \
    "(now killed and removed). This is a test-hygiene failure, not a security verdict:" \
    "some test started a helper the harness does not own (use t_bg, t_fork, t_tmpname)."
exit 3
