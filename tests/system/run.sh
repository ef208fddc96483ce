#!/bin/bash
# run.sh - pat's Debian packages under a real systemd (issue 15).
#
# Builds the packages twice (this version and version+1, scripts/mkdeb.sh),
# checks them with lintian, boots Debian 12 with systemd 252 as PID 1 in a
# container (box.sh), installs them there with apt, and proves what the
# units, the maintainer scripts and the PAM profile promise: socket
# activation, the hardening as the kernel sees it, idle exit, restarts and
# the watchdog, the journal's fields, SSH and sudo logins with tokens,
# upgrades that keep every token, and a purge that leaves nothing behind.
#
#   tests/system/run.sh            (as root; make test runs it)
#
# Exit: 0 all checks passed, 1 a check failed, 77 skipped (not root, tools
# missing, or the container could not be built or booted: the environment,
# never a verdict on pat; the reason is printed).  Figures are printed on
# lines starting "[SYSTEM] figure".  PAT_SYSTEST_CACHE names where the root
# filesystem is cached (default build/systest).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/system/box.sh"

say() { printf '[SYSTEM] %s\n' "$*"; }
skip() { say "SKIPPED (environment, not a verdict on pat): $*"; exit 77; }
FAILS=0 PASSES=0
ok() { PASSES=$((PASSES + 1)); say "ok   $*"; }
bad() { FAILS=$((FAILS + 1)); say "FAIL $*"; }
# check DESCRIPTION STRING REGEX
check() { if grep -Eq -- "$3" <<<"$2"; then ok "$1"; else bad "$1 (got '$(head -c 300 <<<"$2" | tr '\n' '|')', wanted /$3/)"; fi; }
# same DESCRIPTION GOT WANT: the whole of GOT, every line, is WANT
same() { if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (got '$(head -c 300 <<<"$2" | tr '\n' '|')', wanted '$(tr '\n' '|' <<<"$3")')"; fi; }
# yes DESCRIPTION CMD...: the command (on the host) succeeds
yes_() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else bad "$d"; fi; }
no_() { local d=$1; shift; if "$@" >/dev/null 2>&1; then bad "$d"; else ok "$d"; fi; }
now_ms() { date +%s%3N; }
figure() { say "figure $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (mmdebstrap, systemd-nspawn, overlay mounts)"
for t in systemd-nspawn mmdebstrap dpkg-buildpackage lintian nsenter unshare flock; do
	command -v "$t" >/dev/null || skip "$t is missing (scripts/deps.sh test installs it)"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
    grep -qw overlay /proc/filesystems || skip "no overlay file system"

T0=$(now_ms)
tag=${PAT_TEST_RUN:-$$}
W=$top/build/systest/run.$tag
BOX_DIR=$W
BOX_BIND=$W/debs
BOX_CACHE=${PAT_SYSTEST_CACHE:-$top/build/systest}
rm -rf "$W"
mkdir -p "$W/debs" "$W/logs"
cleanup() {
	box_poweroff
	# each background job is a process group of its own (set -m below):
	# dpkg-buildpackage's compilers and mmdebstrap go with it
	[ -n "${bg_pids:-}" ] && for p in $bg_pids; do kill -TERM -- -"$p"; done 2>/dev/null
	wait 2>/dev/null
	rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- the packages, the root filesystem and lintian, side by side ----------
V=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' "$top/debian/changelog")
set -m	# background jobs in their own process groups (clean-up kills them whole)
V1=$(awk -F. -v OFS=. '{ $NF = $NF + 1; print }' <<<"$V")	# version+1
"$top/scripts/mkdeb.sh" "$W/debs" >"$W/logs/deb.out" 2>&1 &
p_deb=$!
"$top/scripts/mkdeb.sh" "$W/debs" "$V1" >"$W/logs/deb1.out" 2>&1 &
p_deb1=$!
box_rootfs >"$W/logs/rootfs.out" 2>"$W/logs/rootfs.err" &
p_root=$!
bg_pids="$p_deb $p_deb1 $p_root"
T=$(now_ms)
wait $p_root; rc_root=$?
T_ROOTFS=$(( $(now_ms) - T ))
wait $p_deb; rc_deb=$?
wait $p_deb1; rc_deb1=$?
bg_pids=
[ $rc_deb -eq 0 ] || { cat "$W/logs/deb.out"; bad "make deb (version $V)"; exit 1; }
[ $rc_deb1 -eq 0 ] || { cat "$W/logs/deb1.out"; bad "make deb (version $V1)"; exit 1; }
ok "packages built: $(cd "$W/debs" && ls *_"$V"_*.deb | grep -v dbgsym | tr '\n' ' ')"
[ $rc_root -eq 0 ] || { cat "$W/logs/rootfs.err"; skip "cannot build the Debian 12 root filesystem (mmdebstrap; mirror unreachable?)"; }
LOWER=$(cat "$W/logs/rootfs.out")
figure "rootfs: $((T_ROOTFS))ms ($( [ $T_ROOTFS -lt 5000 ] && echo cached || echo built)), $(du -sh --one-file-system "$LOWER" | cut -f1)"

lintian --pedantic -I -E --fail-on error,warning "$W/debs/pat_${V}_"*.changes \
    >"$W/logs/lintian.out" 2>&1 &
p_lint=$!
bg_pids=$p_lint
set +m

debs() { # the packages of version $1 (no dbgsym), as paths inside
	(cd "$W/debs" && ls patd_"$1"_*.deb libpam-pat_"$1"_*.deb \
	    pat-gate_"$1"_*.deb libpat1_"$1"_*.deb libpat-dev_"$1"_*.deb) |
	    sed 's|^|/debs/|'
}
apt_in() { box_in env DEBIAN_FRONTEND=noninteractive apt-get -q -y \
    -o Dpkg::Use-Pty=0 "$@"; }
# files of the container's root file system, and the contents of /etc/pam.d
snapshot() {
	box_in sh -c 'find / -xdev \( -path /proc -o -path /sys -o -path /dev \
	    -o -path /debs \) -prune -o -print | sort' >"$W/logs/files.$1"
	box_in sh -c 'find /run -print | sort' >"$W/logs/run.$1"
	box_in sh -c 'cd /etc/pam.d && find . -type f | sort | xargs sha256sum' \
	    >"$W/logs/pamd.$1"
}

# ---- boot 1: users, a snapshot, then apt install -------------------------
box_boot "$LOWER" || skip "the container did not boot (systemd-nspawn)"
ST=$BOX_STATE
check "the box is Debian 12" "$(box_in cat /etc/debian_version)" '^12\.'
[ "$ST" = running ] || { box_in systemctl --failed --no-pager; skip "systemd in the container reached '$ST', not running, before pat was installed"; }
PW=alice-pw-$RANDOM$RANDOM
# the password on stdin, never on a command line
printf 'alice:%s\n' "$PW" | box_in sh -c 'useradd -m -s /bin/sh alice && chpasswd &&
    echo "alice ALL=(ALL) ALL" >/etc/sudoers.d/alice && chmod 0440 /etc/sudoers.d/alice' ||
    bad "users"
snapshot before
PAMCONFIGS=$(box_in ls /usr/share/pam-configs/)
T=$(now_ms)
if apt_in install $(debs "$V") >"$W/logs/apt-install.log" 2>&1; then
	ok "apt install ./patd ./libpam-pat ./pat-gate ./libpat1 ./libpat-dev ($V) in $(( $(now_ms) - T ))ms"
else
	cat "$W/logs/apt-install.log"; bad "apt install of the packages"; exit 1
fi
check "patd.socket enabled by the package" "$(box_in systemctl is-enabled patd.socket 2>&1)" '^enabled$'
check "pat-gate.socket enabled by the package" "$(box_in systemctl is-enabled pat-gate.socket 2>&1)" '^enabled$'
check "the patd-verify group exists, pat-gate is in it" "$(box_in id pat-gate 2>&1)" 'patd-verify'
check "/var/lib/patd made root 0700 at install" "$(box_in stat -c '%U %a' /var/lib/patd 2>&1)" '^root 700$'
same "the PAM profile is registered but not enabled (no stack names pam_pat)" \
    "$(box_in sh -c 'grep -l pam_pat /etc/pam.d/*; ls /usr/share/pam-configs/pat' 2>&1)" '/usr/share/pam-configs/pat'
# the administrator's choices: idle exit, and a short watchdog for the test
# (the unit's own is 30 s); a drop-in, as an administrator would
box_in sh -c 'echo "idle_exit = 2" >>/etc/patd/patd.conf &&
    mkdir -p /etc/systemd/system/patd.service.d &&
    printf "[Service]\nWatchdogSec=2s\n" >/etc/systemd/system/patd.service.d/test-watchdog.conf'
box_poweroff

# ---- boot 2: socket activation and hardening -----------------------------
T=$(now_ms)
box_boot "$LOWER" || { bad "second boot"; exit 1; }
ST=$BOX_STATE
T_BOOT=$(( $(now_ms) - T ))
check "systemd reached running with pat installed" "$ST" '^running$'
figure "boot to running: ${T_BOOT}ms ($(box_in systemd-analyze 2>/dev/null | head -1 | sed 's/^Startup finished in //'))"
check "patd.socket listening after boot" "$(box_in systemctl is-active patd.socket 2>&1)" '^active$'
check "patd.service not started by boot" "$(box_in systemctl is-active patd.service 2>&1)" '^inactive$'
check "/run/patd/patd.sock is a socket, mode 0666" "$(box_in stat -c '%F %a' /run/patd/patd.sock 2>&1)" '^socket 666$'
T=$(now_ms)
STATUS=$(box_in patctl --json status 2>&1)
T_FIRST=$(( $(now_ms) - T ))
check "the first connection starts patd and is answered" "$STATUS" "\"version\":\"$V\""
check "patd.service active after it" "$(box_in systemctl is-active patd.service 2>&1)" '^active$'
# start to READY=1 of the activation just made, in us (systemd's own clock)
ready_us() {
	local t_exit t_ready
	read -r t_exit t_ready < <(box_in systemctl show -P InactiveExitTimestampMonotonic -P ActiveEnterTimestampMonotonic patd.service | tr '\n' ' ')
	echo $(( ${t_ready:-0} - ${t_exit:-0} ))
}
READY_US=$(ready_us)
figure "socket activation: start to READY=1 ${READY_US}us; first patctl status answered in ${T_FIRST}ms"
# READY within 100 ms (issue 15): the best of up to three activations, the
# first one cold (binaries and libraries never read yet), so a loaded
# machine's one slow start is not taken for a slow patd; every one printed
READY_ALL=$READY_US READY_BEST=$READY_US
for _ in 1 2; do
	[ "$READY_BEST" -gt 0 ] && [ "$READY_BEST" -le 100000 ] && break
	box_in systemctl stop patd.service
	box_in patctl status >/dev/null 2>&1
	u=$(ready_us); READY_ALL="$READY_ALL $u"
	[ "$u" -gt 0 ] && { [ "$READY_BEST" -le 0 ] || [ "$u" -lt "$READY_BEST" ]; } && READY_BEST=$u
	# these starts are the test's, not patd's: they must not use up the
	# start limit (5 in 10 s) the restart checks below rely on
	box_in systemctl reset-failed patd.service
done
if [ "$READY_BEST" -gt 0 ] && [ "$READY_BEST" -le 100000 ]; then ok "Type=notify READY within 100 ms ($((READY_BEST / 1000)) ms; activations: $READY_ALL us)"; else bad "READY took $READY_ALL us (three activations; none within 100 ms)"; fi
PID=$(box_in systemctl show -P MainPID patd.service)
STAT=$(box_in grep -E '^(NoNewPrivs|Seccomp|CapEff|CapPrm|CapBnd):' /proc/"$PID"/status)
check "patd: NoNewPrivs: 1" "$STAT" '^NoNewPrivs:[[:space:]]+1$'
check "patd: Seccomp: 2" "$STAT" '^Seccomp:[[:space:]]+2$'
check "patd: CapEff: 0" "$STAT" '^CapEff:[[:space:]]+0+$'
check "patd: CapBnd: 0" "$STAT" '^CapBnd:[[:space:]]+0+$'
check "patd: / is mounted read-only" "$(box_in awk '$5 == "/" { print $6 }' /proc/"$PID"/mountinfo | tail -1)" '^ro(,|$)'
check "patd: a write outside its state directory fails" \
    "$(box_in nsenter -t "$PID" -m sh -c 'echo x >/etc/pat-probe && echo WROTE; echo x >/var/lib/pat-probe && echo WROTE' 2>&1 | tr '\n' ' ')" \
    '^[^W]*Read-only file system[^W]*Read-only file system[^W]*$'
check "patd: a write inside its state directory works (the probe can tell)" \
    "$(box_in nsenter -t "$PID" -m sh -c 'echo x >/var/lib/patd/.probe && rm /var/lib/patd/.probe && echo WROTE' 2>&1)" '^WROTE$'
check "patd: its own network namespace" \
    "$(box_in sh -c "[ \$(readlink /proc/1/ns/net) != \$(readlink /proc/$PID/ns/net) ] && echo own")" '^own$'
for u in patd pat-gate; do
	SEC=$(box_in systemd-analyze security --no-pager "$u.service" 2>&1 | tail -1)
	figure "systemd-analyze security $u.service: $SEC"
	E=$(sed -n 's/.*exposure level for .*: \([0-9.]*\) .*/\1/p' <<<"$SEC")
	if [ -n "$E" ] && awk -v e="$E" 'BEGIN { exit !(e <= 1.5) }'; then ok "$u.service exposure $E <= 1.5"; else bad "$u.service exposure '$SEC'"; fi
done

# ---- tokens ---------------------------------------------------------------
pc() { box_in patctl "$@"; }
pc role set ssh pam.sshd pam.sudo web.read >/dev/null 2>&1 && pc role set mail pam.mail >/dev/null 2>&1 &&
    pc grant ssh --user alice >/dev/null 2>&1 && pc grant mail --user alice >/dev/null 2>&1 ||
    bad "roles and grants"
T1=$(pc create --user alice --role ssh --name t1 2>/dev/null) || bad "create t1"
T2=$(pc create --user alice --role mail --name t2 2>/dev/null) || bad "create t2 (wrong permission)"
T3=$(pc create --user alice --role ssh --name t3 2>/dev/null) || bad "create t3 (to be revoked)"
ID3=${T3%%|*}
verify() { printf '%s\n' "$1" | box_in patctl verify --user alice --perm "${2:-pam.sshd}" >/dev/null 2>&1; }
count() { box_in patctl --json list --user alice 2>/dev/null | grep -o '"id":' | wc -l; }
yes_ "token t1 verifies" verify "$T1"

# ---- idle exit, restart, kill -9, watchdog --------------------------------
gone=no
for _ in $(seq 100); do
	[ "$(box_in systemctl is-active patd.service)" = inactive ] && { gone=yes; break; }
	sleep 0.1
done
check "idle_exit: patd left when idle (socket still active)" "$gone $(box_in systemctl is-active patd.socket)" '^yes active$'
check "the next connection starts it again, every token intact" "$(count)" '^3$'
yes_ "t1 still verifies after idle exit" verify "$T1"
box_in systemctl restart patd.service
check "systemctl restart patd: every token intact" "$(count)" '^3$'
yes_ "t1 verifies after restart" verify "$T1"
pc status >/dev/null
PID=$(box_in systemctl show -P MainPID patd.service)
N0=$(box_in systemctl show -P NRestarts patd.service)
[ "${PID:-0}" -gt 1 ] && box_in kill -KILL "$PID" || bad "kill -9: no patd MainPID ('$PID')"
for _ in $(seq 100); do
	[ "$(box_in systemctl show -P NRestarts patd.service)" != "$N0" ] && break
	sleep 0.05
done
check "kill -9: Restart=on-failure restarted patd" "$(box_in systemctl show -P NRestarts patd.service)" "^$((N0 + 1))\$"
check "kill -9: every token intact" "$(count)" '^3$'
yes_ "t1 verifies after kill -9" verify "$T1"
pc status >/dev/null
PID=$(box_in systemctl show -P MainPID patd.service)
N0=$(box_in systemctl show -P NRestarts patd.service)
T=$(now_ms)
[ "${PID:-0}" -gt 1 ] && box_in kill -STOP "$PID" || bad "watchdog: no patd MainPID ('$PID')"
for _ in $(seq 200); do
	[ "$(box_in systemctl show -P NRestarts patd.service)" != "$N0" ] && break
	sleep 0.05
done
T_DOG=$(( $(now_ms) - T ))
check "watchdog: a stopped patd (SIGSTOP) is restarted (WatchdogSec=2s drop-in)" \
    "$(box_in systemctl show -P NRestarts patd.service)" "^$((N0 + 1))\$"
check "watchdog: the journal says why" "$(box_in journalctl -b -u patd.service -o cat --no-pager 2>&1 | grep -i watchdog | head -1)" '[Ww]atchdog timeout'
figure "watchdog restart after SIGSTOP: ${T_DOG}ms"
yes_ "t1 verifies after the watchdog restart" verify "$T1"

# ---- pat-gate under its unit ----------------------------------------------
check "pat-gate.socket listening" "$(box_in systemctl is-active pat-gate.socket 2>&1)" '^active$'
GATE=$(printf 'GET /auth HTTP/1.1\r\nHost: box\r\nAuthorization: Bearer %s\r\nX-Pat-Perm: web.read\r\nConnection: close\r\n\r\n' "$T1" |
    box_in socat -t 5 - UNIX-CONNECT:/run/pat-gate/gate.sock 2>&1 | tr -d '\r')
same "pat-gate, activated by its socket as user pat-gate, lets t1 through" "$(head -1 <<<"$GATE") $(grep '^X-Pat-User:' <<<"$GATE")" 'HTTP/1.1 200 OK X-Pat-User: alice'
GATE=$(printf 'GET /auth HTTP/1.1\r\nHost: box\r\nAuthorization: Bearer %s\r\nX-Pat-Perm: web.read\r\nConnection: close\r\n\r\n' "$T2" |
    box_in socat -t 5 - UNIX-CONNECT:/run/pat-gate/gate.sock 2>&1 | tr -d '\r')
check "pat-gate refuses t2 (no web.read)" "$GATE" '^HTTP/1.1 403'
box_in systemctl restart pat-gate.service >/dev/null 2>&1
box_in systemctl stop pat-gate.service >/dev/null 2>&1
check "pat-gate stopped and restarted: its socket still listens" "$(box_in systemctl is-active pat-gate.socket 2>&1)" '^active$'
GATE=$(printf 'GET /auth HTTP/1.1\r\nHost: box\r\nAuthorization: Bearer %s\r\nX-Pat-Perm: web.read\r\nConnection: close\r\n\r\n' "$T1" |
    box_in socat -t 5 - UNIX-CONNECT:/run/pat-gate/gate.sock 2>&1 | tr -d '\r')
same "…and the next request starts the gate again" "$(head -1 <<<"$GATE") $(grep '^X-Pat-User:' <<<"$GATE")" 'HTTP/1.1 200 OK X-Pat-User: alice'

# ---- SSH and sudo with the PAM profile enabled -----------------------------
box_in pam-auth-update --enable pat >/dev/null 2>&1
check "pam-auth-update --enable pat puts pam_pat.so in common-auth" "$(box_in grep -c pam_pat.so /etc/pam.d/common-auth)" '^[1-9]'
check "sshd running" "$(box_in systemctl is-active ssh.service 2>&1)" '^active$'
SSH_OPTS="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive -o NumberOfPasswordPrompts=1 -o ConnectTimeout=10"
ssh_as() { # ssh_as SECRET: log in as alice with SECRET as the password
	printf '%s' "$1" | box_in sh -c "SSHPASS=\$(cat) exec sshpass -e ssh $SSH_OPTS alice@127.0.0.1 'id -un'" 2>&1
}
sudo_as() { # sudo_as SECRET: sudo as alice with SECRET as the password
	printf '%s\n' "$1" | box_in runuser -u alice -- sudo -S -k -p '' id -un 2>&1
}
check "ssh: a token with pam.sshd logs alice in" "$(ssh_as "$T1")" '^alice$'
check "ssh: a token without pam.sshd is refused" "$(ssh_as "$T2")" 'Permission denied'
check "ssh: t3 works before it is revoked" "$(ssh_as "$T3")" '^alice$'
pc revoke "$ID3" >/dev/null 2>&1 || bad "revoke t3"
check "ssh: the revoked t3 is refused" "$(ssh_as "$T3")" 'Permission denied'
check "ssh: alice's password still works" "$(ssh_as "$PW")" '^alice$'
check "sudo: a token with pam.sudo" "$(sudo_as "$T1")" '^root$'
check "sudo: a token without pam.sudo is refused" "$(sudo_as "$T2")" 'incorrect password|Sorry|no password'
check "sudo: the revoked t3 is refused" "$(sudo_as "$T3")" 'incorrect password|Sorry|no password'
check "sudo: alice's password still works" "$(sudo_as "$PW")" '^root$'
tok_ms=0 pw_ms=0 n=5
for _ in $(seq $n); do
	T=$(now_ms); ssh_as "$T1" >/dev/null; tok_ms=$((tok_ms + $(now_ms) - T))
	T=$(now_ms); ssh_as "$PW" >/dev/null; pw_ms=$((pw_ms + $(now_ms) - T))
done
figure "ssh login, mean of $n: token $((tok_ms / n))ms, password $((pw_ms / n))ms (same run, pam_pat.so first in common-auth)"

# ---- the journal ----------------------------------------------------------
box_in journalctl -b -u patd.service -o json --no-pager >"$W/logs/journal.json" 2>&1
box_in journalctl -b -o export --no-pager >"$W/logs/journal.export" 2>&1
J=$(python3 - "$W/logs/journal.json" "$top/docs/operations.md" <<'EOF'
import json, re, sys
# what each event must carry here, and: every PAT_* field patd wrote is one
# docs/operations.md names
want = {"create": ["PAT_ID", "PAT_USER", "PAT_ROLE", "PAT_BY", "PAT_PEER_UID"],
        "verify": ["PAT_RESULT", "PAT_ID", "PAT_USER", "PAT_PERM", "PAT_SERVICE", "PAT_RHOST"],
        "revoke": ["PAT_ID", "PAT_UID", "PAT_PEER_UID"],
        "role-set": ["PAT_ROLE"], "grant": ["PAT_ROLE"]}
documented = set(re.findall(r"`(PAT_[A-Z_]+)", open(sys.argv[2]).read()))
seen, fields, ssh = {}, set(), []
for line in open(sys.argv[1], errors="replace"):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    fields |= {k for k in r if k.startswith("PAT_")}
    e = r.get("PAT_EVENT")
    if e in want and all(k in r for k in want[e]):
        seen.setdefault(e, r)
    if e == "verify" and r.get("PAT_SERVICE") == "sshd" and r.get("PAT_RESULT") == "ok":
        ssh.append(r)
print(" ".join(sorted(seen)), "sshd-ok=%d" % len(ssh),
      "rhost=%s" % (ssh[0].get("PAT_RHOST") if ssh else "-"),
      "undocumented=%s" % (",".join(sorted(fields - documented)) or "none"))
EOF
)
check "journal: create, verify, revoke, role-set, grant with their PAT_* fields" "$J" '^create grant revoke role-set verify '
check "journal: an ssh login's verify record names service sshd and the client address" "$J" 'sshd-ok=[1-9][0-9]* rhost=127\.0\.0\.1 '
check "journal: every PAT_* field written is one docs/operations.md names" "$J" 'undocumented=none$'
leak=no
for s in "$T1" "$T2" "$T3" "$PW"; do
	# the secret as grep's pattern file, never on its command line
	[ -n "${s#*|}" ] || { bad "leak check: an empty secret"; continue; }
	grep -qF -f <(printf '%s\n' "${s#*|}") -- "$W/logs/journal.export" \
	    "$W/logs/journal.json" && leak=yes
done
check "journal: no token secret and no password anywhere in it ($(wc -l <"$W/logs/journal.export") lines)" "$leak" '^no$'

# ---- upgrade: the same version again, then version+1 ----------------------
state() { box_in sh -c 'sha256sum /var/lib/patd/token.key /var/lib/patd/session.key; patctl --json list --all; patctl --json role list' 2>&1; }
S0=$(state)
[ "$(grep -cE '^[0-9a-f]{64}  /var/lib/patd/(token|session)\.key$' <<<"$S0")" = 2 ] &&
    [ "$(grep -o '"id":' <<<"$S0" | wc -l)" -ge 3 ] &&
    ok "the state snapshot holds both keys' hashes and the tokens" ||
    bad "state snapshot unusable: $(head -c 300 <<<"$S0")"
box_in sh -c 'sed -i "s/^idle_exit = 2$/idle_exit = 0/" /etc/patd/patd.conf'
box_in systemctl restart patd.service
if apt_in install --reinstall $(debs "$V") >"$W/logs/apt-reinstall.log" 2>&1; then ok "apt install --reinstall ($V)"; else cat "$W/logs/apt-reinstall.log"; bad "reinstall"; fi
check "reinstall: keys, tokens, roles unchanged" "$(state)" "^$(sed 's/[][\.*^$|+?(){}]/\\&/g' <<<"$S0" | head -1)"
[ "$(state)" = "$S0" ] && ok "reinstall: state identical" || bad "reinstall: state changed"
pc status >/dev/null
printf 'GET /auth HTTP/1.1\r\nHost: box\r\nX-Pat-Perm: web.read\r\nConnection: close\r\n\r\n' |
    box_in socat -t 5 - UNIX-CONNECT:/run/pat-gate/gate.sock >/dev/null 2>&1
PID=$(box_in systemctl show -P MainPID patd.service)
GPID=$(box_in systemctl show -P MainPID pat-gate.service)
SOCKS0=$(box_in systemctl show -P ActiveEnterTimestampMonotonic patd.socket pat-gate.socket)
if apt_in install $(debs "$V1") >"$W/logs/apt-upgrade.log" 2>&1; then ok "apt install ./…_$V1 (upgrade)"; else cat "$W/logs/apt-upgrade.log"; bad "upgrade"; fi
# read before anything connects (a connection would start a stopped patd)
NPID=$(box_in systemctl show -P MainPID patd.service)
NGPID=$(box_in systemctl show -P MainPID pat-gate.service)
[ "${PID:-0}" -gt 1 ] && [ "${NPID:-0}" -gt 1 ] && [ "$NPID" != "$PID" ] &&
    ok "upgrade: postinst restarted the running patd ($PID -> $NPID)" ||
    bad "upgrade: patd not restarted by the upgrade (MainPID $PID -> '$NPID')"
[ "${GPID:-0}" -gt 1 ] && [ "${NGPID:-0}" -gt 1 ] && [ "$NGPID" != "$GPID" ] &&
    ok "upgrade: postinst restarted the running pat-gate ($GPID -> $NGPID)" ||
    bad "upgrade: pat-gate not restarted by the upgrade (MainPID $GPID -> '$NGPID')"
same "upgrade: neither socket was ever stopped" \
    "$(box_in systemctl show -P ActiveEnterTimestampMonotonic patd.socket pat-gate.socket)" "$SOCKS0"
[ "$(state)" = "$S0" ] && ok "upgrade: keys, tokens and roles identical" || bad "upgrade: state changed"
check "upgrade: the running patd was restarted into $V1" \
    "$(box_in systemctl show -P MainPID patd.service) $(pc --json status)" "^[0-9]+ .*\"version\":\"$V1\""
[ "$(box_in systemctl show -P MainPID patd.service)" != "$PID" ] && ok "upgrade: a new patd process" || bad "upgrade: patd not restarted"
check "upgrade: the administrator's patd.conf kept" "$(box_in grep '^idle_exit' /etc/patd/patd.conf)" '^idle_exit = 0$'
check "upgrade: patd.socket still listening" "$(box_in systemctl is-active patd.socket)" '^active$'
check "upgrade: ssh with t1 still works" "$(ssh_as "$T1")" '^alice$'
check "upgrade: pam_pat still in common-auth" "$(box_in grep -c pam_pat.so /etc/pam.d/common-auth)" '^[1-9]'

# ---- purge ------------------------------------------------------------------
# an administrator's own edit naming the module (docs/pam.md): removal
# warns about it (and leaves it: the file is theirs), restored afterwards
box_in sh -c 'cp -p /etc/pam.d/sudo /root/sudo.pam && echo "auth sufficient pam_pat.so" >>/etc/pam.d/sudo'
SUDO_PAM=$(box_in sha256sum /etc/pam.d/sudo)
if apt_in purge patd libpam-pat pat-gate libpat1 libpat-dev >"$W/logs/apt-purge.log" 2>&1; then ok "apt purge"; else cat "$W/logs/apt-purge.log"; bad "purge"; fi
check "purge: a hand-edited stack still naming pam_pat.so is pointed out" "$(cat "$W/logs/apt-purge.log")" '^libpam-pat: warning: /etc/pam.d/sudo still names pam_pat.so'
same "purge: the administrator's edited /etc/pam.d/sudo left as they made it" "$(box_in sha256sum /etc/pam.d/sudo)" "$SUDO_PAM"
box_in sh -c 'cp -p /root/sudo.pam /etc/pam.d/sudo && rm /root/sudo.pam'
box_in rm -f /etc/systemd/system/patd.service.d/test-watchdog.conf
box_in rmdir /etc/systemd/system/patd.service.d 2>/dev/null
same "purge: units gone" "$(box_in sh -c 'ls /lib/systemd/system/patd.* /lib/systemd/system/pat-gate.* 2>/dev/null; systemctl is-active patd.socket pat-gate.socket')" 'inactive
inactive'
same "purge: the PAM profile gone, no stack names pam_pat" "$(box_in sh -c 'ls /usr/share/pam-configs/; grep -l pam_pat /etc/pam.d/* 2>/dev/null')" "$PAMCONFIGS"
snapshot after
if diff "$W/logs/pamd.before" "$W/logs/pamd.after" >"$W/logs/pamd.diff"; then
	ok "purge: /etc/pam.d exactly as before install ($(wc -l <"$W/logs/pamd.before") files, by sha256)"
else
	cat "$W/logs/pamd.diff"; bad "purge: /etc/pam.d differs from before install"
fi
# What may remain, as Debian policy and the tools keep it: package manager
# records and logs, the journal, systemd's and pam-auth-update's own state,
# sudo's lecture marks, the private /tmp of services that ran (logind, for
# the logins), and the backups sysusers writes of the user files
# (the group patd-verify and user pat-gate stay: files may belong to them).
ALLOW='^/var/tmp/systemd-private-|^/var/(lib/dpkg|lib/apt|cache|log|lib/systemd|lib/pam|lib/sudo|backups)(/|$)|^/etc/(group|gshadow|passwd|shadow|subuid|subgid)-$|^/etc/\.pwd\.lock$|^/home/alice/\.|^/root/\.'
# …but not the packages' own traces there: deb-systemd-helper's enablement
# state and dpkg's scripts must go with the purge
NEW=$(comm -13 "$W/logs/files.before" "$W/logs/files.after" | grep -Ev "$ALLOW"
    comm -13 "$W/logs/files.before" "$W/logs/files.after" |
    grep -E '^/var/lib/(systemd/deb-systemd-helper-[a-z]+|dpkg/info)/.*(patd|pat-gate|libpam-pat|libpat)')
RNEW=$(comm -13 "$W/logs/run.before" "$W/logs/run.after" | grep -E '^/run/(patd|pat-gate)')
if [ -z "$NEW$RNEW" ]; then
	ok "purge: nothing that install created is left ($(wc -l <"$W/logs/files.before") paths compared; kept by policy: $(comm -13 "$W/logs/files.before" "$W/logs/files.after" | grep -E "$ALLOW" | grep -c .) under /var/lib/dpkg, logs, journal, …)"
else
	printf '%s\n' "$NEW" "$RNEW" | sed 's/^/[SYSTEM]   left: /'; bad "purge left files behind"
fi
check "purge: state and configuration removed" "$(box_in sh -c 'ls -d /var/lib/patd /etc/patd /run/patd 2>&1' | tr '\n' ' ')" 'No such file.*No such file.*No such file'

wait $p_lint; rc_lint=$?
bg_pids=
sed 's/^/[SYSTEM] lintian: /' "$W/logs/lintian.out" | grep -v 'running with root privileges'
[ $rc_lint -eq 0 ] && ok "lintian --pedantic -I -E: no error or warning ($(grep -c '^[EW]:' "$W/logs/lintian.out") E/W, overrides documented in debian/*.lintian-overrides)" || bad "lintian"

box_poweroff
figure "total: $(( $(now_ms) - T0 ))ms"
if [ $FAILS -eq 0 ]; then say "all $PASSES checks passed"; exit 0; fi
say "$FAILS of $((FAILS + PASSES)) checks FAILED"
exit 1
