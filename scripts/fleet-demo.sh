#!/bin/sh
# make fleet-demo: fleet mode end to end, under a temporary directory.  A
# real slapd (tests/fleet/slapd.sh: pat's schema, syncprov, the ACLs of
# fleet/slapd-acl.ldif) and three patd "hosts", each with its own state,
# socket and directory identity (issuer-1, host-2, host-3) and one shared
# token.key.  A token is created on host 1, verified on hosts 2 and 3,
# revoked on host 3 and refused on hosts 1 and 2; the propagation time is
# printed.  Everything is removed at the end.  Exits 0 only if every step
# behaved.  Root only: patd wants its directory password files root's.
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
patctl="$top/$build/patctl"
patd="$top/$build/patd"
base=dc=example,dc=org
PATH=$PATH:/usr/sbin

bold= plain=
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-dumb}" != dumb ]; then
	bold=$(printf '\033[1m') plain=$(printf '\033[0m')
fi
fail() { echo "fleet-demo FAILED: $*" >&2; exit 1; }
step() { printf '\n%s%s%s\n' "$bold" "$*" "$plain"; }
ms() { date +%s%3N; }

[ "$(id -u)" = 0 ] || fail "run as root (patd refuses a fleet password" \
    "file that is not root's)"
command -v slapd >/dev/null && command -v ldapadd >/dev/null ||
	fail "slapd or ldap-utils missing: scripts/deps.sh test installs them"

work=$(mktemp -d /tmp/pat-fleet-demo.XXXXXX) || fail "mktemp"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	"$top/tests/fleet/slapd.sh" stop "$work/slapd" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# a port of our own (slapd.sh tries another when one is taken)
port=$("$top/tests/fleet/slapd.sh" start-free "$work/slapd" \
    2>"$work/slapd.err") || fail "slapd did not start: $(cat "$work/slapd.err")"
echo "pat fleet demo: slapd on ldap://127.0.0.1:$port ($base), work in $work"

# host N: identity, password file (root, 0600), patd.conf
start_host() {	# start_host N IDENTITY
	h="$work/host$1"
	mkdir -p "$h/state" && chmod 700 "$h/state"
	printf '%s\n' "$2" >"$h/fleet.pw" && chmod 600 "$h/fleet.pw"
	cat >"$h/patd.conf" <<EOC
fleet_uri = ldap://127.0.0.1:$port
fleet_base = $base
fleet_bind_dn = cn=$2,ou=hosts,$base
fleet_bind_password_file = $h/fleet.pw
fleet_retry = 1
EOC
	# the fleet's hosts share the key that hashes tokens (host 1's)
	[ "$1" = 1 ] || cp -p "$work/host1/state/token.key" "$h/state/"
	"$patd" --config "$h/patd.conf" --socket "$h/patd.sock" \
	    --state "$h/state" 2>"$h/patd.log" &
	pids="$pids $!"
	for _ in $(seq 200); do
		"$patctl" --socket "$h/patd.sock" --json status 2>/dev/null |
		    grep -q '"fleet":"connected"' && return 0
		sleep 0.05
	done
	cat "$h/patd.log" >&2
	fail "host $1 did not connect to the directory"
}
ctl() {	# ctl N ARGS...: patctl against host N
	n=$1
	shift
	"$patctl" --socket "$work/host$n/patd.sock" "$@"
}
step "three hosts: patd as issuer-1, host-2 and host-3 (only issuer-1 may mint)"
start_host 1 issuer-1
start_host 2 host-2
start_host 3 host-3
for _ in $(seq 200); do
	ctl 1 --json status | grep -q '"fleet_issuer":"yes"' && break
	sleep 0.05
done
ctl 1 status | grep '^fleet' || fail "host 1 has no fleet status"

step "host 1: patctl role set demo pam.demo; patctl grant demo --user root"
ctl 1 role set demo pam.demo >/dev/null || fail "role set on host 1"
ctl 1 grant demo --user root >/dev/null || fail "grant on host 1"

step "host 1: TOKEN=\$(patctl create --role demo --name fleet-demo)"
TOKEN=$(ctl 1 create --role demo --name fleet-demo) || fail "create on host 1"
id=${TOKEN%%|*}
echo "token $id created (kept in \$TOKEN; shown once, never logged)"

verify() {	# verify N: 0 when host N accepts the token for pam.demo
	printf '%s\n' "$TOKEN" | ctl "$1" verify --perm pam.demo >/dev/null 2>&1
}
wait_for() {	# wait_for N accepted|refused LIMIT_MS: ms it took
	t0=$(ms)
	while :; do
		if verify "$1"; then got=accepted; else got=refused; fi
		[ "$got" = "$2" ] && { echo $(($(ms) - t0)); return 0; }
		[ $(($(ms) - t0)) -gt "$3" ] && return 1
		sleep 0.005
	done
}
step "hosts 2 and 3: echo \"\$TOKEN\" | patctl verify --perm pam.demo"
verify 1 || fail "host 1 does not accept the token it just created"
for n in 2 3; do
	t=$(wait_for $n accepted 3000) || fail "host $n never accepted the token"
	echo "host $n: accepted (it arrived within $t ms)"
done

step "host 2: patctl create (host 2 is not an issuer)"
if ctl 2 create --role demo --name not-here >/dev/null 2>"$work/err"; then
	fail "host 2 minted a token"
fi
sed 's/^/  /' "$work/err"

step "host 3: patctl revoke $id"
t0=$(ms)
ctl 3 revoke "$id" || fail "revoke on host 3"
verify 3 && fail "host 3 still accepts the token it revoked"
for n in 1 2; do
	wait_for $n refused 3000 >/dev/null ||
		fail "host $n still accepts the revoked token"
	echo "host $n: refused"
done
total=$(($(ms) - t0))

step "host 2: patctl status"
ctl 2 status | grep '^fleet'

printf '\n%sfleet demo passed:%s a token made on host 1 worked on hosts 2 and 3;\n' \
    "$bold" "$plain"
echo "revoked on host 3, it was refused on hosts 1 and 2 within $total ms of the revoke command."
