#!/bin/bash
# slapd.sh - throwaway OpenLDAP providers for the fleet tests:
#   slapd.sh start DIR PORT | start-free DIR | start-pair DIR PORT1 PORT2 |
#            again DIR | stop DIR
#
# start: cn=config made offline (slapadd -n0) in DIR/conf (with
# $PAT_SLAPD_SERVER_ID set: that server id, so cookies carry sid=, as a
# multi-provider's do), back_mdb, the
# syncprov overlay with a session log and pat's schema from fleet/pat.ldif
# (so the cn=config form is what loads); the base entries (slapadd -n1 -w,
# so contextCSN is fresh); then slapd on ldap://127.0.0.1:PORT and
# ldapi://DIR/ldapi, and fleet/slapd-acl.ldif loaded the way an admin loads
# it (ldapmodify -Y EXTERNAL over ldapi as root), and the last-use
# database of fleet/slapd-lastuse.ldif (cn=pat-lastuse, no syncprov).  Base dc=example,dc=org;
# identities (simple binds, password = the cn): cn=admin, cn=issuer-1 (a
# member of cn=issuers,ou=pat), cn=host-2 and cn=host-3 under ou=hosts.  Exit 0 when
# slapd answers with the ACLs in place; otherwise 1, with slapd stopped.
#
# Opt-in, by environment (nothing changes without them):
#   PAT_SLAPD_TLS=CERTDIR (with PAT_SLAPD_LDAPS_PORT=N): TLS from CERTDIR's
#     ca.pem, server.pem and server.key (tests/fleet/certs.sh makes them),
#     client certificates demanded (olcTLSVerifyClient: demand) and signed
#     by ca.pem; ldaps://127.0.0.1:N besides ldap://127.0.0.1:PORT, which
#     offers StartTLS.  SASL EXTERNAL binds: olcAuthzRegexp maps a
#     certificate subject "cn=NAME,ou=hosts,o=pat fleet" to
#     cn=NAME,ou=hosts,BASE, the DNs fleet/slapd-acl.ldif names, so its
#     rules apply unchanged (and, for the tests' refusal case only,
#     "cn=NAME,ou=guests,o=pat fleet" to cn=NAME,ou=guests,BASE: a DN the
#     rules give nothing).
#   PAT_SLAPD_ACCESSLOG=1: the session log is kept in an accesslog
#     database (cn=accesslog, olcSpSessionlogSource), so it survives a
#     restart, as docs/fleet.md recommends.  syncprov searches that log
#     as the consumer: the hosts and cn=admin (the mirror's replication
#     identity) get `search` there (filters, no values), or every resume
#     silently becomes a present phase.
#
# start-pair: a multi-provider (mirror mode) pair, DIR/1 on PORT1 (server id
# 1, the base entries) and DIR/2 on PORT2 (server id 2, empty until it has
# replicated them from 1), each a refreshAndPersist syncrepl consumer of
# the other as cn=admin (the databases' rootdn, as syncrepl needs), with
# the accesslog session log.  Exit 0 once DIR/2 holds the base entries.
# start-free: start on a port of its own (up to five random picks, for a
# port another process holds), printed on stdout.
# again: slapd started again on DIR's configuration, database and URLs.
# stop: stops DIR's slapd and waits until it is gone (DIR itself is kept).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
BASE=dc=example,dc=org

ldapi_url() { printf 'ldapi://%s' "$(printf %s "$1/ldapi" | sed 's,/,%2F,g')"; }

stop() {
	local d=$1 pid
	pid=$(cat "$d/slapd.pid" 2>/dev/null) || return 0
	kill "$pid" 2>/dev/null
	for _ in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.01
	done
	kill -KILL "$pid" 2>/dev/null
}

# run DIR: slapd on DIR/conf and the URLs in DIR/urls; 0 once ldapi answers
run() {
	local d=$1
	slapd -F "$d/conf" -h "$(cat "$d/urls")" || return 1
	for _ in $(seq 1 300); do
		ldapsearch -QLLL -Y EXTERNAL -H "$(ldapi_url "$d")" -b cn=config \
		    -s base dn >/dev/null 2>&1 && return 0
		sleep 0.01
	done
	return 1
}

# The cn=config LDIF.  Settings come from the caller's variables: sid (a
# server id or ""), tls (a certificate directory or ""), peer (the other
# provider's URI, mirror mode, or ""), alog (1: accesslog session log).
config_ldif() {
	local d=$1
	cat <<EOL
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $d/slapd.pid${sid:+
olcServerID: $sid}
olcLogLevel: none
EOL
	[ -n "$tls" ] && cat <<EOL
olcTLSCACertificateFile: $tls/ca.pem
olcTLSCertificateFile: $tls/server.pem
olcTLSCertificateKeyFile: $tls/server.key
olcTLSVerifyClient: demand
olcAuthzRegexp: {0}"^cn=([^,]+),ou=hosts,o=pat fleet\$" "cn=\$1,ou=hosts,$BASE"
olcAuthzRegexp: {1}"^cn=([^,]+),ou=guests,o=pat fleet\$" "cn=\$1,ou=guests,$BASE"
EOL
	cat <<EOL

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: syncprov${alog:+
olcModuleLoad: accesslog}

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file://$top/fleet/pat.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: $BASE
olcDbDirectory: $d/db
olcDbMaxSize: 104857600
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: entryCSN,entryUUID eq
olcDbIndex: patId,patUser,patRoleName eq
olcAccess: {0}to * by * none
EOL
	# mirror mode: syncrepl writes as the rootdn (the consumer itself is
	# added once the ACLs are in: see mirror_ldif)
	[ -n "$peer" ] && echo "olcRootDN: cn=admin,$BASE"
	cat <<EOL

dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
olcSpCheckpoint: 100 1
EOL
	if [ -z "$alog" ]; then
		echo "olcSpSessionlog: 10000"
		return
	fi
	cat <<EOL
olcSpSessionlogSource: cn=accesslog

dn: olcOverlay={1}accesslog,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcAccessLogConfig
olcOverlay: {1}accesslog
olcAccessLogDB: cn=accesslog
olcAccessLogOps: writes
olcAccessLogSuccess: TRUE
olcAccessLogPurge: 07+00:00 01+00:00

dn: olcDatabase={2}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {2}mdb
olcSuffix: cn=accesslog
olcDbDirectory: $d/accesslog
olcDbMaxSize: 104857600
olcDbNoSync: TRUE
olcDbIndex: default eq
olcDbIndex: entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN eq
olcAccess: {0}to * by dn.exact="cn=admin,$BASE" search by dn.children="ou=hosts,$BASE" search by * none
EOL
}

# Mirror mode, added to a running provider as an admin would: a syncrepl
# consumer of the other provider, and olcMultiProvider.  (Made with the
# rest of the configuration, it would make the ACL change above wait ~3 s
# for the consumer's persistent search to pause.)
mirror_ldif() {
	cat <<EOL
dn: olcDatabase={1}mdb,cn=config
changetype: modify
add: olcSyncrepl
olcSyncrepl: {0}rid=00$sid provider=$peer bindmethod=simple
  binddn="cn=admin,$BASE" credentials=admin searchbase="$BASE"
  type=refreshAndPersist retry="1 +"
-
add: olcMultiProvider
olcMultiProvider: TRUE
-
EOL
}

base_ldif() {
	cat <<EOL
dn: $BASE
objectClass: dcObject
objectClass: organization
o: pat fleet
dc: example

dn: cn=admin,$BASE
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: admin
userPassword: admin

dn: ou=pat,$BASE
objectClass: organizationalUnit
ou: pat

dn: cn=next-id,ou=pat,$BASE
objectClass: patCounter
cn: next-id
patIdCounter: 0

dn: ou=hosts,$BASE
objectClass: organizationalUnit
ou: hosts

dn: cn=issuer-1,ou=hosts,$BASE
objectClass: device
objectClass: simpleSecurityObject
cn: issuer-1
userPassword: issuer-1

dn: cn=host-2,ou=hosts,$BASE
objectClass: device
objectClass: simpleSecurityObject
cn: host-2
userPassword: host-2

dn: cn=host-3,ou=hosts,$BASE
objectClass: device
objectClass: simpleSecurityObject
cn: host-3
userPassword: host-3

dn: cn=issuers,ou=pat,$BASE
objectClass: groupOfNames
cn: issuers
member: cn=issuer-1,ou=hosts,$BASE

dn: ou=tokens,$BASE
objectClass: organizationalUnit
ou: tokens

dn: ou=roles,$BASE
objectClass: organizationalUnit
ou: roles

dn: ou=grants,$BASE
objectClass: organizationalUnit
ou: grants
EOL
}

# lastuse_base PORT: the last-use database's base entry, as the admin
lastuse_base() {
	printf 'dn: cn=pat-lastuse\nobjectClass: applicationProcess\ncn: pat-lastuse\n' |
	    ldapadd -x -H "ldap://127.0.0.1:$1" -D "cn=admin,$BASE" -w admin
}

# start DIR PORT [SEED]: SEED "no" leaves the database empty (a mirror's
# second provider, filled by replication)
start() {
	local d=$1 p=$2 seed=${3:-yes} urls
	mkdir -p "$d/conf" "$d/db" || return 1
	[ -z "$alog" ] || mkdir -p "$d/accesslog" || return 1
	urls="ldap://127.0.0.1:$p/"
	if [ -n "$tls" ]; then
		[ -n "${PAT_SLAPD_LDAPS_PORT:-}" ] || {
			echo "slapd.sh: PAT_SLAPD_TLS needs PAT_SLAPD_LDAPS_PORT" >&2
			return 1
		}
		urls="$urls ldaps://127.0.0.1:$PAT_SLAPD_LDAPS_PORT/"
	fi
	printf '%s %s\n' "$urls" "$(ldapi_url "$d")" >"$d/urls" || return 1
	config_ldif "$d" >"$d/config.ldif" || return 1
	slapadd -q -n0 -F "$d/conf" -l "$d/config.ldif" || return 1
	if [ "$seed" = yes ]; then
		base_ldif >"$d/base.ldif" || return 1
		slapadd -q -n1 -w -F "$d/conf" -l "$d/base.ldif" || return 1
	fi
	run "$d" || { stop "$d"; return 1; }
	if ! ldapmodify -Q -Y EXTERNAL -H "$(ldapi_url "$d")" \
	    -f "$top/fleet/slapd-acl.ldif" >"$d/acl.out" 2>&1; then
		cat "$d/acl.out" >&2
		stop "$d"
		return 1
	fi
	# last use: a database of its own, no syncprov (fleet/slapd-lastuse.ldif
	# with this directory's path), and its base entry as the admin (on a
	# mirror's second provider once the admin has replicated: start_pair)
	mkdir -p "$d/lastuse" || return 1
	if ! sed "s,^olcDbDirectory: .*,olcDbDirectory: $d/lastuse," \
	    "$top/fleet/slapd-lastuse.ldif" | ldapadd -Q -Y EXTERNAL \
	    -H "$(ldapi_url "$d")" >"$d/lastuse.out" 2>&1 ||
	    { [ "$seed" = yes ] && ! lastuse_base "$p" >>"$d/lastuse.out" 2>&1; }; then
		cat "$d/lastuse.out" >&2
		stop "$d"
		return 1
	fi
	[ -n "$peer" ] || return 0
	if ! mirror_ldif | ldapmodify -Q -Y EXTERNAL -H "$(ldapi_url "$d")" \
	    >"$d/mirror.out" 2>&1; then
		cat "$d/mirror.out" >&2
		stop "$d"
		return 1
	fi
}

start_pair() {
	local d=$1 p1=$2 p2=$3 pw
	alog=1
	sid=1 peer=ldap://127.0.0.1:$p2/ start "$d/1" "$p1" yes || return 1
	if ! sid=2 peer=ldap://127.0.0.1:$p1/ start "$d/2" "$p2" no; then
		stop "$d/1"
		return 1
	fi
	# ready when provider 2 has the base entries (the last one added),
	# and provider 1 what is written on 2 (its consumer of 2 is in
	# persist mode, not waiting for its next retry)
	pw=$d/admin.pw
	printf admin >"$pw" && chmod 600 "$pw" || return 1
	if ! until_found "$p2" "ou=grants,$BASE" "" ||
	    ! printf 'dn: ou=pat,%s\nchangetype: modify\nreplace: description\ndescription: mirror\n-\n' \
	    "$BASE" | ldapmodify -x -H "ldap://127.0.0.1:$p2" -D "cn=admin,$BASE" \
	    -y "$pw" >/dev/null 2>&1 ||
	    ! until_found "$p1" "ou=pat,$BASE" "(description=mirror)" ||
	    ! lastuse_base "$p2" >>"$d/2/lastuse.out" 2>&1; then
		echo "slapd.sh: the providers do not replicate each other" >&2
		stop "$d/1"
		stop "$d/2"
		return 1
	fi
}

# start_free DIR: start on a port of its own, up to five picks (another
# process may hold one); the port on stdout
start_free() {
	local p
	for _ in 1 2 3 4 5; do
		p=$((20000 + RANDOM % 12000))	# below the ephemeral ports
		rm -rf "$1"
		if start "$1" "$p" >&2; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# until_found PORT DN FILTER: 0 once DN (matching FILTER) is there, as
# cn=admin; 1 after 5 s
until_found() {
	for _ in $(seq 1 500); do
		[ -n "$(ldapsearch -x -LLL -H "ldap://127.0.0.1:$1" \
		    -D "cn=admin,$BASE" -y "$pw" -b "$2" -s base \
		    "${3:-(objectClass=*)}" dn 2>/dev/null)" ] && return 0
		sleep 0.01
	done
	return 1
}

sid=${PAT_SLAPD_SERVER_ID:-}
tls=${PAT_SLAPD_TLS:-}
alog=${PAT_SLAPD_ACCESSLOG:-}
peer=""
[ "$alog" = 1 ] || alog=""
case "${1:-} $#" in
"start 3") start "$2" "$3" ;;
"start-free 2") start_free "$2" ;;
"start-pair 4") start_pair "$2" "$3" "$4" ;;
"again 2") run "$2" || { stop "$2"; exit 1; } ;;
"stop 2") stop "$2" ;;
*) echo "usage: $0 start DIR PORT | start-free DIR |" \
    "start-pair DIR PORT1 PORT2 | again DIR | stop DIR" >&2; exit 2 ;;
esac
