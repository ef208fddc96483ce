#!/bin/sh
# Milliseconds per PAM authentication: N in one process (tests/tools/pamcall,
# real libpam, private config dir), answering SECRET at each prompt.
#   pamtime.sh BUILD CONFDIR SERVICE USER N SECRET
set -eu
B=$1 confdir=$2 svc=$3 user=$4 n=$5 secret=$6
t0=$(date +%s%N)
ok=$(printf '%s\n' "$secret" | "$B/tests/pamcall" --confdir "$confdir" \
    --service "$svc" --user "$user" --repeat "$n" | grep -c PAM_SUCCESS || true)
t1=$(date +%s%N)
[ "$ok" -eq "$n" ] || echo "pamtime: $svc: only $ok of $n succeeded" >&2
awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN {printf "%.3f\n", (b - a) / 1e6 / n}'
