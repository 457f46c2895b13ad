/*
 * recent: a window of the (game, round id) keys handled last: two
 * generations, lookups see both, new keys go to the younger; when it
 * fills (in keys or in bytes) the older is forgotten and takes its
 * place.  No deletion, no allocation.  Each key's bytes are kept, so a
 * 64-bit hash match is confirmed byte for byte: a collision never drops
 * a round.
 */
#include <string.h>

#include "base.h"
#include "recent.h"

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

static int
gen_has(const struct ts_recent_gen *g, uint64_t h, const char *game,
    size_t glen, const char *id, size_t idlen)
{
	size_t mask = 2 * TS_RECENT_IDS - 1, i = (size_t)h & mask;
	const unsigned char *b;
	uint32_t e;

	while ((e = g->slot[i]) != 0) {
		e--;
		b = g->bytes + g->off[e];
		if (g->hash[e] == h && g->len[e] == glen + 1 + idlen &&
		    memcmp(b, game, glen) == 0 && b[glen] == 0xff &&
		    memcmp(b + glen + 1, id, idlen) == 0)
			return 1;
		i = (i + 1) & mask;
	}
	return 0;
}

int
ts_recent_has(const struct ts_recent *s, uint64_t h,
    const struct ts_round_info *r)
{
	return gen_has(&s->gen[0], h, r->game_id, r->game_id_len,
	    r->round_id, r->round_id_len) ||
	    gen_has(&s->gen[1], h, r->game_id, r->game_id_len,
	    r->round_id, r->round_id_len);
}

void
ts_recent_init(struct ts_recent *s)
{
	gen_clear(&s->gen[0]);
	gen_clear(&s->gen[1]);
	s->young = 0;
}


/* Remember a round.  An id too long to keep is not remembered: the
 * positions still stop it, only the guard's window misses it. */
void
ts_recent_add(struct ts_recent *s, uint64_t h, const struct ts_round_info *r)
{
	struct ts_recent_gen *g = &s->gen[s->young];
	size_t n = r->game_id_len + 1 + r->round_id_len, i;
	size_t mask = 2 * TS_RECENT_IDS - 1;

	if (n > 0xffff || n > TS_RECENT_BYTES)
		return;
	if (g->n == TS_RECENT_IDS || g->used + n > TS_RECENT_BYTES) {
		/* The older generation is forgotten and takes new ids. */
		s->young = 1 - s->young;
		g = &s->gen[s->young];
		gen_clear(g);
	}
	g->hash[g->n] = h;
	g->off[g->n] = (uint32_t)g->used;
	g->len[g->n] = (uint16_t)n;
	memcpy(g->bytes + g->used, r->game_id, r->game_id_len);
	g->bytes[g->used + r->game_id_len] = 0xff;
	memcpy(g->bytes + g->used + r->game_id_len + 1, r->round_id,
	    r->round_id_len);
	g->used += n;
	for (i = (size_t)h & mask; g->slot[i] != 0; i = (i + 1) & mask)
		;
	g->slot[i] = (uint32_t)(g->n + 1);
	g->n++;
}
