#!/bin/sh
# make-sha1.sh DIR: certificates with SHA-1 signatures for test_tls's
# sha1_signatures case, made in DIR at test time (the committed ones are
# all SHA-256).  Only the committed keys are used: nothing slow is made.
#
#   ca-rsa.pem, ca-ec.pem     CAs (ca.key, selfsigned.key), each
#                             self-signed with SHA-1
#   cas.pem                   both: the trust store
#   rsa-sha1.pem, rsa-sha256.pem   leaves for DNS:localhost (good-ec.key)
#                             signed by ca-rsa: sha1WithRSAEncryption,
#                             sha256WithRSAEncryption
#   ec-sha1.pem, ec-sha256.pem     the same by ca-ec: ecdsa-with-SHA1,
#                             ecdsa-with-SHA256
#   *.key                     each leaf's key, for the test server
set -eu
C=$(cd "$(dirname "$0")" && pwd)
cd "$1"
printf 'subjectAltName=DNS:localhost\n' > ext
openssl req -new -key "$C/good-ec.key" -subj /CN=localhost -out leaf.csr
for s in rsa:ca.key ec:selfsigned.key; do
	k=${s#*:}
	s=${s%%:*}
	openssl req -x509 -new -key "$C/$k" -sha1 -days 36500 \
		-subj "/CN=tsino SHA-1 $s CA" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign -out "ca-$s.pem"
	for h in sha1 sha256; do
		openssl x509 -req -in leaf.csr -CA "ca-$s.pem" -CAkey "$C/$k" \
			-"$h" -days 36500 -extfile ext -out "$s-$h.pem"
		cp "$C/good-ec.key" "$s-$h.key"
	done
done
cat ca-rsa.pem ca-ec.pem > cas.pem
