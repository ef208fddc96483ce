#!/bin/sh
# summary.sh DIR SUITE SYSTEM FLEET RC - the last lines of make test: which part failed, and how.
#
# CI keeps only the tail of a run's output, and the suite's failures are
# printed minutes before it.  So make test ends with this: each part's
# exit status, then every failure line the parts printed (Criterion's
# [FAIL] and [----] lines, the system and fleet checks' FAIL lines), kept
# in DIR (build/test-logs) by make test.  "-" is a part that did not run.
set -u
[ $# -eq 5 ] || { echo "usage: summary.sh DIR SUITE SYSTEM FLEET RC" >&2; exit 2; }
dir=$1 suite=$2 sys=$3 flt=$4 rc=$5
word() {
	case $1 in
	0) echo "passed" ;;
	77) echo "SKIPPED (77)" ;;
	-) echo "not run" ;;
	*) echo "FAILED (exit $1)" ;;
	esac
}
echo "[SUMMARY] Criterion suite: $(word "$suite"); system: $(word "$sys");" \
    "fleet: $(word "$flt"); make test exits $rc"
[ "$rc" -eq 0 ] && exit 0
# Criterion's report of a failed test, and its crashes and time-outs
for f in "$dir"/suite.log "$dir"/system.log "$dir"/fleet.log; do
	[ -f "$f" ] || continue
	grep -E '^\[(----|FAIL|ERR|WARN)\]|^\[(SYSTEM|FLEET)\] FAIL|CRASH|Timed out' "$f" |
	    grep -v '^\[----\] Criterion' | tail -n 40 | sed 's/^/[SUMMARY] /'
done
# Criterion's exit status is 1 when a test logged a warning, even if every
# test passed: say so, or the run reads as failed for no reason shown
if [ "$suite" != 0 ] && [ -f "$dir/suite.log" ] &&
    ! grep -qE '^\[FAIL\]|CRASH' "$dir/suite.log" &&
    grep -q '^\[WARN\]' "$dir/suite.log"; then
	echo "[SUMMARY] no test failed, but a test logged a warning ([WARN]" \
	    "above): Criterion exits 1 for that"
fi
[ "$rc" -eq 3 ] && echo "[SUMMARY] the leak check found leftovers (see [LEAKCHECK] above)"
exit 0
