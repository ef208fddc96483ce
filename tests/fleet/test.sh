#!/bin/bash
# test.sh - pat's LDAP schema and "who may mint" ACLs against a real slapd (issue 16).
#
# Starts a throwaway provider (slapd.sh: fleet/pat.ldif and
# fleet/slapd-acl.ldif, exactly as shipped) and proves: the cn=config schema
# loads and fleet/pat.schema defines the same (converted by slaptest);
# the issuer takes an id (Modify-Increment with the post-read control) and
# adds a token; host-2 reads hashes and may revoke, but gets
# insufficientAccess (50) adding tokens, roles or grants, changing a role
# or a token, taking an id or un-revoking; anonymous reads nothing; a
# duplicate id is refused as alreadyExists (68); the provider configuration
# docs/fleet.md prints (the accesslog session log, TLS demanding client
# certificates, olcAuthzRegexp) loads as printed, serves ldaps://, and maps
# a host's certificate onto its ou=hosts DN.  Every check compares
# against an expected value, so none passes on empty output.
#
#   tests/fleet/test.sh      (as root; make test and make test-fleet run it)
#
# Exit: 0 all checks passed, 1 a check failed, 77 skipped (not root, or
# slapd / ldap-utils missing: the environment, never a verdict on pat).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
say() { printf '[FLEET] %s\n' "$*"; }
skip() { say "SKIPPED (environment, not a verdict on pat): $*"; exit 77; }
FAILS=0 PASSES=0
ok() { PASSES=$((PASSES + 1)); say "ok   $*"; }
bad() { FAILS=$((FAILS + 1)); say "FAIL $*"; }
# rc DESCRIPTION WANTED ACTUAL [OUTPUT]: an exit status is the one wanted
rc() { if [ "$3" = "$2" ]; then ok "$1 (exit $3)"; else bad "$1: exit $3, wanted $2: $(head -c 300 <<<"${4:-}" | tr '\n' '|')"; fi; }
# eq DESCRIPTION WANTED ACTUAL [OUTPUT]: a count is the one wanted
eq() { if [ "$3" = "$2" ]; then ok "$1"; else bad "$1: $3, wanted $2: $(head -c 300 <<<"${4:-}" | tr '\n' '|')"; fi; }
# has DESCRIPTION TEXT REGEX / hasnt DESCRIPTION TEXT REGEX
has() { if grep -Eq -- "$3" <<<"$2"; then ok "$1"; else bad "$1: got '$(head -c 300 <<<"$2" | tr '\n' '|')', wanted /$3/"; fi; }
hasnt() { if grep -Eq -- "$3" <<<"$2"; then bad "$1: got /$3/ in '$(head -c 300 <<<"$2" | tr '\n' '|')'"; else ok "$1"; fi; }

[ "$(id -u)" = 0 ] || skip "needs root (slapd's ldapi peer credentials)"
for t in slapd slapadd slaptest slapcat ldapsearch ldapadd ldapmodify; do
	command -v "$t" >/dev/null ||
	    [ -x "/usr/sbin/$t" ] || skip "$t is missing (scripts/deps.sh test installs slapd and ldap-utils)"
done
export PATH=$PATH:/usr/sbin
T0=$(date +%s%3N)
D=$(mktemp -d "/tmp/pat-test.${PAT_TEST_RUN:-$$}.fleet.XXXXXX") || exit 1
trap '"$top/tests/fleet/slapd.sh" stop "$D/p"; "$top/tests/fleet/slapd.sh" stop "$D/doc"; rm -rf "$D"' EXIT
trap 'exit 1' INT TERM

# ---- a provider on a free port (another process may hold the first pick)
PORT=$("$top/tests/fleet/slapd.sh" start-free "$D/p" 2>"$D/start.err") ||
    { bad "slapd started with fleet/pat.ldif and fleet/slapd-acl.ldif: $(head -c 300 "$D/start.err")"; exit 1; }
ok "slapd started with fleet/pat.ldif (cn=config) and fleet/slapd-acl.ldif loaded by ldapmodify"
B=dc=example,dc=org
U=ldap://127.0.0.1:$PORT
ADMIN=(-x -H "$U" -D "cn=admin,$B" -w admin)
ISSUER=(-x -H "$U" -D "cn=issuer-1,ou=hosts,$B" -w issuer-1)
HOST2=(-x -H "$U" -D "cn=host-2,ou=hosts,$B" -w host-2)
ANON=(-x -H "$U")

# ---- the schema: loaded from the LDIF, and the .schema file says the same
# pat_defs CONFDIR: pat's definitions as slapd holds them, one a line,
# without the {n} ordering prefixes
pat_defs() {
	slapcat -n0 -F "$1" -o ldif-wrap=no -a '(cn=*pat)' 2>/dev/null |
	    grep -E '^olc(AttributeTypes|ObjectClasses):' |
	    sed -E 's/^(olc[A-Za-z]+): \{[0-9]+\}/\1: /' | sort
}
ldif_defs=$(pat_defs "$D/p/conf")
n_at=$(grep -c '^olcAttributeTypes: ( 2\.25\.5634479448206957879371822689448169470\.1\.' <<<"$ldif_defs")
n_oc=$(grep -c '^olcObjectClasses: ( 2\.25\.5634479448206957879371822689448169470\.2\.' <<<"$ldif_defs")
eq "cn=pat,cn=schema,cn=config holds 28 attribute types under the arc's .1" 28 "$n_at" "$ldif_defs"
eq "cn=pat,cn=schema,cn=config holds 5 object classes under the arc's .2" 5 "$n_oc" "$ldif_defs"
printf 'include /etc/ldap/schema/core.schema\ninclude %s/fleet/pat.schema\n' "$top" >"$D/conv.conf"
mkdir -p "$D/conv"
out=$(slaptest -Q -f "$D/conv.conf" -F "$D/conv" 2>&1)
rc "slaptest converts fleet/pat.schema to cn=config" 0 $? "$out"
schema_defs=$(pat_defs "$D/conv")
if [ -n "$schema_defs" ] && [ "$schema_defs" = "$ldif_defs" ]; then
	ok "fleet/pat.schema and fleet/pat.ldif define the same $((n_at + n_oc)) types and classes, word for word"
else
	bad "fleet/pat.schema and fleet/pat.ldif differ: $(diff <(echo "$schema_defs") <(echo "$ldif_defs") | head -c 600 | tr '\n' '|')"
fi
out=$(ldapsearch -LLL -o ldif-wrap=no "${ADMIN[@]}" -b cn=subschema -s base '(objectClass=*)' objectClasses 2>&1)
has "the running slapd publishes patToken, patRole, patGrant and patCounter" \
    "$(grep -oE "NAME '(patToken|patRole|patGrant|patCounter)'" <<<"$out" | sort | tr '\n' ' ')" \
    "^NAME 'patCounter' NAME 'patGrant' NAME 'patRole' NAME 'patToken' $"

# ---- the issuer takes an id and adds a token
if [[ $(ldapmodify --help 2>&1) == *postread* ]]; then
	inc() { printf 'dn: cn=next-id,ou=pat,%s\nchangetype: modify\nincrement: patIdCounter\npatIdCounter: 1\n-\n' "$B"; }
	out=$(inc | ldapmodify "${ISSUER[@]}" -e postread=patIdCounter 2>&1)
	rc "the issuer increments the id counter (RFC 4525)" 0 $? "$out"
	has "the post-read control (RFC 4527) returns the id taken: 1" "$out" '^patIdCounter: 1$'
	out=$(inc | ldapmodify "${ISSUER[@]}" -e postread=patIdCounter 2>&1)
	has "a second increment takes 2" "$out" '^patIdCounter: 2$'
	ID=$(sed -n 's/^patIdCounter: //p' <<<"$out")
	out=$(inc | ldapmodify "${HOST2[@]}" -e postread=patIdCounter 2>&1)
	rc "host-2 cannot take an id" 50 $? "$out"
else
	say "SKIPPED (ldapmodify has no -e postread): the post-read sub-check; ids taken by hand"
	ID=2
fi
HASH=$(head -c 32 /dev/urandom | base64 -w0)
# token ID [HASH]: a valid patToken entry
token() {
	printf 'dn: patId=%s,ou=tokens,%s\nobjectClass: patToken\npatId: %s\n' "$1" "$B" "$1"
	printf 'patHash:: %s\npatUid: 1000\npatUser: alice\npatRoleName: ops\n' "${2:-$HASH}"
	printf 'patCap: ssh.login\npatCap: sudo\npatCreated: %s\npatBy: root\n' "$(date +%s)"
	printf 'patName: laptop\npatBindService: sshd\npatBindFrom: 10.0.0.0/8\n'
}
out=$(token "$ID" | ldapadd "${ISSUER[@]}" 2>&1)
rc "the issuer adds token patId=$ID" 0 $? "$out"
out=$(token "$ID" "$(head -c 32 /dev/urandom | base64 -w0)" | ldapadd "${ISSUER[@]}" 2>&1)
rc "a second token with the same id is refused: alreadyExists" 68 $? "$out"
role() { printf 'dn: patRoleName=%s,ou=roles,%s\nobjectClass: patRole\npatRoleName: %s\npatPermission: ssh.*\npatMaxLifetime: 7776000\n' "$1" "$B" "$1"; }
grant() { printf 'dn: patGrantUser=%s+patRoleName=ops,ou=grants,%s\nobjectClass: patGrant\npatGrantUser: %s\npatRoleName: ops\n' "$1" "$B" "$1"; }
out=$(role ops | ldapadd "${ISSUER[@]}" 2>&1)
rc "the issuer adds role ops" 0 $? "$out"
out=$(grant alice | ldapadd "${ISSUER[@]}" 2>&1)
rc "the issuer grants ops to alice" 0 $? "$out"
modify() { printf 'dn: %s\nchangetype: modify\n%s: %s\n' "$1" "$2" "$3"; [ -n "${4:-}" ] && printf '%s: %s\n' "$3" "$4"; printf -- '-\n'; }
TOK=patId=$ID,ou=tokens,$B
out=$(modify "$TOK" replace patHash "$(head -c 32 /dev/urandom | base64 -w0)" | ldapmodify "${ISSUER[@]}" 2>&1)
rc "not even the issuer rewrites a token's hash" 50 $? "$out"
out=$(modify "$TOK" replace patParent 7 | ldapmodify "${ISSUER[@]}" 2>&1)
rc "the issuer moves a token's parent (ROTATE hands the children on)" 0 $? "$out"
out=$(modify "$TOK" replace patParent 8 | ldapmodify "${HOST2[@]}" 2>&1)
rc "host-2 does not" 50 $? "$out"
out=$(modify "$TOK" add patRevoked 0 | ldapmodify "${HOST2[@]}" 2>&1)
rc "host-2 cannot add patRevoked: 0 (it would read as not revoked, for good)" 50 $? "$out"
out=$(modify "$TOK" add patRevokedReason bogus | ldapmodify "${HOST2[@]}" 2>&1)
rc "host-2 cannot add a reason patd does not give (it would block a later one)" 50 $? "$out"

# ---- an ordinary host: reads everything, revokes, mints nothing
out=$(ldapsearch -LLL "${HOST2[@]}" -b "$TOK" -s base patHash 2>&1)
has "host-2 reads the token's hash (the one the issuer stored)" "$out" "^patHash:: ${HASH//+/\\+}\$"
out=$(token $((ID + 100)) | ldapadd "${HOST2[@]}" 2>&1)
rc "host-2 cannot add a token" 50 $? "$out"
out=$(role narrow | ldapadd "${HOST2[@]}" 2>&1)
rc "host-2 cannot add a role" 50 $? "$out"
out=$(modify "patRoleName=ops,ou=roles,$B" add patPermission 'sudo' | ldapmodify "${HOST2[@]}" 2>&1)
rc "host-2 cannot change a role" 50 $? "$out"
out=$(grant bob | ldapadd "${HOST2[@]}" 2>&1)
rc "host-2 cannot add a grant" 50 $? "$out"
out=$(printf 'dn: patGrantUser=alice+patRoleName=ops,ou=grants,%s\nchangetype: delete\n' "$B" | ldapmodify "${HOST2[@]}" 2>&1)
rc "host-2 cannot remove a grant" 50 $? "$out"
out=$(modify "$TOK" replace patRoleName admin | ldapmodify "${HOST2[@]}" 2>&1)
rc "host-2 cannot change a token's role" 50 $? "$out"
out=$(modify "$TOK" add patExpires 4102444800 | ldapmodify "${HOST2[@]}" 2>&1)
rc "host-2 cannot add a non-revocation attribute (patExpires)" 50 $? "$out"
REV=$(date +%s)
out=$(printf 'dn: %s\nchangetype: modify\nadd: patRevoked\npatRevoked: %s\n-\nadd: patRevokedReason\npatRevokedReason: reported\n-\n' "$TOK" "$REV" | ldapmodify "${HOST2[@]}" 2>&1)
rc "host-2 revokes the token (patRevoked, patRevokedReason)" 0 $? "$out"
out=$(ldapsearch -LLL "${ISSUER[@]}" -b "$TOK" -s base patRevoked patRevokedReason 2>&1)
has "the issuer sees the revocation" "$(tr '\n' ' ' <<<"$out")" "patRevoked: $REV patRevokedReason: reported"
out=$(modify "$TOK" delete patRevoked | ldapmodify "${HOST2[@]}" 2>&1)
rc "host-2 cannot un-revoke" 50 $? "$out"
out=$(modify "$TOK" delete patRevoked | ldapmodify "${ISSUER[@]}" 2>&1)
rc "the issuer cannot un-revoke either" 50 $? "$out"
out=$(modify "$TOK" delete patRevoked | ldapmodify "${ADMIN[@]}" 2>&1)
rc "the admin can (a mistaken revocation)" 0 $? "$out"

# ---- anonymous: nothing
out=$(ldapsearch -LLL "${ANON[@]}" -b "$TOK" -s base patHash 2>&1)
rc "anonymous cannot read the token (noSuchObject: not even its existence)" 32 $? "$out"
hasnt "anonymous gets no hash" "$out" 'patHash'
out=$(ldapsearch -LLL "${ANON[@]}" -b "$B" '(objectClass=*)' dn 2>&1)
hasnt "anonymous lists no entry" "$out" '^dn:'
out=$(ldapsearch -LLL "${HOST2[@]}" -b "$B" '(objectClass=*)' dn userPassword 2>&1)
has "host-2 lists the entries (the same search)" "$out" "^dn: patId=$ID,ou=tokens,$B\$"
hasnt "host-2 reads no password" "$out" 'userPassword'

# ---- last use: a database of its own (fleet/slapd-lastuse.ldif), no syncprov
HOST3=(-x -H "$U" -D "cn=host-3,ou=hosts,$B" -w host-3)
csn() { ldapsearch -LLL "${ADMIN[@]}" -b "$B" -s base contextCSN 2>&1 | sed -n 's/^contextCSN: //p'; }
before=$(csn)
has "the fleet base's contextCSN can be read (the check below compares it)" "$before" '^[0-9]{14}'
lu() { printf 'dn: cn=%s,cn=pat-lastuse\nobjectClass: device\ncn: %s\n\ndn: patId=%s,cn=%s,cn=pat-lastuse\nobjectClass: patLastUse\npatId: %s\npatHost: %s\npatLastUsed: 1795000000\npatLastService: sshd\n' "$1" "$1" "$2" "$1" "$2" "$1"; }
out=$(lu host-2 "$ID" | ldapadd "${HOST2[@]}" 2>&1)
rc "host-2 records last use under cn=host-2,cn=pat-lastuse" 0 $? "$out"
out=$(lu host-3 "$ID" | ldapadd "${HOST2[@]}" 2>&1)
rc "host-2 cannot write under cn=host-3 (nor make it)" 50 $? "$out"
out=$(ldapsearch -LLL "${HOST3[@]}" -b cn=pat-lastuse "(patId=$ID)" patHost patLastUsed 2>&1)
has "host-3 reads where the token was last used" "$out" '^patHost: host-2$'
out=$(ldapsearch -LLL "${ANON[@]}" -b cn=pat-lastuse '(objectClass=*)' dn 2>&1)
hasnt "anonymous reads no last use" "$out" '^dn:'
eq "a last-use write leaves the replicated database's contextCSN as it was (hosts' streams never see it)" "$before" "$(csn)"
out=$(ldapsearch -LLL "${HOST2[@]}" -b "$B" '(objectClass=patLastUse)' dn 2>&1)
hasnt "a search of the fleet base (what hosts replicate) finds no last use" "$out" '^dn:'

# ---- docs/fleet.md's provider configuration, as printed there (paths
# moved under $D): it loads, slapd serves ldaps:// with it, a host's
# certificate binds as its ou=hosts DN, and the access rules load on it
doc=$D/doc
if command -v openssl >/dev/null; then
	mkdir -p "$doc/conf" "$doc/db" "$doc/accesslog"
	out=$("$top/tests/fleet/certs.sh" "$doc/tls" 2>&1)
	rc "tests/fleet/certs.sh makes the test PKI" 0 $? "$out"
	awk '/^### A provider \(cn=config\)/ { f = 1 }
	    f && /^```/ { if (inb) exit; inb = 1; next }
	    inb { print }' "$top/docs/fleet.md" |
	    sed -e "s,/etc/ldap/tls/fleet-ca.pem,$doc/tls/ca.pem," \
	    -e "s,/etc/ldap/tls/ldap1\.,$doc/tls/server.," \
	    -e "s,/run/slapd/slapd.pid,$doc/slapd.pid," \
	    -e "s,/var/lib/ldap/accesslog,$doc/accesslog," \
	    -e "s,/var/lib/ldap,$doc/db," \
	    -e "s,/usr/share/pat/fleet/,$top/fleet/," >"$doc/config.ldif"
	eq "docs/fleet.md prints a provider's cn=config (olcSpSessionlogSource, olcAuthzRegexp)" 2 \
	    "$(grep -cE '^(olcSpSessionlogSource: cn=accesslog|olcAuthzRegexp: )' "$doc/config.ldif")" "$(head -c 300 "$doc/config.ldif")"
	out=$(slapadd -q -n0 -F "$doc/conf" -l "$doc/config.ldif" 2>&1)
	rc "slapadd -n0 loads it" 0 $? "$out"
	out=$(slapadd -q -n1 -w -F "$doc/conf" -l "$D/p/base.ldif" 2>&1)
	rc "slapadd -n1 -w loads the base entries into it" 0 $? "$out"
	tls=(env LDAPTLS_CACERT="$doc/tls/ca.pem" LDAPTLS_CERT="$doc/tls/host-3.pem" LDAPTLS_KEY="$doc/tls/host-3.key")
	up=""
	for _ in 1 2 3 4 5; do
		DPORT=$((20000 + RANDOM % 12000))	# below the ephemeral ports
		slapd -F "$doc/conf" -h "ldaps://127.0.0.1:$DPORT/ ldapi://${doc//\//%2F}%2Fldapi" 2>"$doc/slapd.err" || continue
		for _ in $(seq 1 300); do
			out=$("${tls[@]}" ldapwhoami -Q -Y EXTERNAL -H "ldaps://127.0.0.1:$DPORT" 2>&1) && { up=1; break; }
			sleep 0.01
		done
		[ -n "$up" ] && break
		"$top/tests/fleet/slapd.sh" stop "$doc"
	done
	rc "slapd starts with it and answers on ldaps:// with a host certificate" 0 "${up:+0}" "$out $(cat "$doc/slapd.err")"
	eq "the certificate /O=pat fleet/OU=hosts/CN=host-3 binds (SASL EXTERNAL) as its ou=hosts DN" \
	    "dn:cn=host-3,ou=hosts,$B" "$out" "$out"
	out=$(ldapmodify -Q -Y EXTERNAL -H "ldapi://${doc//\//%2F}%2Fldapi" -f "$top/fleet/slapd-acl.ldif" 2>&1)
	rc "fleet/slapd-acl.ldif loads on it" 0 $? "$out"
	out=$("${tls[@]}" ldapsearch -LLL -Q -Y EXTERNAL -H "ldaps://127.0.0.1:$DPORT" -b "ou=hosts,$B" -s one dn 2>&1)
	eq "host-3, by its certificate, reads what the rules give hosts (the 3 entries under ou=hosts)" 3 \
	    "$(grep -c '^dn: ' <<<"$out")" "$out"
	"$top/tests/fleet/slapd.sh" stop "$doc"
else
	say "SKIPPED (environment, not a verdict on pat): docs/fleet.md's provider configuration: openssl is missing (scripts/deps.sh test installs it)"
fi

# ---- make fleet-demo: three patd hosts writing through a slapd of its own
if [ -x "$top/build/patd" ] && [ -x "$top/build/patctl" ]; then
	out=$("$top/scripts/fleet-demo.sh" build 2>&1)
	rc "make fleet-demo (scripts/fleet-demo.sh) passes" 0 $? "$(tail -5 <<<"$out")"
	has "make fleet-demo prints the propagation time" "$out" 'refused on hosts 1 and 2 within [0-9]+ ms'
else
	say "SKIPPED (environment, not a verdict on pat): make fleet-demo: build/patd or build/patctl not built"
fi

say "figure run time $(($(date +%s%3N) - T0)) ms, $PASSES checks"
if [ "$FAILS" -ne 0 ]; then
	say "FAILED: $FAILS of $((PASSES + FAILS)) checks"
	exit 1
fi
say "ok all $PASSES checks passed"
