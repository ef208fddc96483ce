#!/bin/sh
# hygiene.sh BUILD - show that a test failing mid-way leaves no process and no temporary file.
#
# Each case runs one test with PAT_TEST_FAIL_ONE (see tests/harness.h), so it
# fails (or crashes) right after it started its helper processes, then runs
# tests/tools/leakcheck.sh on that run: the test must have failed with its
# helper running, and nothing of the run may remain.  The last case turns
# the harness's clean-up off (PAT_TEST_NO_CLEANUP=1): then the leak check
# must find the leftovers, or it proves nothing.
# Prints "ok - ..." / "not ok - ..." and a closing "N passed, M failed".
set -u
build=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0
fail=0
out=$(mktemp /tmp/pat-hygiene-log.XXXXXX) || exit 1
trap 'rm -f "$out"' EXIT

# case FAIL_ONE CLEANUP(on|off) LEAKCHECK(ok|FAILED) WHAT
case_() {
	fail_one=$1 cleanup=$2 want=$3 what=$4
	run=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
	nc=; [ "$cleanup" = off ] && nc=1
	# into a file, not a pipe: a leaked helper may hold the runner's
	# output open (reading a pipe would wait for it)
	PAT_TEST_RUN=$run PAT_TEST_FAIL_ONE=$fail_one PAT_TEST_NO_CLEANUP=$nc \
	    PAT_BUILD=$build PAT_SRC=$top "$build/tests/run" \
	    --filter "${fail_one%%:*}" >"$out" 2>&1
	rc=$?
	lc=$("$top/tests/tools/leakcheck.sh" "$run")
	log=$(cat "$out")
	purpose=$(printf '%s\n' "$log" | grep '^\[HYGIENE\] PAT_TEST_FAIL_ONE' | head -1)
	synth=$(printf '%s\n' "$log" | grep 'Synthesis' | sed 's/.*Synthesis: //')
	runner=$(printf '%s\n' "$log" | grep -c 'the runner removed them')
	echo "# $fail_one (clean-up $cleanup): $what"
	echo "#   ${purpose#\[HYGIENE\] }"
	echo "#   runner: $synth, exit $rc; runner-side clean-ups: $runner"
	printf '%s\n' "$lc" | sed 's/^/#   /'
	if [ $rc -ne 0 ] && [ -n "$purpose" ] &&
	    printf '%s\n' "$purpose" | grep -q 'still running' &&
	    printf '%s\n' "$synth" | grep -q 'Tested: 1 |' &&
	    printf '%s\n' "$lc" | grep -q "^\[LEAKCHECK\] $want"; then
		pass=$((pass + 1)); echo "ok - $fail_one, clean-up $cleanup: leak check $want"
	else
		fail=$((fail + 1)); echo "not ok - $fail_one, clean-up $cleanup: leak check $want expected"
		printf '%s\n' "$log" | tail -20 | sed 's/^/#   | /'
	fi
}

case_ pam/a_patd_not_run_by_root_is_not_trusted on ok \
    "an assertion fails while alice's own patd runs (setpriv: no parent-death signal)"
case_ systemd/systemd_socket_activate_hands_patd_the_socket on ok \
    "an assertion fails while root's systemd-socket-activate runs"
case_ pam/a_patd_that_never_answers_costs_only_the_timeout on ok \
    "an assertion fails while a forked fake patd runs"
case_ pam/a_patd_not_run_by_root_is_not_trusted:crash on ok \
    "the test's process aborts (no teardown, no atexit): the runner cleans up"
case_ systemd/idle_exit_and_back_on_the_next_connection:crash on ok \
    "the test's process aborts while the socket supervisor runs"
case_ pam/a_patd_not_run_by_root_is_not_trusted off FAILED \
    "control: with the harness's clean-up off, the leak check must see the leftovers"
case_ pam/a_patd_that_never_answers_costs_only_the_timeout off FAILED \
    "control: the same for a forked helper"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
