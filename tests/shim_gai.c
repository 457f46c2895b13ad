/*
 * shim_gai: getaddrinfo(3) made slow, or given fixed answers, for the
 * scenario tests (tests/scenario_net.py), which LD_PRELOAD it into
 * tsino.  Never linked into tsino itself.
 *
 *   TSINO_SHIM_GAI_DELAY_MS=2500
 *	every lookup returns that many milliseconds later, as a slow
 *	resolver would;
 *   TSINO_SHIM_GAI_ADDRS=127.0.0.1:40001,[::1]:40002
 *	every lookup answers with exactly these addresses, in this order,
 *	ports included (the host and service asked for are ignored), so
 *	that a test can put a black hole first or choose which family
 *	comes first.  An entry that does not parse fails the lookup with
 *	EAI_FAIL and a line on stderr.
 *
 *   TSINO_SHIM_GAI_LOG=/path/file
 *	each lookup appends a line "NODE SERVICE" to that file, so that a
 *	test can count them.
 *
 * With none set it is transparent.  A list it made is freed by its
 * own freeaddrinfo(); every other list goes to the next one (libc's, or
 * a sanitizer's interceptor).  It keeps the lists it made in a small
 * table without a lock: tsino resolves from one thread only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define SHIM_MAX_LISTS 64	/* lists handed out and not yet freed */
#define SHIM_MAX_ADDRS 16	/* entries in TSINO_SHIM_GAI_ADDRS */

/* One entry of a made list: the addrinfo and its address, one block. */
struct shim_node {
	struct addrinfo ai;
	struct sockaddr_storage sa;
};

static struct addrinfo *made[SHIM_MAX_LISTS];

typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *,
    struct addrinfo **);
typedef void (*fai_fn)(struct addrinfo *);

/*
 * The next definition of name after ours (RTLD_NEXT) into fn, a function
 * pointer of fnlen bytes (copied: ISO C has no cast from void *); 0 if
 * there is none.
 */
static int
next_sym(const char *name, void *fn, size_t fnlen)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (fnlen != sizeof(p))
		return 0;
	if (p == NULL) {
		fprintf(stderr, "shim_gai: no next %s: %s\n", name, dlerror());
		return 0;
	}
	memcpy(fn, &p, fnlen);
	return 1;
}

static void
delay(void)
{
	const char *s = getenv("TSINO_SHIM_GAI_DELAY_MS");
	long ms;
	struct timespec ts;

	if (s == NULL || *s == '\0')
		return;
	ms = strtol(s, NULL, 10);
	if (ms <= 0)
		return;
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	/* The whole delay even if a signal interrupts it. */
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * Parse one entry, "a.b.c.d:port" or "[v6]:port" (len bytes at s), into
 * sa; its length, or 0 if it does not parse.
 */
static socklen_t
parse_entry(const char *s, size_t len, struct sockaddr_storage *sa)
{
	char host[INET6_ADDRSTRLEN + 1], *end;
	const char *start = s, *colon;
	size_t hlen;
	unsigned long port;

	memset(sa, 0, sizeof(*sa));
	if (len > 0 && s[0] == '[') {
		colon = memchr(s, ']', len);
		if (colon == NULL || (size_t)(colon - s) + 1 >= len ||
		    colon[1] != ':')
			return 0;
		hlen = (size_t)(colon - s) - 1;
		s++;
		colon++;
	} else {
		colon = NULL;
		for (hlen = 0; hlen < len; hlen++)
			if (s[hlen] == ':')
				colon = s + hlen;
		if (colon == NULL)
			return 0;
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return 0;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (end == colon + 1 || end != start + len || port > 65535)
		return 0;
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return 0;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		return sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return 0;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		return sizeof(*s4);
	}
}

static void
free_made(struct addrinfo *ai)
{
	struct addrinfo *next;

	for (; ai != NULL; ai = next) {
		next = ai->ai_next;
		free(ai);
	}
}

/*
 * The list spec asks for, filtered by hints' family; 0 and *res set, or
 * an EAI_ code.
 */
static int
make_list(const char *spec, const struct addrinfo *hints,
    struct addrinfo **res)
{
	struct addrinfo *head = NULL, **tail = &head;
	struct shim_node *node;
	struct sockaddr_storage sa;
	socklen_t salen;
	const char *p = spec, *comma;
	size_t len;
	int i, family = hints != NULL ? hints->ai_family : AF_UNSPEC;

	for (i = 0; *p != '\0'; i++) {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		salen = i < SHIM_MAX_ADDRS ? parse_entry(p, len, &sa) : 0;
		if (salen == 0) {
			fprintf(stderr, "shim_gai: bad TSINO_SHIM_GAI_ADDRS "
			    "entry \"%.*s\" (want 1.2.3.4:PORT or "
			    "[::1]:PORT, at most %d)\n", (int)len, p,
			    SHIM_MAX_ADDRS);
			free_made(head);
			return EAI_FAIL;
		}
		p += len + (comma != NULL);
		if (family != AF_UNSPEC && family != sa.ss_family)
			continue;
		node = calloc(1, sizeof(*node));
		if (node == NULL) {
			free_made(head);
			return EAI_MEMORY;
		}
		node->sa = sa;
		node->ai.ai_family = sa.ss_family;
		node->ai.ai_socktype = SOCK_STREAM;
		node->ai.ai_protocol = IPPROTO_TCP;
		node->ai.ai_addrlen = salen;
		node->ai.ai_addr = (struct sockaddr *)&node->sa;
		*tail = &node->ai;
		tail = &node->ai.ai_next;
	}
	if (head == NULL)
		return EAI_NONAME;
	for (i = 0; i < SHIM_MAX_LISTS; i++) {
		if (made[i] == NULL) {
			made[i] = head;
			*res = head;
			return 0;
		}
	}
	fprintf(stderr, "shim_gai: more than %d lists not freed\n",
	    SHIM_MAX_LISTS);
	free_made(head);
	return EAI_MEMORY;
}

int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	const char *spec = getenv("TSINO_SHIM_GAI_ADDRS");
	const char *log = getenv("TSINO_SHIM_GAI_LOG");
	gai_fn next;
	FILE *f;

	if (log != NULL && *log != '\0' && (f = fopen(log, "a")) != NULL) {
		fprintf(f, "%s %s\n", node ? node : "-", service ? service : "-");
		fclose(f);
	}
	delay();
	if (spec != NULL && *spec != '\0')
		return make_list(spec, hints, res);
	if (!next_sym("getaddrinfo", &next, sizeof(next)))
		return EAI_FAIL;
	return next(node, service, hints, res);
}

void
freeaddrinfo(struct addrinfo *res)
{
	fai_fn next;
	int i;

	for (i = 0; res != NULL && i < SHIM_MAX_LISTS; i++) {
		if (made[i] == res) {
			made[i] = NULL;
			free_made(res);
			return;
		}
	}
	if (next_sym("freeaddrinfo", &next, sizeof(next)))
		next(res);
}
