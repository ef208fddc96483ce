#!/bin/sh
# End to end: a real sshd and a real sudo accept PATs through pam_pat.so.
# Run as root inside private namespaces, so the host is never touched:
#   unshare --net --mount --propagation private tests/e2e/sshd_sudo.sh BUILD DIR
# Users, PAM files and sudoers are copies bind-mounted over /etc in this
# mount namespace; sshd listens on loopback in this network namespace.
# Prints "ok - …" / "not ok - …" and a closing "N passed, M failed" line.
set -u
build=$1
dir=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0
fail=0
check() {	# check "what" command...
	what=$1
	shift
	if "$@" >>"$dir/checks.log" 2>&1; then
		pass=$((pass + 1)); echo "ok - $what"
	else
		fail=$((fail + 1)); echo "not ok - $what"
	fi
}
refused() { ! "$@"; }
die() { echo "not ok - setup: $*"; echo "0 passed, 1 failed"; exit 1; }

ip link set lo up || die "loopback"
mount -t tmpfs tmpfs /run || die "tmpfs on /run"
mkdir -p /run/sshd /run/patd && chmod 0755 /run/sshd

# Test users, only in this namespace: alice (pam.sshd + pam.sudo, in
# sudoers), carol (pam.sudo only).
uid_a=29001 uid_c=29003
pw_a='alice-unix-password'
cp /etc/passwd "$dir/passwd"; cp /etc/group "$dir/group"; cp /etc/shadow "$dir/shadow"
printf 'alice:x:%s:%s::/tmp:/bin/sh\ncarol:x:%s:%s::/tmp:/bin/sh\n' \
	$uid_a $uid_a $uid_c $uid_c >>"$dir/passwd"
printf 'alice:x:%s:\ncarol:x:%s:\n' $uid_a $uid_c >>"$dir/group"
printf 'alice:%s:19000:0:99999:7:::\ncarol:!:19000:0:99999:7:::\n' \
	"$(openssl passwd -6 "$pw_a")" >>"$dir/shadow"
chmod 0644 "$dir/passwd" "$dir/group"; chmod 0640 "$dir/shadow"
chgrp shadow "$dir/shadow" 2>/dev/null
for f in passwd group shadow; do
	mount --bind "$dir/$f" "/etc/$f" || die "bind /etc/$f"
done

# PAM: the documented stack in place of common-auth for sshd and sudo.
cp -a /etc/pam.d "$dir/pam.d"
cp "$dir/pam.d/sudo" "$dir/sudo.orig"
stack=$(grep -v '^#' "$top/pam_pat/examples/auth-stack" |
	sed "s|pam_pat.so|$build/pam_pat.so socket=/run/patd/patd.sock|")
for svc in sshd sudo; do
	awk -v stack="$stack" '/^@include common-auth/ { print stack; next }
	    { print }' "$dir/pam.d/$svc" >"$dir/pam.d/$svc.new" &&
	mv "$dir/pam.d/$svc.new" "$dir/pam.d/$svc"
done
mount --bind "$dir/pam.d" /etc/pam.d || die "bind /etc/pam.d"
printf 'Defaults passwd_tries=1\nDefaults !lecture\nroot ALL=(ALL) ALL\nalice ALL=(ALL) ALL\ncarol ALL=(ALL) ALL\n' >"$dir/sudoers"
chmod 0440 "$dir/sudoers"
visudo -cqf "$dir/sudoers" || die "sudoers"
mount --bind "$dir/sudoers" /etc/sudoers || die "bind /etc/sudoers"

# patd, as root, on the socket pam_pat.so trusts, on a state directory of
# its own (the harness's patd holds DIR/state: one patd per directory).
"$build/patd" --socket /run/patd/patd.sock --state "$dir/e2e-state" \
	</dev/null >/dev/null 2>"$dir/patd.log" &
patd_pid=$!
cleanup() {
	[ -s "$dir/sshd.pid" ] && kill "$(cat "$dir/sshd.pid")" 2>/dev/null
	kill "$patd_pid" 2>/dev/null
	wait "$patd_pid" 2>/dev/null
}
trap cleanup EXIT
for _ in $(seq 100); do [ -S /run/patd/patd.sock ] && break; sleep 0.05; done
export PATD_SOCKET=/run/patd/patd.sock
ctl() { "$build/patctl" "$@"; }
ctl role set ssh pam.sshd >/dev/null 2>&1 || die "role"
ctl role set admin pam.sshd pam.sudo >/dev/null 2>&1
ctl role set sudoer pam.sudo >/dev/null 2>&1
ctl grant admin --user alice >/dev/null 2>&1
ctl grant sudoer --user carol >/dev/null 2>&1
tok_ssh=$(ctl create --user alice --role ssh 2>/dev/null)      # id 1
tok_admin=$(ctl create --user alice --role admin 2>/dev/null)  # id 2
tok_carol=$(ctl create --user carol --role admin 2>/dev/null)  # id 3: pam.sudo only
[ -n "$tok_ssh" ] && [ -n "$tok_admin" ] && [ -n "$tok_carol" ] || die "tokens"

# sshd on loopback in this network namespace.
ssh-keygen -q -t ed25519 -N '' -f "$dir/hostkey" || die "host key"
cat >"$dir/sshd_config" <<CFG
Port 2222
ListenAddress 127.0.0.1
HostKey $dir/hostkey
PidFile $dir/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication yes
PubkeyAuthentication no
PermitRootLogin no
CFG
/usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log" || die "sshd"
for _ in $(seq 50); do [ -s "$dir/sshd.pid" ] && break; sleep 0.05; done

ssh_as() {	# ssh_as USER SECRET
	sshpass -p "$2" ssh -F /dev/null -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o PubkeyAuthentication=no \
		-o NumberOfPasswordPrompts=1 -o LogLevel=ERROR -o ConnectTimeout=5 \
		-p 2222 "$1@127.0.0.1" true
}
sudo_as() {	# sudo_as UID SECRET
	printf '%s\n' "$2" | setpriv --reuid="$1" --regid="$1" --init-groups \
		-- sudo -S -k -p '' true
}

check "sshd: alice logs in with a token holding pam.sshd" ssh_as alice "$tok_ssh"
check "sshd: alice still logs in with her Unix password" ssh_as alice "$pw_a"
check "sshd: a wrong password is refused" refused ssh_as alice "not-her-password"
check "sshd: carol's token without pam.sshd is refused" refused ssh_as carol "$tok_carol"
check "sshd: alice's token does not log carol in" refused ssh_as carol "$tok_ssh"
check "sudo: alice's token holding pam.sudo works with sudo -S" sudo_as $uid_a "$tok_admin"
check "sudo: a token holding only pam.sshd is refused" refused sudo_as $uid_a "$tok_ssh"
check "sudo: alice's Unix password still works" sudo_as $uid_a "$pw_a"
check "sudo: carol's token holding pam.sudo works" sudo_as $uid_c "$tok_carol"
ctl revoke 1 >/dev/null 2>&1
check "sshd: alice's token is refused after revocation" refused ssh_as alice "$tok_ssh"
ctl revoke 2 >/dev/null 2>&1
check "sudo: a revoked token is refused" refused sudo_as $uid_a "$tok_admin"
check "no secret in patd's log" refused grep -qF -e "${tok_admin#*|pat-}" -e "${tok_ssh#*|pat-}" "$dir/patd.log"

# The Debian way: the pam-auth-update profile puts pam_pat.so into
# common-auth (for every service, each needing its own pam.<service>), and
# pam_unix after it gets try_first_pass.  The profile, pam.d and
# pam-auth-update's state are copies in this namespace.
cp -a /usr/share/pam-configs "$dir/pam-configs"
sed "s|pam_pat.so|$build/pam_pat.so socket=/run/patd/patd.sock|" \
	"$top/pam_pat/pam-configs/pat" >"$dir/pam-configs/pat"
cp -a /var/lib/pam "$dir/var-lib-pam"
cp "$dir/sudo.orig" "$dir/pam.d/sudo"	# Debian's own, with @include common-auth
mount --bind "$dir/pam-configs" /usr/share/pam-configs &&
mount --bind "$dir/var-lib-pam" /var/lib/pam &&
DEBIAN_FRONTEND=noninteractive pam-auth-update --enable pat >>"$dir/checks.log" 2>&1 ||
	die "pam-auth-update"
check "pam-auth-update: common-auth now starts with pam_pat.so" \
	grep -q "pam_pat.so" /etc/pam.d/common-auth
tok_admin=$(ctl create --user alice --role admin 2>/dev/null)
check "sudo via common-auth: a token holding pam.sudo works" sudo_as $uid_a "$tok_admin"
check "sudo via common-auth: the Unix password still works" sudo_as $uid_a "$pw_a"
check "sudo via common-auth: a token without pam.sudo is refused" refused sudo_as $uid_a "$tok_ssh"
check "sudo via common-auth: a wrong password is refused" refused sudo_as $uid_a "not-her-password"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
