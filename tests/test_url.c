/*
 * test_url: URL parsing (RFC 3986 forms, RFC 4291/5952 IPv6 text), every
 * reject with its code, the loopback table of SPEC §7.11, and the stream
 * and REST builders of SPEC §1 and §7.6, buffer sizes included.
 */
#include <stdio.h>
#include <string.h>

#include "tsino.h"
#include "url.h"
#include "test.h"

static struct ts_url u;

static int
parse(const char *s)
{
	return ts_url_parse(&u, s, strlen(s));
}

/* URLs that parse: the fields they must give. */
struct good {
	const char *in;
	int tls;		/* wss and https */
	size_t addr_len;	/* 0 for a name, 4 or 16 for an IP literal */
	const char *host;
	unsigned port;
	int port_explicit;
	const char *target;
	size_t path_len;
};

static const struct good goods[] = {
	/* RFC 3986 §1.1.2 and §3 example forms, in our four schemes */
	{"http://www.ietf.org/rfc/rfc2396.txt", 0, 0,
	    "www.ietf.org", 80, 0, "/rfc/rfc2396.txt", 16},
	{"http://example.com:8042/over/there?name=ferret", 0,
	    0, "example.com", 8042, 1,
	    "/over/there?name=ferret", 11},
	{"https://example.com", 1, 0, "example.com",
	    443, 0, "/", 1},
	{"http://[2001:db8::7]/c=GB?objectClass?one", 0,
	    16, "2001:db8::7", 80, 0, "/c=GB?objectClass?one", 5},
	{"http://192.0.2.16:80/", 0, 4, "192.0.2.16",
	    80, 1, "/", 1},
	/* RFC 3986 §6.2.2, §6.2.3: case, empty path, empty query */
	{"HTTP://www.EXAMPLE.com/", 0, 0,
	    "www.example.com", 80, 0, "/", 1},
	{"http://example.com/%7Esmith/home.html", 0,
	    0, "example.com", 80, 0, "/%7Esmith/home.html", 19},
	{"http://example.com/?", 0, 0, "example.com",
	    80, 0, "/?", 1},
	{"http://example.com?a=b", 0, 0,
	    "example.com", 80, 0, "/?a=b", 1},
	/* RFC 6455 §3 */
	{"ws://example.com/chat", 0, 0, "example.com",
	    80, 0, "/chat", 5},
	{"WsS://api.trackersino.com/v1-beta/stream"
	    "?games=stake-crash,roobet-crash",
	    1, 0, "api.trackersino.com", 443, 0,
	    "/v1-beta/stream?games=stake-crash,roobet-crash", 15},
	{"wss://h.example:443/", 1, 0, "h.example",
	    443, 1, "/", 1},
	{"ws://localhost:8080", 0, 0, "localhost",
	    8080, 1, "/", 1},
	{"ws://localhost.:1", 0, 0, "localhost.", 1, 1,
	    "/", 1},
	{"http://a:65535/", 0, 0, "a", 65535, 1, "/",
	    1},
	{"http://a:00080/", 0, 0, "a", 80, 1, "/",
	    1},
	/* pchar and query characters, kept as written */
	{"https://h/a:b@c!$&'()*+,;=-._~/%2f?q=/?:@!$'()*+,;=%20", 1,
	    0, "h", 443, 0,
	    "/a:b@c!$&'()*+,;=-._~/%2f?q=/?:@!$'()*+,;=%20", 25},
	{"http://1e100.net/", 0, 0, "1e100.net", 80,
	    0, "/", 1},
	{"http://127.0.0.1.example.com/", 0, 0,
	    "127.0.0.1.example.com", 80, 0, "/", 1},
	{"http://x-1.y--z.example/", 0, 0,
	    "x-1.y--z.example", 80, 0, "/", 1},
	{"http://0.0.0.0/", 0, 4, "0.0.0.0", 80, 0,
	    "/", 1},
	{"http://255.255.255.255/", 0, 4,
	    "255.255.255.255", 80, 0, "/", 1},
	{"https://[::1]:8443/x", 1, 16, "::1", 8443, 1,
	    "/x", 2},
	{"https://[FE80::ABCD]", 1, 16, "fe80::abcd",
	    443, 0, "/", 1},
};

static void
parse_good_forms(void)
{
	size_t i;
	const struct good *g;

	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		g = &goods[i];
		if (parse(g->in) != 0)
			printf(" [%s]", g->in);
		CHECK_INT(parse(g->in), 0);
		CHECK_INT(u.tls, g->tls);
		CHECK_INT(u.addr_len, g->addr_len);
		CHECK_STR(u.host, g->host);
		CHECK_INT(u.port, g->port);
		CHECK_INT(u.port_explicit, g->port_explicit);
		CHECK_STR(u.target, g->target);
		CHECK_INT(u.path_len, g->path_len);
		CHECK_INT(u.target[u.path_len] != '\0',
		    strchr(g->in + 8, '?') != NULL);
	}
}

static void
ipv4_address_bytes(void)
{
	CHECK_INT(parse("http://192.0.2.16/"), 0);
	CHECK_INT(u.addr_len, 4);
	CHECK(memcmp(u.addr, "\xc0\x00\x02\x10", 4) == 0);
	CHECK_INT(parse("http://example.com/"), 0);
	CHECK_INT(u.addr_len, 0);
}

/* IPv6 text forms (RFC 4291 §2.2, RFC 5952 §4) and their 16 bytes. */
struct six {
	const char *text;
	const char *bytes;
};

static const struct six sixes[] = {
	/* RFC 4291 §2.2, form 1 */
	{"ABCD:EF01:2345:6789:ABCD:EF01:2345:6789",
	    "\xab\xcd\xef\x01\x23\x45\x67\x89\xab\xcd\xef\x01\x23\x45\x67\x89"},
	{"2001:DB8:0:0:8:800:200C:417A",
	    "\x20\x01\x0d\xb8\0\0\0\0\0\x08\x08\0\x20\x0c\x41\x7a"},
	/* form 2: the same with "::", and the other examples */
	{"2001:DB8::8:800:200C:417A",
	    "\x20\x01\x0d\xb8\0\0\0\0\0\x08\x08\0\x20\x0c\x41\x7a"},
	{"FF01:0:0:0:0:0:0:101",
	    "\xff\x01\0\0\0\0\0\0\0\0\0\0\0\0\x01\x01"},
	{"FF01::101", "\xff\x01\0\0\0\0\0\0\0\0\0\0\0\0\x01\x01"},
	{"0:0:0:0:0:0:0:1", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"},
	{"::1", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01"},
	{"0:0:0:0:0:0:0:0", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"},
	{"::", "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"},
	/* form 3: embedded IPv4 */
	{"0:0:0:0:0:0:13.1.68.3", "\0\0\0\0\0\0\0\0\0\0\0\0\x0d\x01\x44\x03"},
	{"0:0:0:0:0:FFFF:129.144.52.38",
	    "\0\0\0\0\0\0\0\0\0\0\xff\xff\x81\x90\x34\x26"},
	{"::13.1.68.3", "\0\0\0\0\0\0\0\0\0\0\0\0\x0d\x01\x44\x03"},
	{"::FFFF:129.144.52.38",
	    "\0\0\0\0\0\0\0\0\0\0\xff\xff\x81\x90\x34\x26"},
	/* RFC 5952 §4 forms of one address, all accepted */
	{"2001:db8:0:0:1:0:0:1",
	    "\x20\x01\x0d\xb8\0\0\0\0\0\x01\0\0\0\0\0\x01"},
	{"2001:0db8:0:0:1:0:0:1",
	    "\x20\x01\x0d\xb8\0\0\0\0\0\x01\0\0\0\0\0\x01"},
	{"2001:db8::1:0:0:1", "\x20\x01\x0d\xb8\0\0\0\0\0\x01\0\0\0\0\0\x01"},
	{"2001:db8::0:1:0:0:1",
	    "\x20\x01\x0d\xb8\0\0\0\0\0\x01\0\0\0\0\0\x01"},
	{"2001:0db8::1:0:0:1",
	    "\x20\x01\x0d\xb8\0\0\0\0\0\x01\0\0\0\0\0\x01"},
	{"2001:db8:0:0:1::1", "\x20\x01\x0d\xb8\0\0\0\0\0\x01\0\0\0\0\0\x01"},
	{"2001:db8:0000:0:1::1",
	    "\x20\x01\x0d\xb8\0\0\0\0\0\x01\0\0\0\0\0\x01"},
	{"2001:DB8:0:0:1::1", "\x20\x01\x0d\xb8\0\0\0\0\0\x01\0\0\0\0\0\x01"},
	/* "::" for a single group (RFC 4291 allows it), at both ends */
	{"1:2:3:4:5:6:7::", "\0\x01\0\x02\0\x03\0\x04\0\x05\0\x06\0\x07\0\0"},
	{"::2:3:4:5:6:7:8", "\0\0\0\x02\0\x03\0\x04\0\x05\0\x06\0\x07\0\x08"},
	{"1::8", "\0\x01\0\0\0\0\0\0\0\0\0\0\0\0\0\x08"},
	{"1:2:3:4:5:6:1.2.3.4",
	    "\0\x01\0\x02\0\x03\0\x04\0\x05\0\x06\x01\x02\x03\x04"},
	{"1::5:6:1.2.3.4", "\0\x01\0\0\0\0\0\0\0\x05\0\x06\x01\x02\x03\x04"},
};

static void
ipv6_text_forms(void)
{
	char in[128];
	size_t i, j;

	for (i = 0; i < sizeof(sixes) / sizeof(sixes[0]); i++) {
		snprintf(in, sizeof(in), "https://[%s]:443/", sixes[i].text);
		CHECK_INT(parse(in), 0);
		CHECK_INT(u.addr_len, 16);
		CHECK(memcmp(u.addr, sixes[i].bytes, 16) == 0);
		/* kept without brackets, hex digits lower-cased */
		CHECK_INT(strlen(u.host), strlen(sixes[i].text));
		for (j = 0; j < strlen(u.host); j++)
			CHECK(u.host[j] == sixes[i].text[j] ||
			    u.host[j] == sixes[i].text[j] - 'A' + 'a');
	}
}

/* Every reject, with its own code. */
struct bad {
	const char *in;
	int err;
};

static const struct bad bads[] = {
	{"", TS_ERR_URL_SCHEME},
	{"ftp://example.com/", TS_ERR_URL_SCHEME},
	{"wsss://example.com/", TS_ERR_URL_SCHEME},
	{"example.com/stream", TS_ERR_URL_SCHEME},
	{"localhost:8080", TS_ERR_URL_SCHEME},
	{"://example.com", TS_ERR_URL_SCHEME},
	{"http+ws://h/", TS_ERR_URL_SCHEME},
	{"http:", TS_ERR_URL_HOST},
	{"http:/h/", TS_ERR_URL_HOST},
	{"http:h", TS_ERR_URL_HOST},
	{"http://", TS_ERR_URL_HOST},
	{"http:///path", TS_ERR_URL_HOST},
	{"http://?q", TS_ERR_URL_HOST},
	{"http://:80/", TS_ERR_URL_HOST},
	{"http://a..b/", TS_ERR_URL_HOST},
	{"http://.a/", TS_ERR_URL_HOST},
	{"http://./", TS_ERR_URL_HOST},
	{"http://a.b../", TS_ERR_URL_HOST},
	{"http://-a.example/", TS_ERR_URL_HOST},
	{"http://a-.example/", TS_ERR_URL_HOST},
	{"http://a_b.example/", TS_ERR_URL_HOST},
	{"http://a%2eb/", TS_ERR_URL_HOST},
	{"http://ex%41mple.com/", TS_ERR_URL_HOST},
	{"http://a!b/", TS_ERR_URL_HOST},
	{"http://a\\b/", TS_ERR_URL_HOST},
	{"http://a[b/", TS_ERR_URL_HOST},
	{"http://a]b/", TS_ERR_URL_HOST},
	{"http://[::1]x/", TS_ERR_URL_HOST},
	{"http://[::1]]/", TS_ERR_URL_HOST},
	/* resolver-style numbers that are not strict dotted quads */
	{"http://127.1/", TS_ERR_URL_HOST},
	{"http://0x7f.1/", TS_ERR_URL_HOST},
	{"http://0x7f000001/", TS_ERR_URL_HOST},
	{"http://2130706433/", TS_ERR_URL_HOST},
	{"http://0177.0.0.1/", TS_ERR_URL_HOST},
	{"http://127.00.0.1/", TS_ERR_URL_HOST},
	{"http://256.0.0.1/", TS_ERR_URL_HOST},
	{"http://1.2.3.4.5/", TS_ERR_URL_HOST},
	{"http://1.2.3/", TS_ERR_URL_HOST},
	{"http://1.2.3.4./", TS_ERR_URL_HOST},
	{"http://1.2.3.1000/", TS_ERR_URL_HOST},
	{"http://a.0x/", TS_ERR_URL_HOST},
	{"http://a.123/", TS_ERR_URL_HOST},
	{"http://a.b.c.0xff./", TS_ERR_URL_HOST},
	{"http://h:/", TS_ERR_URL_PORT},
	{"http://h:0/", TS_ERR_URL_PORT},
	{"http://h:65536/", TS_ERR_URL_PORT},
	{"http://h:99999/", TS_ERR_URL_PORT},
	{"http://h:000080/", TS_ERR_URL_PORT},
	{"http://h:8o/", TS_ERR_URL_PORT},
	{"http://h:-1/", TS_ERR_URL_PORT},
	{"http://h:+80/", TS_ERR_URL_PORT},
	{"http://h:80:90/", TS_ERR_URL_PORT},
	{"http://[::1]:/", TS_ERR_URL_PORT},
	{"http://[::1]:x/", TS_ERR_URL_PORT},
	{"http://user@example.com/", TS_ERR_URL_USERINFO},
	{"http://user:pass@example.com/", TS_ERR_URL_USERINFO},
	{"http://@example.com/", TS_ERR_URL_USERINFO},
	{"http://example.com@evil.example/", TS_ERR_URL_USERINFO},
	{"http://example.com/#", TS_ERR_URL_FRAGMENT},
	{"http://example.com/a#b", TS_ERR_URL_FRAGMENT},
	{"http://example.com#b", TS_ERR_URL_FRAGMENT},
	{"http://example.com/?a=b#c", TS_ERR_URL_FRAGMENT},
	{"#", TS_ERR_URL_FRAGMENT},
	{"http://example.com/a b", TS_ERR_URL_CHAR},
	{" http://example.com/", TS_ERR_URL_CHAR},
	{"http://example.com/ ", TS_ERR_URL_CHAR},
	{"http://example.com/\r\nX: y", TS_ERR_URL_CHAR},
	{"http://example.com/\n", TS_ERR_URL_CHAR},
	{"http://exa\tmple.com/", TS_ERR_URL_CHAR},
	{"http://example.com/\x7f", TS_ERR_URL_CHAR},
	{"http://ex\xc3\xa4mple.com/", TS_ERR_URL_CHAR},
	{"http://example.com/\xff", TS_ERR_URL_CHAR},
	{"http://example.com/\x01", TS_ERR_URL_CHAR},
	/* CHAR wins over '#' and everything else: the whole string first */
	{"ftp://a#b c", TS_ERR_URL_CHAR},
	{"http://[]/", TS_ERR_URL_IPV6},
	{"http://[/", TS_ERR_URL_IPV6},
	{"http://[::1/", TS_ERR_URL_IPV6},
	{"http://[:]/", TS_ERR_URL_IPV6},
	{"http://[:::]/", TS_ERR_URL_IPV6},
	{"http://[1:::2]/", TS_ERR_URL_IPV6},
	{"http://[1::2::3]/", TS_ERR_URL_IPV6},
	{"http://[:1::2]/", TS_ERR_URL_IPV6},
	{"http://[1::2:]/", TS_ERR_URL_IPV6},
	{"http://[1:2:3:4:5:6:7]/", TS_ERR_URL_IPV6},
	{"http://[1:2:3:4:5:6:7:8:9]/", TS_ERR_URL_IPV6},
	{"http://[1:2:3:4:5:6:7:8::]/", TS_ERR_URL_IPV6},
	{"http://[::1:2:3:4:5:6:7:8]/", TS_ERR_URL_IPV6},
	{"http://[12345::1]/", TS_ERR_URL_IPV6},
	{"http://[g::1]/", TS_ERR_URL_IPV6},
	{"http://[fe80::1%25eth0]/", TS_ERR_URL_IPV6},
	{"http://[fe80::1%eth0]/", TS_ERR_URL_IPV6},
	{"http://[v1.fe80::a+en1]/", TS_ERR_URL_IPV6},
	{"http://[1.2.3.4]/", TS_ERR_URL_IPV6},
	{"http://[::1.2.3]/", TS_ERR_URL_IPV6},
	{"http://[::1.2.3.4.5]/", TS_ERR_URL_IPV6},
	{"http://[::256.1.1.1]/", TS_ERR_URL_IPV6},
	{"http://[::01.1.1.1]/", TS_ERR_URL_IPV6},
	{"http://[::1.2.3.4:5]/", TS_ERR_URL_IPV6},
	{"http://[1:2:3:4:5:6:7:1.2.3.4]/", TS_ERR_URL_IPV6},
	{"http://[1:2:3:4:5:6::1.2.3.4]/", TS_ERR_URL_IPV6},
	{"http://[ ::1]/", TS_ERR_URL_CHAR},
	{"http://h/%", TS_ERR_URL_PERCENT},
	{"http://h/%4", TS_ERR_URL_PERCENT},
	{"http://h/%zz", TS_ERR_URL_PERCENT},
	{"http://h/%4g/", TS_ERR_URL_PERCENT},
	{"http://h/?q=%", TS_ERR_URL_PERCENT},
	{"http://h/?q=%%41", TS_ERR_URL_PERCENT},
	{"http://h/a\"b", TS_ERR_URL_PATH},
	{"http://h/<x>", TS_ERR_URL_PATH},
	{"http://h/a\\b", TS_ERR_URL_PATH},
	{"http://h/a^b", TS_ERR_URL_PATH},
	{"http://h/a`b", TS_ERR_URL_PATH},
	{"http://h/{x}", TS_ERR_URL_PATH},
	{"http://h/a|b", TS_ERR_URL_PATH},
	{"http://h/a[b]", TS_ERR_URL_PATH},
	{"http://h/?a=[1]", TS_ERR_URL_PATH},
};

/* The rows of bads[] with this code give it, and there is at least one. */
static void
check_rejects(int err)
{
	size_t i, seen = 0;

	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		if (bads[i].err != err)
			continue;
		seen++;
		if (parse(bads[i].in) != err)
			printf(" [%s]", bads[i].in);
		CHECK_INT(parse(bads[i].in), err);
	}
	CHECK(seen > 0);
}

static void
reject_scheme(void)
{
	check_rejects(TS_ERR_URL_SCHEME);
}

static void
reject_host(void)
{
	check_rejects(TS_ERR_URL_HOST);
}

static void
reject_port(void)
{
	check_rejects(TS_ERR_URL_PORT);
}

static void
reject_userinfo(void)
{
	check_rejects(TS_ERR_URL_USERINFO);
}

static void
reject_fragment(void)
{
	check_rejects(TS_ERR_URL_FRAGMENT);
}

static void
reject_char(void)
{
	check_rejects(TS_ERR_URL_CHAR);
}

static void
reject_ipv6(void)
{
	check_rejects(TS_ERR_URL_IPV6);
}

static void
reject_percent(void)
{
	check_rejects(TS_ERR_URL_PERCENT);
}

static void
reject_path(void)
{
	check_rejects(TS_ERR_URL_PATH);
}

static void
nul_byte_rejected(void)
{
	CHECK_INT(ts_url_parse(&u, "http://a\0b/", 11), TS_ERR_URL_CHAR);
	CHECK_INT(ts_url_parse(&u, "http://ab/\0", 11), TS_ERR_URL_CHAR);
	/* the length rules, not a NUL: a prefix parses */
	CHECK_INT(ts_url_parse(&u, "http://ab/\0", 10), 0);
	CHECK_STR(u.host, "ab");
	CHECK_INT(ts_url_parse(&u, NULL, 0), TS_ERR_URL_SCHEME);
}

static void
long_inputs(void)
{
	static char in[TS_URL_BUFSIZE + 64];
	char label[64];
	size_t n;
	int i;

	/* a host of exactly TS_URL_HOST_MAX bytes: four 63-byte labels */
	memset(label, 'a', 63);
	label[63] = '\0';
	n = (size_t)snprintf(in, sizeof(in), "https://%s.%s.%s.%s", label,
	    label, label, label);
	CHECK_INT(n, 8 + 255);
	CHECK_INT(parse(in), 0);
	CHECK_INT(strlen(u.host), TS_URL_HOST_MAX);
	/* one more byte is too long */
	memcpy(in + n, "a", 2);
	CHECK_INT(parse(in), TS_ERR_URL_TOO_LONG);
	/* a 64-byte label is not a DNS label */
	snprintf(in, sizeof(in), "https://%sa.example/", label);
	CHECK_INT(parse(in), TS_ERR_URL_HOST);

	/* a target of exactly TS_URL_TARGET_MAX bytes, then one more */
	memcpy(in, "http://h", 8);
	in[8] = '/';
	memset(in + 9, 'x', TS_URL_TARGET_MAX - 1);
	in[8 + TS_URL_TARGET_MAX] = '\0';
	CHECK_INT(parse(in), 0);
	CHECK_INT(strlen(u.target), TS_URL_TARGET_MAX);
	in[8 + TS_URL_TARGET_MAX] = 'x';
	in[9 + TS_URL_TARGET_MAX] = '\0';
	CHECK_INT(parse(in), TS_ERR_URL_TOO_LONG);
	/* "?q" alone becomes "/?q": the implied '/' counts */
	in[8] = '?';
	in[8 + TS_URL_TARGET_MAX] = '\0';
	CHECK_INT(parse(in), TS_ERR_URL_TOO_LONG);
	in[7 + TS_URL_TARGET_MAX] = '\0';
	CHECK_INT(parse(in), 0);
	CHECK_INT(strlen(u.target), TS_URL_TARGET_MAX);

	/* the longest URL of all fits TS_URL_BUFSIZE */
	n = (size_t)snprintf(in, sizeof(in), "https://%s.%s.%s.%s:65535/",
	    label, label, label, label);
	for (i = 0; i < TS_URL_TARGET_MAX - 1; i++)
		in[n++] = 'p';
	in[n] = '\0';
	CHECK_INT(n, TS_URL_BUFSIZE - 1);
	CHECK_INT(parse(in), 0);

	/* a long port is a port error, not an overflow */
	CHECK_INT(parse("http://h:0000000000000000000080/"), TS_ERR_URL_PORT);
	CHECK_INT(parse("http://h:4294967377/"), TS_ERR_URL_PORT);
}

struct loop {
	const char *in;
	int loopback;
};

static const struct loop loops[] = {
	{"http://localhost/", 1},
	{"http://LOCALHOST/", 1},
	{"http://LocalHost:8080/", 1},
	{"http://localhost./", 1},
	{"http://127.0.0.1/", 1},
	{"http://127.0.0.0/", 1},
	{"http://127.255.255.254/", 1},
	{"http://127.255.255.255:9/", 1},
	{"http://[::1]/", 1},
	{"http://[0:0:0:0:0:0:0:1]/", 1},
	{"http://[0000:0000:0000:0000:0000:0000:0000:0001]/", 1},
	{"http://[::0:1]/", 1},
	{"http://[0::1]/", 1},
	{"http://[::ffff:127.0.0.1]/", 1},
	{"http://[::FFFF:127.1.2.3]/", 1},
	{"http://[::ffff:7f00:1]/", 1},
	{"http://128.0.0.1/", 0},
	{"http://126.255.255.255/", 0},
	{"http://0.0.0.0/", 0},
	{"http://10.0.0.1/", 0},
	{"http://localhost.example/", 0},
	{"http://foo.localhost/", 0},
	{"http://localhost../", -1},
	{"http://localhos/", 0},
	{"http://localhostx/", 0},
	{"http://127.0.0.1.example.com/", 0},
	{"http://[::2]/", 0},
	{"http://[::]/", 0},
	{"http://[1::1]/", 0},
	{"http://[::127.0.0.1]/", 0},
	{"http://[::ffff:128.0.0.1]/", 0},
	{"http://[::fffe:127.0.0.1]/", 0},
	{"http://[fe80::1]/", 0},
	{"http://example.com/", 0},
	/* resolver-style forms of 127.0.0.1 are refused outright */
	{"http://0x7f.1/", -1},
	{"http://127.1/", -1},
	{"http://2130706433/", -1},
	{"http://0x7f000001/", -1},
	{"http://017700000001/", -1},
	{"http://127.0.0.1./", -1},
};

static void
loopback_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
		if (loops[i].loopback < 0) {
			CHECK_INT(parse(loops[i].in), TS_ERR_URL_HOST);
			continue;
		}
		CHECK_INT(parse(loops[i].in), 0);
		if (ts_url_is_loopback(&u) != loops[i].loopback)
			printf(" [%s]", loops[i].in);
		CHECK_INT(ts_url_is_loopback(&u), loops[i].loopback);
	}
}

/* Query values as the builders encode them (RFC 3986 §2.1). */
struct enc {
	const char *in;
	int keep_commas;	/* 1: a games list, 0: a since value */
	const char *out;
};

static const struct enc encs[] = {
	{"2026-05-28T15:05:15Z", 0, "2026-05-28T15:05:15Z"},
	{"2026-05-28T15:05:15.123+02:00", 0, "2026-05-28T15:05:15.123%2B02:00"},
	{"2026-05-28T15:05:15-02:00", 0, "2026-05-28T15:05:15-02:00"},
	{"a,b", 0, "a%2Cb"},
	{"a,b", 1, "a,b"},
	{"a&b=c+d#e%f g", 1, "a%26b%3Dc%2Bd%23e%25f%20g"},
	{"!$'()*:@", 0, "!$'()*:@"},
	{";/?[]\"<>\\^`{|}", 0, "%3B%2F%3F%5B%5D%22%3C%3E%5C%5E%60%7B%7C%7D"},
	{"-._~AZaz09", 0, "-._~AZaz09"},
	{"\xc3\xa4", 0, "%C3%A4"},
};

static void
encode_values(void)
{
	char out[256], want[256];
	size_t i;

	for (i = 0; i < sizeof(encs) / sizeof(encs[0]); i++) {
		snprintf(want, sizeof(want), "%s%s", encs[i].keep_commas ?
		    "wss://h/stream?games=" : "https://h/games/s/rounds?since=",
		    encs[i].out);
		if (encs[i].keep_commas)
			CHECK_INT(ts_url_stream(out, sizeof(out), "https://h",
			    encs[i].in), strlen(want));
		else
			CHECK_INT(ts_url_rest(out, sizeof(out), "https://h", "s",
			    encs[i].in), strlen(want));
		CHECK_STR(out, want);
	}
}

static void
encode_refuses_controls(void)
{
	char out[64];

	CHECK_INT(ts_url_rest(out, sizeof(out), "https://h", "s", "a\r\nb"),
	    TS_ERR_URL_VALUE);
	CHECK_STR(out, "");
	CHECK_INT(ts_url_rest(out, sizeof(out), "https://h", "s", "\x7f"),
	    TS_ERR_URL_VALUE);
	CHECK_INT(ts_url_rest(out, sizeof(out), "https://h", "\t", NULL),
	    TS_ERR_URL_VALUE);
	CHECK_INT(ts_url_stream(out, sizeof(out), "https://h", "a,\x1f"),
	    TS_ERR_URL_VALUE);
}

/* SPEC §1 and §7.6, exactly. */
struct built {
	const char *base;
	const char *arg;	/* games, or the slug for REST */
	const char *since;	/* REST only */
	int rest;
	int err;
	const char *out;
};

static const struct built builts[] = {
	{"https://api.trackersino.com/v1-beta", "stake-crash,roobet-crash",
	    NULL, 0, 0, "wss://api.trackersino.com/v1-beta/stream"
	    "?games=stake-crash,roobet-crash"},
	{"https://api.trackersino.com/v1-beta", NULL, NULL, 0, 0,
	    "wss://api.trackersino.com/v1-beta/stream"},
	{"https://api.trackersino.com/v1-beta", "", NULL, 0, 0,
	    "wss://api.trackersino.com/v1-beta/stream"},
	{"https://api.trackersino.com/v1-beta/", "stake-crash", NULL, 0, 0,
	    "wss://api.trackersino.com/v1-beta/stream?games=stake-crash"},
	{"http://127.0.0.1:8080/v1", NULL, NULL, 0, 0,
	    "ws://127.0.0.1:8080/v1/stream"},
	{"http://127.0.0.1:8080/v1/", "", NULL, 0, 0,
	    "ws://127.0.0.1:8080/v1/stream"},
	{"http://[::1]:8080", NULL, NULL, 0, 0, "ws://[::1]:8080/stream"},
	{"https://h", NULL, NULL, 0, 0, "wss://h/stream"},
	{"https://h/", NULL, NULL, 0, 0, "wss://h/stream"},
	{"https://h///", NULL, NULL, 0, 0, "wss://h/stream"},
	{"HTTPS://API.EXAMPLE:443/V1", NULL, NULL, 0, 0,
	    "wss://api.example:443/V1/stream"},
	/* a base already in stream form keeps its scheme */
	{"wss://h/v1", NULL, NULL, 0, 0, "wss://h/v1/stream"},
	{"ws://localhost:9/v1", NULL, NULL, 0, 0, "ws://localhost:9/v1/stream"},
	/* items are encoded, the separating commas stay */
	{"https://h/v1", "a b,c&d,e=f", NULL, 0, 0,
	    "wss://h/v1/stream?games=a%20b,c%26d,e%3Df"},
	{"https://h/v1", ",a", NULL, 0, TS_ERR_URL_SLUG, ""},
	{"https://h/v1", "a,", NULL, 0, TS_ERR_URL_SLUG, ""},
	{"https://h/v1", "a,,b", NULL, 0, TS_ERR_URL_SLUG, ""},
	{"https://h/v1", ",", NULL, 0, TS_ERR_URL_SLUG, ""},
	{"https://h/v1", "a\nb", NULL, 0, TS_ERR_URL_VALUE, ""},
	{"https://h/v1?x=1", NULL, NULL, 0, TS_ERR_URL_BASE, ""},
	{"https://h/v1?", NULL, NULL, 0, TS_ERR_URL_BASE, ""},
	{"https://h/v1#top", NULL, NULL, 0, TS_ERR_URL_FRAGMENT, ""},
	{"ftp://h/v1", NULL, NULL, 0, TS_ERR_URL_SCHEME, ""},
	{"", NULL, NULL, 0, TS_ERR_URL_SCHEME, ""},
	{NULL, NULL, NULL, 0, TS_ERR_URL_SCHEME, ""},
	{"https://u@h/v1", NULL, NULL, 0, TS_ERR_URL_USERINFO, ""},

	/* REST */
	{"https://api.trackersino.com/v1-beta", "stake-crash", NULL, 1, 0,
	    "https://api.trackersino.com/v1-beta/games/stake-crash/rounds"},
	{"https://api.trackersino.com/v1-beta/", "stake-crash", "", 1, 0,
	    "https://api.trackersino.com/v1-beta/games/stake-crash/rounds"},
	{"https://api.trackersino.com/v1-beta", "stake-crash",
	    "2026-05-28T15:05:15Z", 1, 0,
	    "https://api.trackersino.com/v1-beta/games/stake-crash/rounds"
	    "?since=2026-05-28T15:05:15Z"},
	{"https://api.trackersino.com/v1-beta", "stake-crash",
	    "2026-05-28T15:05:15.123+02:00", 1, 0,
	    "https://api.trackersino.com/v1-beta/games/stake-crash/rounds"
	    "?since=2026-05-28T15:05:15.123%2B02:00"},
	{"http://127.0.0.1:8080/v1", "roobet-crash", NULL, 1, 0,
	    "http://127.0.0.1:8080/v1/games/roobet-crash/rounds"},
	{"wss://h/v1/", "x", NULL, 1, 0, "https://h/v1/games/x/rounds"},
	{"ws://h:81", "x", NULL, 1, 0, "http://h:81/games/x/rounds"},
	{"https://h", "a/b?c#d%e", "a,b", 1, 0,
	    "https://h/games/a%2Fb%3Fc%23d%25e/rounds?since=a%2Cb"},
	{"https://h", "...", NULL, 1, 0, "https://h/games/.../rounds"},
	/* an escape at the very end is never cut in half */
	{"https://h", "x", "+", 1, 0, "https://h/games/x/rounds?since=%2B"},
	{"https://h", "", NULL, 1, TS_ERR_URL_SLUG, ""},
	{"https://h", NULL, NULL, 1, TS_ERR_URL_SLUG, ""},
	{"https://h", ".", NULL, 1, TS_ERR_URL_SLUG, ""},
	{"https://h", "..", NULL, 1, TS_ERR_URL_SLUG, ""},
	{"https://h", "a\r\n", NULL, 1, TS_ERR_URL_VALUE, ""},
	{"https://h", "a", "x\ty", 1, TS_ERR_URL_VALUE, ""},
	{"https://h?q", "a", NULL, 1, TS_ERR_URL_BASE, ""},
	{"https://h#", "a", NULL, 1, TS_ERR_URL_FRAGMENT, ""},
	{"https://h:0", "a", NULL, 1, TS_ERR_URL_PORT, ""},
};

static int
build(const struct built *b, char *out, size_t outlen)
{
	if (b->rest)
		return ts_url_rest(out, outlen, b->base, b->arg, b->since);
	return ts_url_stream(out, outlen, b->base, b->arg);
}

static void
builders_exact(void)
{
	char out[TS_URL_BUFSIZE];
	size_t i;
	int n;

	for (i = 0; i < sizeof(builts) / sizeof(builts[0]); i++) {
		memset(out, 'Z', sizeof(out));
		n = build(&builts[i], out, sizeof(out));
		if (n != (builts[i].err ? builts[i].err :
		    (int)strlen(builts[i].out)))
			printf(" [#%zu %s]", i, out);
		CHECK_INT(n, builts[i].err ? builts[i].err :
		    (int)strlen(builts[i].out));
		CHECK_STR(out, builts[i].out);
		if (n < 0)
			continue;
		/* the result parses back, in the mapped scheme */
		CHECK_INT(parse(out), 0);
		CHECK(strncmp(out, builts[i].rest ? "http" : "ws",
		    builts[i].rest ? 4 : 2) == 0);
	}
}

static void
builders_buffer_sizes(void)
{
	char out[TS_URL_BUFSIZE];
	size_t i, len;

	for (i = 0; i < sizeof(builts) / sizeof(builts[0]); i++) {
		if (builts[i].err)
			continue;
		len = strlen(builts[i].out);
		/* exact fit passes */
		memset(out, 'Z', sizeof(out));
		CHECK_INT(build(&builts[i], out, len + 1), len);
		CHECK_STR(out, builts[i].out);
		CHECK_INT(out[len + 1], 'Z');
		/* one less fails, writes nothing past outlen, leaves "" */
		memset(out, 'Z', sizeof(out));
		CHECK_INT(build(&builts[i], out, len),
		    TS_ERR_URL_BUF_TOO_SMALL);
		CHECK_INT(out[0], '\0');
		CHECK_INT(out[len], 'Z');
		CHECK_INT(build(&builts[i], out, 1), TS_ERR_URL_BUF_TOO_SMALL);
		CHECK_INT(build(&builts[i], NULL, 0), TS_ERR_URL_BUF_TOO_SMALL);
	}
}

static void
builders_long_inputs(void)
{
	static char games[2 * TS_URL_TARGET_MAX];
	static char out[TS_URL_BUFSIZE];
	const char *base = "https://h/v1";
	size_t fixed, room;

	/* "/v1/stream?games=" is 17 bytes; fill the target to the limit */
	fixed = strlen("/v1/stream?games=");
	room = TS_URL_TARGET_MAX - fixed;
	memset(games, 'g', room);
	games[room] = '\0';
	CHECK_INT(ts_url_stream(out, sizeof(out), base, games),
	    strlen("wss://h") + TS_URL_TARGET_MAX);
	CHECK_INT(parse(out), 0);
	CHECK_INT(strlen(u.target), TS_URL_TARGET_MAX);
	/* one byte more would not parse back: too long, whatever outlen */
	games[room] = 'g';
	games[room + 1] = '\0';
	CHECK_INT(ts_url_stream(out, sizeof(out), base, games),
	    TS_ERR_URL_TOO_LONG);
	CHECK_INT(ts_url_stream(out, 10, base, games), TS_ERR_URL_TOO_LONG);
	/* escapes count three bytes each */
	memset(games, '+', room / 3 + 1);
	games[room / 3 + 1] = '\0';
	CHECK_INT(ts_url_stream(out, sizeof(out), base, games),
	    TS_ERR_URL_TOO_LONG);
	games[room / 3] = '\0';
	CHECK(ts_url_stream(out, sizeof(out), base, games) > 0);
	CHECK_INT(parse(out), 0);
	/* a long slug and since in REST */
	memset(games, 's', TS_URL_TARGET_MAX);
	games[TS_URL_TARGET_MAX] = '\0';
	CHECK_INT(ts_url_rest(out, sizeof(out), base, games, NULL),
	    TS_ERR_URL_TOO_LONG);
	CHECK_INT(ts_url_rest(out, sizeof(out), base, "x", games),
	    TS_ERR_URL_TOO_LONG);
	CHECK_STR(out, "");
}

static const struct test_case cases[] = {
	TEST(parse_good_forms),
	TEST(ipv4_address_bytes),
	TEST(ipv6_text_forms),
	TEST(reject_scheme),
	TEST(reject_host),
	TEST(reject_port),
	TEST(reject_userinfo),
	TEST(reject_fragment),
	TEST(reject_char),
	TEST(reject_ipv6),
	TEST(reject_percent),
	TEST(reject_path),
	TEST(nul_byte_rejected),
	TEST(long_inputs),
	TEST(loopback_table),
	TEST(encode_values),
	TEST(encode_refuses_controls),
	TEST(builders_exact),
	TEST(builders_buffer_sizes),
	TEST(builders_long_inputs),
};

int
main(int argc, char **argv)
{
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
