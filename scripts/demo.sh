#!/bin/sh
# make demo: the main job end to end, touching nothing outside the checkout.
# patd runs on a private socket and state directory under .demo/; we make a
# role, grant it, create a token, see a real PAM stack (pam_wrapper +
# pamtester, service "demo") accept it at its password prompt, revoke it,
# and see it refused.  Exits non-zero if any step does not behave.
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
demo="$top/.demo"
patctl="$top/$build/patctl"
patd="$top/$build/patd"
user=$(id -un)

rm -rf "$demo"
mkdir -p "$demo"
export PATD_SOCKET="$demo/patd.sock"
# patctl trusts only root's socket unless told whose else: this patd is ours
export PATD_SOCKET_OWNER="$user"

"$patd" --socket "$PATD_SOCKET" --state "$demo/state" 2>"$demo/patd.log" &
patd_pid=$!
trap 'kill $patd_pid 2>/dev/null; wait $patd_pid 2>/dev/null' EXIT
for _ in $(seq 100); do
	[ -S "$PATD_SOCKET" ] && break
	sleep 0.05
done

# bold only for a person at a terminal who has not asked for no colour
bold= plain=
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ] && [ "${TERM:-dumb}" != dumb ]; then
	bold=$(printf '\033[1m') plain=$(printf '\033[0m')
fi
fail() { echo "demo FAILED: $*" >&2; exit 1; }
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
run() { step "patctl $*"; "$patctl" "$@" || fail "patctl $* exited $?"; }

echo "pat demo: patd on $PATD_SOCKET, state in $demo/state, as user $user"
run status
run role set demo pam.demo svc.demo:read
run grant demo --user "$user"
step "TOKEN=\$(patctl create --role demo --name demo-token --expires 30d)"
TOKEN=$("$patctl" create --role demo --name demo-token --expires 30d) ||
	fail "create"
echo "(token kept in \$TOKEN; shown once, never logged)"
run list

# A real PAM stack, without touching /etc/pam.d: pam_wrapper reads it here.
mkdir -p "$demo/pam.d"
echo "auth required pam_deny.so" >"$demo/pam.d/other"
echo "auth required $top/$build/pam_pat.so socket=$PATD_SOCKET" \
	>"$demo/pam.d/demo"
pam_auth() {
	printf '%s\n' "$1" | LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1 \
	    PAM_WRAPPER_SERVICE_DIR="$demo/pam.d" pamtester demo "$user" \
	    authenticate
}
step "cat .demo/pam.d/demo"
cat "$demo/pam.d/demo"
step "echo \"\$TOKEN\" | pamtester demo $user authenticate   # needs pam.demo"
pam_auth "$TOKEN" || fail "the PAM stack refused a fresh token"
echo "=> ACCEPTED by PAM"

step "echo \"\$TOKEN\" | patctl verify --perm pam.demo"
printf '%s\n' "$TOKEN" | "$patctl" verify --perm pam.demo ||
	fail "a fresh token was refused"
echo "=> ACCEPTED"

step "echo \"\$TOKEN\" | patctl verify --perm pam.sshd   # not in the role"
if printf '%s\n' "$TOKEN" | "$patctl" verify --perm pam.sshd; then
	fail "a permission outside the role was accepted"
fi
echo "=> REFUSED (permission missing), as it should be"

run revoke 1
step "echo \"\$TOKEN\" | pamtester demo $user authenticate"
if pam_auth "$TOKEN"; then
	fail "the PAM stack accepted a revoked token"
fi
echo "=> REFUSED by PAM after revocation"
step "echo \"\$TOKEN\" | patctl verify --perm pam.demo"
if printf '%s\n' "$TOKEN" | "$patctl" verify --perm pam.demo; then
	fail "a revoked token was accepted"
fi
echo "=> REFUSED after revocation"

if grep -q "${TOKEN#*|pat-}" "$demo/patd.log"; then
	fail "the secret appeared in patd's log"
fi
step "patd's log ($demo/patd.log): ids and users, never secrets"
cat "$demo/patd.log"
TOKEN=
printf '\n%sdemo OK: accepted by PAM, then refused after revocation%s\n' \
	"$bold" "$plain"
