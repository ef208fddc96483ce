#!/bin/bash
# slapd.sh - a throwaway OpenLDAP provider for the fleet tests: slapd.sh start DIR PORT | stop DIR
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

start() {
	local d=$1 p=$2
	mkdir -p "$d/conf" "$d/db" || return 1
	cat >"$d/config.ldif" <<EOL || return 1
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $d/slapd.pid${PAT_SLAPD_SERVER_ID:+
olcServerID: $PAT_SLAPD_SERVER_ID}
olcLogLevel: none

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: syncprov

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

dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
olcSpCheckpoint: 100 1
olcSpSessionlog: 10000
EOL
	slapadd -q -n0 -F "$d/conf" -l "$d/config.ldif" || return 1
	cat >"$d/base.ldif" <<EOL || return 1
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
	slapadd -q -n1 -w -F "$d/conf" -l "$d/base.ldif" || return 1
	slapd -F "$d/conf" -h "ldap://127.0.0.1:$p/ $(ldapi_url "$d")" || return 1
	for _ in $(seq 1 300); do
		ldapsearch -QLLL -Y EXTERNAL -H "$(ldapi_url "$d")" -b cn=config \
		    -s base dn >/dev/null 2>&1 && break
		sleep 0.01
	done
	if ! ldapmodify -Q -Y EXTERNAL -H "$(ldapi_url "$d")" \
	    -f "$top/fleet/slapd-acl.ldif" >"$d/acl.out" 2>&1; then
		cat "$d/acl.out" >&2
		stop "$d"
		return 1
	fi
	# last use: a database of its own, no syncprov (fleet/slapd-lastuse.ldif
	# with this directory's path), and its base entry as the admin
	mkdir -p "$d/lastuse" || return 1
	if ! sed "s,^olcDbDirectory: .*,olcDbDirectory: $d/lastuse," \
	    "$top/fleet/slapd-lastuse.ldif" | ldapadd -Q -Y EXTERNAL \
	    -H "$(ldapi_url "$d")" >"$d/lastuse.out" 2>&1 ||
	    ! printf 'dn: cn=pat-lastuse\nobjectClass: applicationProcess\ncn: pat-lastuse\n' \
	    | ldapadd -x -H "ldap://127.0.0.1:$p" -D "cn=admin,$BASE" \
	    -w admin >>"$d/lastuse.out" 2>&1; then
		cat "$d/lastuse.out" >&2
		stop "$d"
		return 1
	fi
}

case "${1:-} $#" in
"start 3") start "$2" "$3" ;;
"stop 2") stop "$2" ;;
*) echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2 ;;
esac
