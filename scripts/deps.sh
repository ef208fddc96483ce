#!/bin/sh
# Install the Debian packages pat needs to build and test, when they are missing.
# As root: installs them with apt-get.  Otherwise: prints the exact command and fails.
# Usage: scripts/deps.sh [build|test|demo|deb]   (default: test)
set -eu

build_pkgs="gcc make pkg-config libpam0g-dev libsystemd-dev libsodium-dev liblmdb-dev
  libmicrohttpd-dev"
test_pkgs="libcriterion-dev libnss-wrapper libpam-wrapper libpamtest0-dev pamtester
  lmdb-utils socat util-linux binutils valgrind openssh-server openssh-client
  sshpass sudo iproute2 libcrypt-dev libpam-oath oathtool clang libclang-rt-14-dev
  python3 groff-base nginx-light caddy wrk curl git fcgiwrap"
# nginx-light, caddy, wrk, curl, git and fcgiwrap are for tests/test_web.c
# and make bench: they run their own nginx, Caddy and fcgiwrap (own prefix,
# config, pid and log files under the test's directory, private ports and
# sockets), never the system's services, which installing the packages may
# start where systemd runs.
demo_pkgs="libpam-wrapper pamtester"
# make deb: dpkg-buildpackage with debhelper, and lintian to check the result
deb_pkgs="dpkg-dev debhelper fakeroot lintian"
# tests/system (issue 15): a Debian 12 container with systemd as PID 1, built
# by mmdebstrap and booted by systemd-nspawn, to install the packages in
system_pkgs="systemd-container mmdebstrap"
# tests/fleet (issue 16): a real OpenLDAP provider in a temporary directory;
# openssl makes the TLS tests' certificates (tests/fleet/certs.sh)
fleet_pkgs="slapd ldap-utils libldap-dev openssl"

case "${1:-test}" in
build) want="$build_pkgs" ;;
demo)  want="$build_pkgs $demo_pkgs" ;;
test)  want="$build_pkgs $test_pkgs $deb_pkgs $system_pkgs $fleet_pkgs" ;;
deb)   want="$build_pkgs $deb_pkgs" ;;
*) echo "usage: $0 [build|test|demo|deb]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "pat: missing Debian packages. Install them with:" >&2
	echo "  sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "pat: installing missing packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# slapd's postinst starts the system slapd (port 389, a debconf-made
# database) through invoke-rc.d, which on a machine without systemd runs the
# init script for real.  The tests run their own slapd on private ports and
# want none of that: a policy-rc.d answering 101 ("action forbidden") stops
# invoke-rc.d from starting any service during this install only, and is
# removed afterwards (unless one was already there: then it is left alone).
policy=/usr/sbin/policy-rc.d
own_policy=""
case " $missing " in
*" slapd "*)
	if [ ! -e $policy ]; then
		printf '#!/bin/sh\n# scripts/deps.sh: no service starts while slapd installs\nexit 101\n' >$policy
		chmod 755 $policy
		own_policy=1
		trap 'rm -f $policy' EXIT
	fi ;;
esac
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
if [ -n "$own_policy" ]; then
	rm -f $policy
	trap - EXIT
fi
