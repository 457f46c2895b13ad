/*
 * fuzz_trust: the trust-store loader (ts_trust_parse: PEM blocks through
 * BearSSL's PEM and X.509 decoders, CR dropping, resynchronisation after
 * damaged blocks) on arbitrary bytes.  Checked, with abort() on failure:
 *	- the result is 0 with at least one anchor, or
 *	  TS_ERR_TLS_TRUST_STORE with none and a message in why;
 *	- every certificate is counted once: anchors plus notes (one per
 *	  skipped certificate) are at most the "-----BEGIN " lines of the
 *	  input (in any case, CRs dropped);
 *	- every anchor has a name and an RSA or EC key whose bytes can be
 *	  read (ASan checks the reads);
 *	- each note is a NUL-terminated line.
 * The caller's bytes are not changed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tsino.h"
#include "tls.h"

static size_t notes;
static volatile unsigned sink;	/* keeps the reads of every anchor */

static void
note(void *arg, const char *msg)
{
	(void)arg;
	if (strlen(msg) == 0 || strchr(msg, '\n') != NULL)
		abort();
	notes++;
}

/*
 * "-----BEGIN " in the input, in any case, as BearSSL's decoder reads
 * it, once the CRs are gone (the loader drops them first).
 */
static size_t
begins(const uint8_t *in, size_t size)
{
	static const char tag[] = "-----begin ";
	static uint8_t d[1 << 20];
	size_t i, k, n = 0, c = 0;

	for (i = 0; i < size && n < sizeof(d); i++)
		if (in[i] != '\r')
			d[n++] = in[i];
	for (i = 0; i + sizeof(tag) - 1 <= n; i++) {
		for (k = 0; k < sizeof(tag) - 1; k++) {
			int b = d[i + k];

			if (b >= 'A' && b <= 'Z')
				b += 'a' - 'A';
			if (b != tag[k])
				break;
		}
		if (k == sizeof(tag) - 1)
			c++;
	}
	return c;
}

static unsigned
sum(const unsigned char *p, size_t n)
{
	unsigned s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += p[i];
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ts_trust t;
	char why[256];
	unsigned char *copy;
	unsigned s = 0;
	size_t i;
	int rc;

	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	why[0] = '\0';
	notes = 0;
	rc = ts_trust_parse(&t, copy, size, "fuzz.pem", note, NULL, why,
	    sizeof(why));
	if (memcmp(copy, data, size) != 0)
		abort();
	free(copy);
	if (rc == 0) {
		if (t.n == 0 || t.ta == NULL)
			abort();
	} else {
		if (rc != TS_ERR_TLS_TRUST_STORE || t.n != 0 || t.ta != NULL ||
		    why[0] == '\0')
			abort();
	}
	if (t.n + notes > begins(data, size))
		abort();
	for (i = 0; i < t.n; i++) {
		const br_x509_trust_anchor *ta = &t.ta[i];

		s += sum(ta->dn.data, ta->dn.len);
		if (ta->pkey.key_type == BR_KEYTYPE_RSA)
			s += sum(ta->pkey.key.rsa.n, ta->pkey.key.rsa.nlen) +
			    sum(ta->pkey.key.rsa.e, ta->pkey.key.rsa.elen);
		else if (ta->pkey.key_type == BR_KEYTYPE_EC)
			s += sum(ta->pkey.key.ec.q, ta->pkey.key.ec.qlen);
		else
			abort();
	}
	ts_trust_free(&t);
	sink = s;
	return 0;
}
