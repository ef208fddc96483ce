#!/bin/bash
# certs.sh DIR - a throwaway PKI for the fleet's TLS tests (openssl), in DIR:
#   ca.pem ca.key                the fleet's CA
#   server.pem server.key        the provider: subjectAltName IP:127.0.0.1
#                                and DNS:localhost, signed by ca
#   issuer-1 host-3 (.pem .key)  hosts: subject "cn=NAME,ou=hosts,o=pat fleet"
#                                (tests/fleet/slapd.sh maps it to
#                                cn=NAME,ou=hosts,dc=example,dc=org)
#   stranger (.pem .key)         ca-signed, "cn=stranger,ou=guests,o=pat fleet"
#                                (mapped outside ou=hosts: no rights)
#   other-ca.pem other-ca.key    a CA the provider does not trust, and
#   rogue-3 (.pem .key)          "cn=host-3,ou=hosts,o=pat fleet" signed by it
# Keys are P-256, mode 0600; certificates last two days.  Exit 0, or 1 with
# openssl's complaint on stderr.
set -eu
d=$1
mkdir -p "$d"
cd "$d"
umask 077

ca() {	# ca NAME
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -out "$1.pem" -days 2 -subj "/O=pat fleet/CN=$1" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>"$1.err" ||
	    { cat "$1.err" >&2; exit 1; }
	rm -f "$1.err"
}

leaf() {	# leaf NAME CA SUBJECT EXTENSIONS
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$1.key" -out "$1.csr" -subj "$3" 2>"$1.err" ||
	    { cat "$1.err" >&2; exit 1; }
	printf '%s\n' "$4" >"$1.ext"
	openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" \
	    -set_serial "0x$(openssl rand -hex 8)" -days 2 -out "$1.pem" \
	    -extfile "$1.ext" 2>"$1.err" || { cat "$1.err" >&2; exit 1; }
	rm -f "$1.csr" "$1.ext" "$1.err"
}

client='keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth'
ca ca
ca other-ca
leaf server ca "/O=pat fleet/CN=127.0.0.1" 'keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,DNS:localhost'
leaf issuer-1 ca "/O=pat fleet/OU=hosts/CN=issuer-1" "$client"
leaf host-3 ca "/O=pat fleet/OU=hosts/CN=host-3" "$client"
leaf stranger ca "/O=pat fleet/OU=guests/CN=stranger" "$client"
leaf rogue-3 other-ca "/O=pat fleet/OU=hosts/CN=host-3" "$client"
chmod 0644 ./*.pem
