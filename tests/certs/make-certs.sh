#!/bin/sh
# make-certs.sh: the test PKI for tests/fakeapi.py.  Run once, by hand, from
# this directory; its output is committed, so tests never need openssl.
# Everything but the expired leaf is valid until 2120.
#
#   ca.pem / ca.key           test CA, RSA 2048, SHA-256, CA:TRUE, keyCertSign
#   good-ec.pem / .key        leaf, EC P-256,  SAN localhost, 127.0.0.1, ::1
#   good-rsa.pem / .key       leaf, RSA 2048,  same SANs
#   expired.pem / .key        leaf, EC P-256,  same SANs, valid 2020-2021 only
#   wronghost.pem / .key      leaf, EC P-256,  SAN DNS:other.example only
#   dnsonly.pem / .key        leaf, EC P-256,  SAN DNS:localhost only (no IP)
#   selfsigned.pem / .key     self-signed leaf for localhost (not from the CA)
#   bundle-junk.pem           trust bundle: a certificate whose DER is garbage,
#                             an Ed25519 CA (BearSSL has no Ed25519), then
#                             ca.pem: a client must skip the first two
#   empty.pem                 a bundle with no certificate at all
#
# The leaves are signed with `openssl ca` and explicit -startdate/-enddate
# (the expired one needs dates in the past, which -days cannot give).
set -eu
cd "$(dirname "$0")"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

START=20240101000000Z
END=21200101000000Z

mkdir -p "$W/new"
: > "$W/index.txt"
echo 1000 > "$W/serial"
cat > "$W/ca.cnf" <<CNF
[ ca ]
default_ca = tca
[ tca ]
dir = $W
database = $W/index.txt
new_certs_dir = $W/new
serial = $W/serial
certificate = $PWD/ca.pem
private_key = $PWD/ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
organizationName = optional
commonName = supplied
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ self ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
[ leaf ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = \$ENV::SAN
CNF

# selfsign NAME SUBJECT EXTENSIONS: a self-signed certificate with explicit
# dates (OpenSSL 3.0's req has no -not_before; `ca -selfsign` has).
selfsign() {
	openssl req -new -key "$1.key" -subj "$2" -out "$W/$1.csr"
	SAN=DNS:unused openssl ca -batch -selfsign -config "$W/ca.cnf" \
		-keyfile "$1.key" -extensions "$3" -startdate $START -enddate $END \
		-in "$W/$1.csr" -out "$W/$1.full" 2>/dev/null
	openssl x509 -in "$W/$1.full" -out "$1.pem"
}

openssl genrsa -out ca.key 2048 2>/dev/null
selfsign ca "/O=tsino tests/CN=tsino test CA" ca_ext

# leaf NAME KEYTYPE CN SAN START END
leaf() {
	if [ "$2" = rsa ]; then
		openssl genrsa -out "$1.key" 2048 2>/dev/null
	else
		openssl ecparam -name prime256v1 -genkey -noout -out "$W/k" 
		openssl pkcs8 -topk8 -nocrypt -in "$W/k" -out "$1.key"
	fi
	openssl req -new -key "$1.key" -subj "/O=tsino tests/CN=$3" \
		-out "$W/$1.csr"
	SAN=$4 openssl ca -batch -config "$W/ca.cnf" -extensions leaf \
		-startdate "$5" -enddate "$6" -in "$W/$1.csr" -out "$W/$1.full" \
		2>/dev/null
	openssl x509 -in "$W/$1.full" -out "$1.pem"
}

ALL="DNS:localhost,IP:127.0.0.1,IP:::1"
leaf good-ec ec localhost "$ALL" $START $END
leaf good-rsa rsa localhost "$ALL" $START $END
leaf expired ec localhost "$ALL" 20200101000000Z 20210101000000Z
leaf wronghost ec other.example "DNS:other.example" $START $END
leaf dnsonly ec localhost "DNS:localhost" $START $END

openssl ecparam -name prime256v1 -genkey -noout -out "$W/k"
openssl pkcs8 -topk8 -nocrypt -in "$W/k" -out selfsigned.key
selfsign selfsigned "/O=tsino tests/CN=localhost" self

# bundle-junk.pem: undecodable DER, an Ed25519 CA, then the real CA.
openssl genpkey -algorithm ed25519 -out "$W/ed.key"
openssl req -x509 -new -key "$W/ed.key" -subj "/CN=ed25519 junk CA" \
	-days 36500 -out "$W/ed25519.pem"
{
	echo "Leading text outside any PEM block is ignored."
	echo "-----BEGIN CERTIFICATE-----"
	printf '0\202\001\000not a certificate, just bytes that are not DER at all....' \
		| openssl base64
	echo "-----END CERTIFICATE-----"
	cat "$W/ed25519.pem" ca.pem
} > bundle-junk.pem
printf '# no certificates here\n' > empty.pem

for c in ca good-ec good-rsa expired wronghost dnsonly selfsigned; do
	printf '%-11s ' $c
	openssl x509 -in $c.pem -noout -enddate -ext subjectAltName 2>/dev/null \
		| tr '\n' ' '
	echo
done
