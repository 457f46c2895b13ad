/*
 * recent: a window of the (game, round id) keys handled last: two
 * generations, lookups see both, new keys go to the younger; when it
 * fills (in keys or in bytes) the older is forgotten and takes its
 * place.  No deletion, no allocation.  Each key's bytes are kept (game,
 * 0xff, id), so a 64-bit hash match is confirmed byte for byte: a
 * collision never drops a round.
 */
#include <string.h>

#include "base.h"
#include "recent.h"

#define MASK (2 * TS_RECENT_IDS - 1)	/* slot indices */

uint64_t
ts_recent_key(const char *game, size_t glen, const char *id, size_t idlen)
{
	/* 0xff: a byte no slug holds, so "ab"+"c" != "a"+"bc" */
	uint64_t h = ts_fnv(ts_fnv(ts_fnv(TS_FNV_BASIS, game, glen), "\xff",
	    1), id, idlen);

	return h ? h : 1;
}

static void
gen_clear(struct ts_recent_gen *g)
{
	memset(g->slot, 0, sizeof(g->slot));
	g->n = 0;
	g->used = 0;
}

void
ts_recent_init(struct ts_recent *s)
{
	gen_clear(&s->gen[0]);
	gen_clear(&s->gen[1]);
	s->young = 0;
}

/*
 * The slot of g that holds r's key (h its hash), or else the free slot
 * where it would go.
 */
static size_t
find(const struct ts_recent_gen *g, uint64_t h, const struct ts_round_info *r)
{
	size_t i = (size_t)h & MASK, gl = r->game_id_len;
	const unsigned char *b;
	uint32_t e;

	for (; (e = g->slot[i]) != 0; i = (i + 1) & MASK) {
		b = g->bytes + g->off[e - 1];
		if (g->hash[e - 1] == h &&
		    g->len[e - 1] == gl + 1 + r->round_id_len &&
		    memcmp(b, r->game_id, gl) == 0 && b[gl] == 0xff &&
		    memcmp(b + gl + 1, r->round_id, r->round_id_len) == 0)
			break;
	}
	return i;
}

int
ts_recent_has(const struct ts_recent *s, uint64_t h,
    const struct ts_round_info *r)
{
	return s->gen[0].slot[find(&s->gen[0], h, r)] != 0 ||
	    s->gen[1].slot[find(&s->gen[1], h, r)] != 0;
}

/* Remember a round.  An id too long to keep is not remembered: the
 * positions still stop it, only the guard's window misses it. */
void
ts_recent_add(struct ts_recent *s, uint64_t h, const struct ts_round_info *r)
{
	struct ts_recent_gen *g = &s->gen[s->young];
	size_t n = r->game_id_len + 1 + r->round_id_len;

	/* len is 16 bits; a generation's bytes are more */
	if (n > 0xffff)
		return;
	if (g->n == TS_RECENT_IDS || g->used + n > TS_RECENT_BYTES) {
		/* The older generation is forgotten and takes new ids. */
		s->young = 1 - s->young;
		g = &s->gen[s->young];
		gen_clear(g);
	}
	memcpy(g->bytes + g->used, r->game_id, r->game_id_len);
	g->bytes[g->used + r->game_id_len] = 0xff;
	memcpy(g->bytes + g->used + r->game_id_len + 1, r->round_id,
	    r->round_id_len);
	g->hash[g->n] = h;
	g->off[g->n] = (uint32_t)g->used;
	g->len[g->n] = (uint16_t)n;
	g->slot[find(g, h, r)] = (uint32_t)(g->n + 1);
	g->n++;
	g->used += n;
}
