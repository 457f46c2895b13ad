/*
 * store: rounds copied into a caller's buffer (store.h).  The sort is a
 * heapsort: C99's qsort takes no context, and a global for the store
 * would make two clients in two threads trip over each other.
 */
#include <string.h>

#include "store.h"

/* Where r's fields are, as offsets from r->obj. */
static void
entry_set(struct ts_store_entry *e, const struct ts_round *r)
{
	const struct ts_round_field *f[TS_STORE_NF] = {&r->game_id,
	    &r->round_id, &r->round_index, &r->multiplier, &r->finalized_at};
	int i;

	e->len = (uint32_t)r->obj_len;
	for (i = 0; i < TS_STORE_NF; i++) {
		e->foff[i] = f[i]->ptr ? (uint32_t)(f[i]->ptr - r->obj) : 0;
		e->flen[i] = (uint32_t)f[i]->len;
	}
	e->sec = r->finalized_sec;
	e->nsec = r->finalized_nsec;
}

/* r's bytes, and where its fields are. */
int
ts_store_add(struct ts_store *s, const struct ts_round *r)
{
	/* the decoded members after the object come along */
	size_t n = r->obj_len + r->aux_len;

	if (s->n == s->ecap || s->cap - s->len < n)
		return -1;
	entry_set(&s->e[s->n], r);
	s->e[s->n++].off = s->len;
	memcpy(s->buf + s->len, r->obj, n);
	s->len += n;
	return 0;
}

void
ts_store_info(struct ts_round_info *ri, const char *b,
    const struct ts_store_entry *e)
{
	ri->backfilled = ri->late = 0;
	ri->json = b;
	ri->json_len = e->len;
	ri->game_id = b + e->foff[TS_STORE_F_GAME];
	ri->game_id_len = e->flen[TS_STORE_F_GAME];
	ri->round_id = b + e->foff[TS_STORE_F_ID];
	ri->round_id_len = e->flen[TS_STORE_F_ID];
	ri->round_index = b + e->foff[TS_STORE_F_INDEX];
	ri->round_index_len = e->flen[TS_STORE_F_INDEX];
	ri->multiplier = b + e->foff[TS_STORE_F_MULT];
	ri->multiplier_len = e->flen[TS_STORE_F_MULT];
	ri->finalized_at = b + e->foff[TS_STORE_F_TIME];
	ri->finalized_at_len = e->flen[TS_STORE_F_TIME];
}

/* A live round, through an entry on the stack: no copy. */
void
ts_store_round_info(struct ts_round_info *ri, const struct ts_round *r)
{
	struct ts_store_entry e;

	entry_set(&e, r);
	ts_store_info(ri, r->obj, &e);
}

static int
entry_cmp(const struct ts_store *s, const struct ts_store_entry *a,
    const struct ts_store_entry *b)
{
	int c = ts_store_instant_cmp(a->sec, a->nsec, b->sec, b->nsec);

	return c != 0 ? c : ts_round_index_cmp(s->buf + a->off +
	    a->foff[TS_STORE_F_INDEX], a->flen[TS_STORE_F_INDEX],
	    s->buf + b->off + b->foff[TS_STORE_F_INDEX],
	    b->flen[TS_STORE_F_INDEX]);
}

/* Move entry t down from root of the heap e[0..n) to its place. */
static void
sift_down(struct ts_store *s, struct ts_store_entry t, size_t root,
    size_t n)
{
	size_t child;

	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n &&
		    entry_cmp(s, &s->e[child], &s->e[child + 1]) < 0)
			child++;
		if (entry_cmp(s, &t, &s->e[child]) >= 0)
			break;
		s->e[root] = s->e[child];
		root = child;
	}
	s->e[root] = t;
}

void
ts_store_sort(struct ts_store *s)
{
	size_t i, n = s->n;

	for (i = n / 2; i-- > 0;)
		sift_down(s, s->e[i], i, n);
	/* the largest goes last, the last one sifts down from the top */
	while (n-- > 1) {
		struct ts_store_entry t = s->e[n];

		s->e[n] = s->e[0];
		sift_down(s, t, 0, n);
	}
}
