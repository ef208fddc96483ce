#!/bin/sh
# Milliseconds per PAM authentication with a new process each time, as
# sudo, su or pamtester do (pam_start, the stack, pam_end, exit).
#   pamproc.sh BUILD CONFDIR SERVICE USER N SECRET
set -eu
B=$1 confdir=$2 svc=$3 user=$4 n=$5 secret=$6
t0=$(date +%s%N)
i=0
while [ "$i" -lt "$n" ]; do
	printf '%s\n' "$secret" | "$B/tests/pamcall" --confdir "$confdir" \
	    --service "$svc" --user "$user" >/dev/null || {
		echo "pamproc: $svc failed" >&2; exit 1; }
	i=$((i + 1))
done
t1=$(date +%s%N)
awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN {printf "%.3f\n", (b - a) / 1e6 / n}'
