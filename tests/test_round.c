/*
 * test_round: rounds read from messages and REST bodies, minified
 * exactly, game_id inserted first, oversize and bad rows skipped, every
 * error with its code; the decimal, index and time helpers from tables;
 * and every input whole, byte by byte and split at every offset with
 * identical transcripts.
 */
#include <stdio.h>
#include <string.h>

#include "tsino.h"
#include "round.h"
#include "test.h"

#define GUIDE_MIN \
	"{\"game_id\":\"stake-crash\"," \
	"\"round_id\":\"c2caaf8a-34b3-42b0-8d44-c01cb879049d\"," \
	"\"round_index\":956100250495943837,\"multiplier\":\"3.1611\"," \
	"\"state\":\"finalized\",\"finalized_at\":\"2026-05-28T15:05:15Z\"," \
	"\"multiplier_source\":\"stake\"," \
	"\"raw\":{\"envelope\":{\"id\":\"c2caaf8a\",\"crash point\":3.1611," \
	"\"tags\":[\"a b\",\"x\\\"y\\u00e9\"],\"ok\":true,\"n\":null," \
	"\"e\":[],\"o\":{}}}}"

/* The guide's frame as a server might pretty-print it. */
static const char guide_pretty[] =
	"{\n"
	"  \"game_id\": \"stake-crash\",\n"
	"  \"round_id\": \"c2caaf8a-34b3-42b0-8d44-c01cb879049d\",\n"
	"  \"round_index\": 956100250495943837,\n"
	"  \"multiplier\": \"3.1611\",\n"
	"  \"state\": \"finalized\",\n"
	"  \"finalized_at\": \"2026-05-28T15:05:15Z\",\n"
	"  \"multiplier_source\": \"stake\",\n"
	"  \"raw\": {\r\n\t\"envelope\" : { \"id\" : \"c2caaf8a\" ,\n"
	"    \"crash point\":3.1611, \"tags\": [ \"a b\" , \"x\\\"y\\u00e9\" ],"
	"  \"ok\" :true, \"n\": null, \"e\": [ ], \"o\": { } } }\n"
	"}\n";

#define ROW(id, idx, t) \
	"{\"round_id\":\"" id "\",\"round_index\":" idx "," \
	"\"multiplier\":\"2.00\",\"state\":\"finalized\"," \
	"\"finalized_at\":\"" t "\"}"
#define ROW_G(id, idx, t) \
	"{\"game_id\":\"stake-crash\",\"round_id\":\"" id "\"," \
	"\"round_index\":" idx ",\"multiplier\":\"2.00\"," \
	"\"state\":\"finalized\",\"finalized_at\":\"" t "\"}"

static unsigned char rbuf[1 << 16];

/*
 * Run input through a reader in the given mode, in chunks: whole
 * (cut = 0), one byte at a time (bytewise), or two pieces cut at cut.
 * The transcript lists each event (R:obj or S:code:id) and ends with
 * "=result" (0 or the error).
 */
static int
run(const char *in, size_t len, int mode, const char *slug, size_t buflen,
    size_t cut, int bytewise, char *t, size_t tn)
{
	struct ts_round_reader r;
	size_t off = 0, at = 0, n, end;
	int ev, rc = 0, stalls = 0, finished = 0;

	ts_round_init(&r, rbuf, buflen, mode);
	if (slug != NULL && ts_round_set_game(&r, slug, strlen(slug)) != 0)
		return -1;
	t[0] = '\0';
	for (;;) {
		while ((ev = ts_round_event(&r)) > 0) {
			stalls = 0;
			if (ev == TS_ROUND_EV_ROUND)
				at += (size_t)snprintf(t + at, tn - at,
				    "R:%.*s|", (int)r.round.obj_len,
				    r.round.obj);
			if (ev == TS_ROUND_EV_ROUND && at < tn &&
			    r.round.obj_len + r.round.aux_len > r.round.obj_len)
				/* what an escaped row means, decoded */
				at += (size_t)snprintf(t + at, tn - at,
				    "D:%.*s/%.*s/%d/%.*s|",
				    (int)r.round.game_id.len, r.round.game_id.ptr,
				    (int)r.round.round_id.len,
				    r.round.round_id.ptr,
				    ts_round_finalized(&r.round),
				    (int)r.round.finalized_at.len,
				    r.round.finalized_at.ptr);
			else if (ev != TS_ROUND_EV_ROUND)
				at += (size_t)snprintf(t + at, tn - at,
				    "S:%d:%.*s|", r.skip_err,
				    (int)r.skip_id_len, r.skip_id);
			if (at >= tn)
				return -2;
		}
		if (ev < 0) {
			rc = ev;
			break;
		}
		if (off == len) {
			if (finished)
				break;
			rc = ts_round_finish(&r);
			finished = 1;
			if (rc < 0)
				break;
			continue;
		}
		end = bytewise ? off + 1 : off < cut ? cut : len;
		n = ts_round_push(&r, in + off, end - off);
		off += n;
		/* a push may take nothing (an event at a number's end, an
		 * error), never twice without an event between */
		stalls = n == 0 ? stalls + 1 : 0;
		if (stalls > 1)
			return -3;
	}
	snprintf(t + at, tn - at, "=%d", rc);
	return rc;
}

static char t1[1 << 17], t2[1 << 17];

/*
 * Like CHECK_STR and CHECK_MEM, for long expected texts (the harness
 * macros would quote the whole expression).
 */
static int
same_mem(const char *got, size_t n, const char *want)
{
	if (n == strlen(want) && memcmp(got, want, n) == 0)
		return 1;
	printf("\n    got  \"%.*s\"\n    want \"%s\"", (int)n, got, want);
	return 0;
}

static int
same(const char *got, const char *want)
{
	return same_mem(got, strlen(got), want);
}

/* One message, whole: its result and the one round's object. */
static int
message(const char *in, const char *slug, struct ts_round_reader *r)
{
	size_t off = 0, len = strlen(in);
	int ev, rc;

	ts_round_init(r, rbuf, sizeof(rbuf), TS_ROUND_MESSAGE);
	if (slug != NULL)
		ts_round_set_game(r, slug, strlen(slug));
	while (off < len) {
		off += ts_round_push(r, in + off, len - off);
		ev = ts_round_event(r);
		if (ev < 0)
			return ev;
		if (ev > 0)
			return 1000 + ev;	/* no event before finish */
	}
	rc = ts_round_finish(r);
	if (rc < 0)
		return rc;
	ev = ts_round_event(r);
	return ev == TS_ROUND_EV_ROUND ? 0 : 2000 + ev;
}

static void
guide_frame(void)
{
	struct ts_round_reader r;
	const struct ts_round *rd = &r.round;

	CHECK_INT(message(guide_pretty, NULL, &r), 0);
	CHECK(same_mem(rd->obj, rd->obj_len, GUIDE_MIN));
	CHECK_MEM(rd->game_id.ptr, rd->game_id.len, "stake-crash");
	CHECK_MEM(rd->round_id.ptr, rd->round_id.len,
	    "c2caaf8a-34b3-42b0-8d44-c01cb879049d");
	CHECK_MEM(rd->round_index.ptr, rd->round_index.len,
	    "956100250495943837");
	CHECK_MEM(rd->multiplier.ptr, rd->multiplier.len, "3.1611");
	CHECK_MEM(rd->state.ptr, rd->state.len, "finalized");
	CHECK_MEM(rd->finalized_at.ptr, rd->finalized_at.len,
	    "2026-05-28T15:05:15Z");
	/* the instant, read once here for the client */
	CHECK_INT(rd->finalized_sec, 1779980715);
	CHECK_INT(rd->finalized_nsec, 0);
	CHECK_INT(rd->game_inserted, 0);
	CHECK_INT(rd->round_id.escaped, 0);
}

/* finalized_at's instant: offset applied, nanoseconds cut at nine digits. */
static void
finalized_instant(void)
{
	struct ts_round_reader r;

	CHECK_INT(message("{\"round_id\":\"a\",\"round_index\":1,"
	    "\"multiplier\":\"2\",\"finalized_at\":"
	    "\"2026-05-28T15:05:15.123456789123-01:30\"}", "g", &r), 0);
	CHECK_INT(r.round.finalized_sec, 1779980715 + 5400);
	CHECK_INT(r.round.finalized_nsec, 123456789);
	CHECK_INT(message("{\"round_id\":\"a\",\"round_index\":1,"
	    "\"multiplier\":\"2\",\"finalized_at\":"
	    "\"2026-05-28T15:05:15.5+01:00\"}", "g", &r), 0);
	CHECK_INT(r.round.finalized_sec, 1779980715 - 3600);
	CHECK_INT(r.round.finalized_nsec, 500000000);
}

/* The minified form is a fixed point: minifying it again changes nothing. */
static void
minified_is_fixed_point(void)
{
	struct ts_round_reader r;

	CHECK_INT(message(GUIDE_MIN, NULL, &r), 0);
	CHECK(same_mem(r.round.obj, r.round.obj_len, GUIDE_MIN));
}

/* Strings are kept byte for byte: spaces, escapes, UTF-8. */
static void
strings_verbatim(void)
{
	struct ts_round_reader r;
	const char *in = "{ \"round_id\" : \"a \\\"b\\\" \\u00e9 \xc3\xa9\" ,"
	    " \"round_index\" : \"0042\" , \"multiplier\" : 3.1611e0 ,"
	    " \"finalized_at\" : \"2026-05-28t15:05:15.123+02:00\" ,"
	    " \"state\" : null , \"game_id\" : \"g\\u0031\" }";

	CHECK_INT(message(in, NULL, &r), 0);
	CHECK(same_mem(r.round.obj, r.round.obj_len,
	    "{\"round_id\":\"a \\\"b\\\" \\u00e9 \xc3\xa9\","
	    "\"round_index\":\"0042\",\"multiplier\":3.1611e0,"
	    "\"finalized_at\":\"2026-05-28t15:05:15.123+02:00\","
	    "\"state\":null,\"game_id\":\"g\\u0031\"}"));
	/* the fields are decoded; obj stays as received */
	CHECK_MEM(r.round.round_id.ptr, r.round.round_id.len,
	    "a \"b\" \xc3\xa9 \xc3\xa9");
	CHECK_INT(r.round.round_id.escaped, 1);
	CHECK_MEM(r.round.round_index.ptr, r.round.round_index.len, "0042");
	CHECK_MEM(r.round.multiplier.ptr, r.round.multiplier.len, "3.1611e0");
	CHECK(r.round.state.ptr == NULL);
	CHECK_MEM(r.round.game_id.ptr, r.round.game_id.len, "g1");
	CHECK_INT(r.round.game_id.escaped, 1);
	CHECK_INT(r.round.game_inserted, 0);
}

/* SPEC §7.1: game_id inserted as the first member. */
static void
game_inserted_first(void)
{
	struct ts_round_reader r;

	CHECK_INT(message("{ \"round_id\":\"r1\", \"round_index\":7,"
	    " \"multiplier\":\"1.00\","
	    " \"finalized_at\":\"2026-01-01T00:00:00Z\","
	    " \"x\": [ 1 ] }", "stake-crash", &r), 0);
	CHECK(same_mem(r.round.obj, r.round.obj_len,
	    "{\"game_id\":\"stake-crash\",\"round_id\":\"r1\","
	    "\"round_index\":7,\"multiplier\":\"1.00\","
	    "\"finalized_at\":\"2026-01-01T00:00:00Z\",\"x\":[1]}"));
	CHECK_INT(r.round.game_inserted, 1);
	CHECK_MEM(r.round.game_id.ptr, r.round.game_id.len, "stake-crash");
	CHECK_MEM(r.round.round_id.ptr, r.round.round_id.len, "r1");
	CHECK_MEM(r.round.round_index.ptr, r.round.round_index.len, "7");
	CHECK_MEM(r.round.finalized_at.ptr, r.round.finalized_at.len,
	    "2026-01-01T00:00:00Z");
}

/* A round's own game_id is kept even when a slug is set. */
static void
game_present_kept(void)
{
	struct ts_round_reader r;

	CHECK_INT(message(ROW_G("r", "1", "2026-01-01T00:00:00Z"),
	    "roobet-crash", &r), 0);
	CHECK(same_mem(r.round.obj, r.round.obj_len,
	    ROW_G("r", "1", "2026-01-01T00:00:00Z")));
	CHECK_INT(r.round.game_inserted, 0);
	CHECK_MEM(r.round.game_id.ptr, r.round.game_id.len, "stake-crash");
}

static void
set_game_checks(void)
{
	struct ts_round_reader r;
	char big[TS_ROUND_SLUG_MAX + 2];

	ts_round_init(&r, rbuf, sizeof(rbuf), TS_ROUND_BODY);
	CHECK_INT(ts_round_set_game(&r, "stake-crash", 11), 0);
	CHECK_INT(ts_round_set_game(&r, "", 0), TS_ERR_ROUND_FIELD);
	CHECK_INT(ts_round_set_game(&r, "a\"b", 3), TS_ERR_ROUND_FIELD);
	CHECK_INT(ts_round_set_game(&r, "a b", 3), TS_ERR_ROUND_FIELD);
	CHECK_INT(ts_round_set_game(&r, "a\\b", 3), TS_ERR_ROUND_FIELD);
	memset(big, 'a', sizeof(big));
	CHECK_INT(ts_round_set_game(&r, big, TS_ROUND_SLUG_MAX), 0);
	CHECK_INT(ts_round_set_game(&r, big, TS_ROUND_SLUG_MAX + 1),
	    TS_ERR_ROUND_FIELD);
	/* the headroom holds the longest insertion */
	CHECK(11 + TS_ROUND_SLUG_MAX + 2 <= TS_ROUND_HEADROOM);
}

struct msg_case {
	const char *name;
	const char *in;
	int want;
};

#define OKT "\"finalized_at\":\"2026-05-28T15:05:15Z\""
#define SLUG60 "0123456789012345678901234567890123456789012345678901234567" \
	"89"
#define SLUG64 SLUG60 "abcd"
#define OKR "\"round_id\":\"r\",\"round_index\":1,\"multiplier\":\"2\","

static const struct msg_case msg_cases[] = {
	{"ok", "{" OKR OKT "}", 0},
	{"ok_state_null", "{" OKR "\"state\":null," OKT "}", 0},
	{"not_object_array", "[" OKR OKT "]", TS_ERR_ROUND_NOT_OBJECT},
	{"not_object_empty_array", "[]", TS_ERR_ROUND_NOT_OBJECT},
	{"not_object_string", "\"x\"", TS_ERR_ROUND_NOT_OBJECT},
	{"not_object_number", "12", TS_ERR_ROUND_NOT_OBJECT},
	{"not_object_null", "null", TS_ERR_ROUND_NOT_OBJECT},
	{"missing_all", "{}", TS_ERR_ROUND_MISSING},
	{"missing_round_id", "{\"round_index\":1,\"multiplier\":\"2\"," OKT "}",
	    TS_ERR_ROUND_MISSING},
	{"missing_round_index", "{\"round_id\":\"r\",\"multiplier\":\"2\","
	    OKT "}", TS_ERR_ROUND_MISSING},
	{"missing_multiplier", "{\"round_id\":\"r\",\"round_index\":1," OKT "}",
	    TS_ERR_ROUND_MISSING},
	{"missing_finalized_at", "{" OKR "\"state\":\"finalized\"}",
	    TS_ERR_ROUND_MISSING},
	{"missing_nested_only", "{\"raw\":{" OKR OKT "}}",
	    TS_ERR_ROUND_MISSING},
	{"escaped_name", "{\"round\\u005fid\":\"r\",\"round_index\":1,"
	    "\"multiplier\":\"2\"," OKT "}", 0},
	{"escaped_name_dup", "{" OKR "\"r\\u006fund_id\":\"s\"," OKT "}",
	    TS_ERR_ROUND_DUPLICATE},
	{"escaped_name_dup_state", "{" OKR "\"state\":\"finalized\","
	    "\"st\\u0061te\":\"pending\"," OKT "}", TS_ERR_ROUND_DUPLICATE},
	{"escaped_values", "{\"round_id\":\"\\u0072\",\"round_index\":"
	    "\"\\u0031\",\"multiplier\":\"3\\u002e1\",\"finalized_at\":"
	    "\"2026-05-28T15:05:15\\u005a\"}", 0},
	{"escaped_index_letters", "{\"round_id\":\"r\",\"round_index\":"
	    "\"\\u0031a\",\"multiplier\":\"2\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_round_id_control", "{\"round_id\":\"a\\nb\",\"round_index\":1,"
	    "\"multiplier\":\"2\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_game_control", "{\"game_id\":\"a\\u001bb\"," OKR OKT "}",
	    TS_ERR_ROUND_FIELD},
	/* a game_id is a slug: what a REST path and the state file carry */
	{"field_game_space", "{\"game_id\":\"a b\"," OKR OKT "}",
	    TS_ERR_ROUND_FIELD},
	{"field_game_del", "{\"game_id\":\"a\x7f\"," OKR OKT "}",
	    TS_ERR_ROUND_FIELD},
	{"field_game_dot", "{\"game_id\":\".\"," OKR OKT "}",
	    TS_ERR_ROUND_FIELD},
	{"field_game_dotdot", "{\"game_id\":\"..\"," OKR OKT "}",
	    TS_ERR_ROUND_FIELD},
	{"field_game_empty", "{\"game_id\":\"\"," OKR OKT "}",
	    TS_ERR_ROUND_FIELD},
	{"field_game_utf8", "{\"game_id\":\"\xc3\xa9\"," OKR OKT "}",
	    TS_ERR_ROUND_FIELD},
	{"field_game_64", "{\"game_id\":\"" SLUG64 "\"," OKR OKT "}",
	    TS_ERR_ROUND_FIELD},
	{"game_63_dots", "{\"game_id\":\"..." SLUG60 "\"," OKR OKT "}", 0},
	{"field_round_id_number", "{\"round_id\":5,\"round_index\":1,"
	    "\"multiplier\":\"2\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_round_id_object", "{\"round_id\":{},\"round_index\":1,"
	    "\"multiplier\":\"2\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_index_negative", "{\"round_id\":\"r\",\"round_index\":-1,"
	    "\"multiplier\":\"2\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_index_fraction", "{\"round_id\":\"r\",\"round_index\":1.5,"
	    "\"multiplier\":\"2\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_index_exponent", "{\"round_id\":\"r\",\"round_index\":1e5,"
	    "\"multiplier\":\"2\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_index_string_letters", "{\"round_id\":\"r\","
	    "\"round_index\":\"12a\",\"multiplier\":\"2\"," OKT "}",
	    TS_ERR_ROUND_FIELD},
	{"field_index_string_empty", "{\"round_id\":\"r\","
	    "\"round_index\":\"\",\"multiplier\":\"2\"," OKT "}",
	    TS_ERR_ROUND_FIELD},
	{"field_index_true", "{\"round_id\":\"r\",\"round_index\":true,"
	    "\"multiplier\":\"2\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_index_array", "{\"round_id\":\"r\",\"round_index\":[1],"
	    "\"multiplier\":\"2\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_multiplier_word", "{\"round_id\":\"r\",\"round_index\":1,"
	    "\"multiplier\":\"abc\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_multiplier_null", "{\"round_id\":\"r\",\"round_index\":1,"
	    "\"multiplier\":null," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_multiplier_escaped", "{\"round_id\":\"r\",\"round_index\":1,"
	    "\"multiplier\":\"3\\u002e\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_multiplier_dot_end", "{\"round_id\":\"r\",\"round_index\":1,"
	    "\"multiplier\":\"3.\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_multiplier_space", "{\"round_id\":\"r\",\"round_index\":1,"
	    "\"multiplier\":\" 3\"," OKT "}", TS_ERR_ROUND_FIELD},
	{"field_time_word", "{" OKR "\"finalized_at\":\"yesterday\"}",
	    TS_ERR_ROUND_FIELD},
	{"field_time_number", "{" OKR "\"finalized_at\":1716900000}",
	    TS_ERR_ROUND_FIELD},
	{"field_time_no_zone", "{" OKR
	    "\"finalized_at\":\"2026-05-28T15:05:15\"}", TS_ERR_ROUND_FIELD},
	{"field_time_feb30", "{" OKR
	    "\"finalized_at\":\"2026-02-30T15:05:15Z\"}", TS_ERR_ROUND_FIELD},
	{"field_game_null", "{\"game_id\":null," OKR OKT "}",
	    TS_ERR_ROUND_FIELD},
	{"field_state_number", "{" OKR "\"state\":5," OKT "}",
	    TS_ERR_ROUND_FIELD},
	{"duplicate_round_id", "{" OKR "\"round_id\":\"s\"," OKT "}",
	    TS_ERR_ROUND_DUPLICATE},
	{"duplicate_finalized_at", "{" OKR OKT "," OKT "}",
	    TS_ERR_ROUND_DUPLICATE},
	{"duplicate_state", "{" OKR "\"state\":\"a\",\"state\":\"b\"," OKT "}",
	    TS_ERR_ROUND_DUPLICATE},
	{"duplicate_unknown_ok", "{" OKR "\"x\":1,\"x\":2," OKT "}", 0},
	{"json_trailing", "{" OKR OKT "} x", TS_ERR_JSON_TRAILING},
	{"json_two_objects", "{" OKR OKT "}{}", TS_ERR_JSON_TRAILING},
	{"json_truncated", "{" OKR OKT, TS_ERR_JSON_TRUNCATED},
	{"json_syntax", "{" OKR OKT ",}", TS_ERR_JSON_SYNTAX},
	{"json_utf8", "{" OKR OKT ",\"x\":\"\xff\"}", TS_ERR_JSON_UTF8},
	{"json_empty", "", TS_ERR_JSON_TRUNCATED},
};

/* MESSAGE mode errors, each with its code (game_id from a slug). */
static void
message_errors(void)
{
	struct ts_round_reader r;
	size_t i;
	int bad = 0, rc;

	for (i = 0; i < sizeof(msg_cases) / sizeof(msg_cases[0]); i++) {
		rc = message(msg_cases[i].in, "g", &r);
		if (rc != msg_cases[i].want) {
			printf("\n    %s: got %d want %d", msg_cases[i].name,
			    rc, msg_cases[i].want);
			bad++;
		}
	}
	CHECK_INT(bad, 0);
}

/* Without a slug a message must name its game. */
static void
message_needs_game(void)
{
	struct ts_round_reader r;

	CHECK_INT(message("{" OKR OKT "}", NULL, &r), TS_ERR_ROUND_MISSING);
	CHECK_INT(message("{\"game_id\":\"g\"," OKR OKT "}", NULL, &r), 0);
}

/* A message bigger than the buffer allows. */
static void
message_too_big(void)
{
	const char *in = "{" OKR OKT "}";
	size_t n = strlen(in);

	CHECK_INT(run(in, n, TS_ROUND_MESSAGE, "g",
	    n + TS_ROUND_HEADROOM, 0, 0, t1, sizeof(t1)), 0);
	CHECK_INT(run(in, n, TS_ROUND_MESSAGE, "g",
	    n + TS_ROUND_HEADROOM - 1, 0, 0, t1, sizeof(t1)),
	    TS_ERR_ROUND_TOO_BIG);
	/* whitespace does not count, only the minified bytes */
	CHECK_INT(run("  {" OKR "\n\n\n\n" OKT "}  ", n + 8, TS_ROUND_MESSAGE,
	    "g", n + TS_ROUND_HEADROOM, 0, 1, t1, sizeof(t1)), 0);
}

static void
body_array(void)
{
	const char *in = "[ " ROW("a", "1", "2026-01-01T00:00:01Z") " ,\n "
	    ROW("b", "2", "2026-01-01T00:00:02Z") " ]";

	CHECK_INT(run(in, strlen(in), TS_ROUND_BODY, "stake-crash",
	    sizeof(rbuf), 0, 0, t1, sizeof(t1)), 0);
	CHECK(same(t1, "R:" ROW_G("a", "1", "2026-01-01T00:00:01Z")
	    "|R:" ROW_G("b", "2", "2026-01-01T00:00:02Z") "|=0"));
}

static void
body_rounds_member(void)
{
	const char *in = "{\"meta\":{\"x\":[1,{\"rounds\":[5]}],"
	    "\"s\":\"rounds\"},"
	    "\"rounds\":[" ROW("a", "1", "2026-01-01T00:00:01Z") "],"
	    "\"data\":[7],\"next\":null}";

	CHECK_INT(run(in, strlen(in), TS_ROUND_BODY, "stake-crash",
	    sizeof(rbuf), 0, 1, t1, sizeof(t1)), 0);
	CHECK(same(t1, "R:" ROW_G("a", "1", "2026-01-01T00:00:01Z") "|=0"));
}

static void
body_data_member(void)
{
	const char *in = "{\"count\":1,\"data\":[" ROW_G("a", "1",
	    "2026-01-01T00:00:01Z") "]}";

	CHECK_INT(run(in, strlen(in), TS_ROUND_BODY, NULL, sizeof(rbuf), 0, 0,
	    t1, sizeof(t1)), 0);
	CHECK(same(t1, "R:" ROW_G("a", "1", "2026-01-01T00:00:01Z") "|=0"));
}

/* A "rounds" that is not an array is skipped; a later "data" is used. */
static void
body_first_array_member(void)
{
	const char *in = "{\"rounds\":null,\"data\":[" ROW_G("a", "1",
	    "2026-01-01T00:00:01Z") "]}";

	CHECK_INT(run(in, strlen(in), TS_ROUND_BODY, NULL, sizeof(rbuf), 0, 0,
	    t1, sizeof(t1)), 0);
	CHECK(same(t1, "R:" ROW_G("a", "1", "2026-01-01T00:00:01Z") "|=0"));
}

static void
body_empty(void)
{
	CHECK_INT(run("[]", 2, TS_ROUND_BODY, "g", sizeof(rbuf), 0, 0, t1,
	    sizeof(t1)), 0);
	CHECK(same(t1, "=0"));
	CHECK_INT(run(" {\"rounds\" : [ ] } ", 19, TS_ROUND_BODY, "g",
	    sizeof(rbuf), 0, 0, t1, sizeof(t1)), 0);
	CHECK(same(t1, "=0"));
}

static void
body_errors(void)
{
	static const struct msg_case c[] = {
		{"number", "5", TS_ERR_ROUND_BODY},
		{"string", "\"x\"", TS_ERR_ROUND_BODY},
		{"null", "null", TS_ERR_ROUND_BODY},
		{"empty_object", "{}", TS_ERR_ROUND_BODY},
		{"rounds_number", "{\"rounds\":5}", TS_ERR_ROUND_BODY},
		{"rounds_object", "{\"rounds\":{\"data\":[]}}",
		    TS_ERR_ROUND_BODY},
		{"other_name", "{\"items\":[]}", TS_ERR_ROUND_BODY},
		{"escaped_name", "{\"r\\u006funds\":[]}", 0},
		{"escaped_other_name", "{\"r\\u006fund\":[]}",
		    TS_ERR_ROUND_BODY},
		{"truncated", "[" ROW("a", "1", "2026-01-01T00:00:01Z"),
		    TS_ERR_JSON_TRUNCATED},
		{"trailing", "[] []", TS_ERR_JSON_TRAILING},
		{"syntax", "[1,]", TS_ERR_JSON_SYNTAX},
		{"empty", "", TS_ERR_JSON_TRUNCATED},
	};
	size_t i;
	int bad = 0, rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		rc = run(c[i].in, strlen(c[i].in), TS_ROUND_BODY, "g",
		    sizeof(rbuf), 0, 0, t1, sizeof(t1));
		if (rc != c[i].want) {
			printf("\n    %s: got %d want %d", c[i].name, rc,
			    c[i].want);
			bad++;
		}
	}
	CHECK_INT(bad, 0);
}

/* SPEC §7.10: a row too big is skipped by name; later rows still come. */
static void
body_skip_oversize(void)
{
	static char in[8192];
	char exp[2048];
	size_t n, small = strlen(ROW("a", "1", "2026-01-01T00:00:01Z"));
	size_t buflen = small + TS_ROUND_HEADROOM;

	n = (size_t)snprintf(in, sizeof(in), "[%s,{\"round_id\":\"big-one\","
	    "\"raw\":\"%0500d\"},%s]", ROW("a", "1", "2026-01-01T00:00:01Z"),
	    0, ROW("c", "3", "2026-01-01T00:00:03Z"));
	snprintf(exp, sizeof(exp), "R:%s|S:%d:big-one|R:%s|=0",
	    ROW_G("a", "1", "2026-01-01T00:00:01Z"), TS_ERR_ROUND_TOO_BIG,
	    ROW_G("c", "3", "2026-01-01T00:00:03Z"));
	CHECK_INT(run(in, n, TS_ROUND_BODY, "stake-crash", buflen, 0, 0, t1,
	    sizeof(t1)), 0);
	CHECK(same(t1, exp));
	CHECK_INT(run(in, n, TS_ROUND_BODY, "stake-crash", buflen, 0, 1, t1,
	    sizeof(t1)), 0);
	CHECK(same(t1, exp));
	/* the round_id seen after the limit was hit still names the row */
	n = (size_t)snprintf(in, sizeof(in), "[{\"raw\":\"%0500d\","
	    "\"round_id\":\"late\"},%s]", 0,
	    ROW("c", "3", "2026-01-01T00:00:03Z"));
	CHECK_INT(run(in, n, TS_ROUND_BODY, "stake-crash", buflen, 0, 0, t1,
	    sizeof(t1)), 0);
	snprintf(exp, sizeof(exp), "S:%d:late|R:%s|=0", TS_ERR_ROUND_TOO_BIG,
	    ROW_G("c", "3", "2026-01-01T00:00:03Z"));
	CHECK(same(t1, exp));
}

/* A round of exactly max_round bytes passes; one more is skipped. */
static void
body_limit_exact(void)
{
	const char *row = ROW("a", "1", "2026-01-01T00:00:01Z");
	char in[512], exp[512];
	size_t n = strlen(row);

	snprintf(in, sizeof(in), "[%s]", row);
	CHECK_INT(run(in, n + 2, TS_ROUND_BODY, "g", n + TS_ROUND_HEADROOM,
	    0, 0, t1, sizeof(t1)), 0);
	CHECK(strncmp(t1, "R:", 2) == 0);
	CHECK_INT(run(in, n + 2, TS_ROUND_BODY, "g",
	    n - 1 + TS_ROUND_HEADROOM, 0, 0, t1, sizeof(t1)), 0);
	snprintf(exp, sizeof(exp), "S:%d:a|=0", TS_ERR_ROUND_TOO_BIG);
	CHECK(same(t1, exp));
}

/* Rows that are not rounds are named and skipped; the body goes on. */
static void
body_skip_bad_rows(void)
{
	const char *in = "[5,[1,{\"round_id\":\"q\"}],\"s\",null,"
	    "{\"round_id\":\"m\"},"
	    "{\"round_id\":\"f\",\"round_index\":\"x\"},"
	    "{\"round_id\":\"d\",\"round_id\":\"e\"},"
	    "{\"round_id\":\"long-" "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789\"},"
	    "{\"round_id\":7}," ROW("ok", "9", "2026-01-01T00:00:09Z") "]";
	char exp[2048];

	snprintf(exp, sizeof(exp),
	    "S:%d:|S:%d:|S:%d:|S:%d:|S:%d:m|S:%d:f|S:%d:d|"
	    "S:%d:long-0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789"
	    "012|S:%d:|R:%s|=0",
	    TS_ERR_ROUND_NOT_OBJECT, TS_ERR_ROUND_NOT_OBJECT,
	    TS_ERR_ROUND_NOT_OBJECT, TS_ERR_ROUND_NOT_OBJECT,
	    TS_ERR_ROUND_MISSING, TS_ERR_ROUND_FIELD, TS_ERR_ROUND_DUPLICATE,
	    TS_ERR_ROUND_MISSING, TS_ERR_ROUND_FIELD,
	    ROW_G("ok", "9", "2026-01-01T00:00:09Z"));
	CHECK_INT(run(in, strlen(in), TS_ROUND_BODY, "stake-crash",
	    sizeof(rbuf), 0, 0, t1, sizeof(t1)), 0);
	CHECK(same(t1, exp));
}

/* Memory is bounded by one round: many rows through a small buffer. */
static void
body_many_rows_small_buffer(void)
{
	static char in[200000];
	const char *row = ROW_G("x", "956100250495943837",
	    "2026-01-01T00:00:01Z");
	size_t n = 0, i, rn = strlen(row);
	struct ts_round_reader r;
	unsigned char small[640];
	size_t off = 0;
	int ev, rounds = 0;

	in[n++] = '[';
	for (i = 0; i < 1000; i++) {
		if (i > 0)
			in[n++] = ',';
		memcpy(in + n, row, rn);
		n += rn;
	}
	in[n++] = ']';
	CHECK(rn + TS_ROUND_HEADROOM <= sizeof(small));
	ts_round_init(&r, small, sizeof(small), TS_ROUND_BODY);
	while (off < n) {
		off += ts_round_push(&r, in + off, n - off);
		while ((ev = ts_round_event(&r)) > 0) {
			CHECK_INT(ev, TS_ROUND_EV_ROUND);
			CHECK(same_mem(r.round.obj, r.round.obj_len, row));
			CHECK_MEM(r.round.round_index.ptr,
			    r.round.round_index.len, "956100250495943837");
			rounds++;
		}
		CHECK_INT(ev, 0);
	}
	CHECK_INT(ts_round_finish(&r), 0);
	CHECK_INT(rounds, 1000);
}

/* Other members of the body are skipped whatever their size. */
static void
body_big_other_member(void)
{
	static char in[100000];
	size_t n = 0;
	unsigned char small[512];

	n += (size_t)snprintf(in, sizeof(in), "{\"blob\":\"");
	memset(in + n, 'z', 80000);
	n += 80000;
	n += (size_t)snprintf(in + n, sizeof(in) - n, "\",\"rounds\":[%s]}",
	    ROW_G("a", "1", "2026-01-01T00:00:01Z"));
	(void)small;
	CHECK_INT(run(in, n, TS_ROUND_BODY, NULL, 300 + TS_ROUND_DECODED_MAX,
	    0, 0, t1, sizeof(t1)), 0);
	CHECK(same(t1, "R:" ROW_G("a", "1", "2026-01-01T00:00:01Z") "|=0"));
}

/* Names and the values read are matched decoded; obj stays verbatim. */
#define ESCAPED_ROW "{\"\\u0067\\u0061\\u006d\\u0065\\u005f" \
	"\\u0069\\u0064\":\"\\u0067\\u002d\\u0031\",\"round_id\":" \
	"\"\\u00e9\\\"\\/\",\"round_index\":\"\\u0031\",\"multiplier\":2," \
	"\"st\\u0061te\":\"fin\\u0061lized\",\"finalized_at\":" \
	"\"2026-01-01T00:00:01\\u005a\"}"
#define ESCAPED_BODY "{\"r\\u006f\\u0075nds\":[" ESCAPED_ROW ",{\"game_id\":\"g\",\"round_id\":" \
	"\"x\",\"round\\u005fid\":\"y\"}," ROW_G("a", "1", \
	"2026-01-01T00:00:01Z") "]}"

static void
escaped_members(void)
{
	struct ts_round_reader r;

	CHECK_INT(run(ESCAPED_BODY, strlen(ESCAPED_BODY), TS_ROUND_BODY, "g",
	    4096, 0, 0, t1, sizeof(t1)), 0);
	CHECK(same(t1, "R:" ESCAPED_ROW "|D:g-1/\xc3\xa9\"//1/"
	    "2026-01-01T00:00:01Z|S:-706:x|R:" ROW_G("a", "1",
	    "2026-01-01T00:00:01Z") "|=0"));
	/* a pending round is pending however "state" is written */
	CHECK_INT(message("{" OKR "\"st\\u0061te\":\"pending\"," OKT "}", "g",
	    &r), 0);
	CHECK_INT(ts_round_finalized(&r.round), 0);
	CHECK_INT(message("{" OKR "\"state\":\"fin\\u0061lized\"," OKT "}",
	    "g", &r), 0);
	CHECK_INT(ts_round_finalized(&r.round), 1);
}

/* The inputs every split must agree on. */
static const struct {
	const char *in;
	int mode;
	const char *slug;
	size_t buflen;
} split_inputs[] = {
	{guide_pretty, TS_ROUND_MESSAGE, NULL, 4096},
	{GUIDE_MIN, TS_ROUND_MESSAGE, "x", 4096},
	{"{ \"round_id\":\"r\\\"1\", \"round_index\" : \"12\" ,"
	    "\"multiplier\":1e3,"
	    "\"finalized_at\":\"2026-05-28T15:05:15.5-01:30\"}",
	    TS_ROUND_MESSAGE, "g", 4096},
	{"{" OKR OKT "} x", TS_ROUND_MESSAGE, "g", 4096},
	{"[ " ROW("a", "1", "2026-01-01T00:00:01Z") " , 5, [ ] ,"
	    ROW("b", "22", "2026-01-01T00:00:02Z") " ]", TS_ROUND_BODY,
	    "stake-crash", 4096},
	{"[" ROW("a", "1", "2026-01-01T00:00:01Z") ",{\"round_id\":\"big\","
	    "\"raw\":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]},"
	    ROW("c", "3", "2026-01-01T00:00:03Z") "]", TS_ROUND_BODY,
	    "stake-crash", 150 + TS_ROUND_HEADROOM},
	{"{\"x\":[{\"rounds\":1}], \"data\" : [" ROW("a", "1",
	    "2026-01-01T00:00:01Z") "], \"z\": {\"data\":[]}}", TS_ROUND_BODY,
	    "g", 4096},
	{"{\"rounds\":{}}", TS_ROUND_BODY, "g", 4096},
	/* escaped names and values, decoded whatever the split */
	{ESCAPED_BODY, TS_ROUND_BODY, "g", 4096},
	/* fuzz: too big at byte 20 and a JSON error at byte 42 give the
	 * first of them, whatever the chunking */
	{"{\"OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO\x01\":1}",
	    TS_ROUND_MESSAGE, "g", 20 + TS_ROUND_HEADROOM},
	{"[{\"OOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOOO\x01\":1}]",
	    TS_ROUND_BODY, "g", 20 + TS_ROUND_HEADROOM},
};

static void
split_equivalence(void)
{
	size_t i, k, n;

	for (i = 0; i < sizeof(split_inputs) / sizeof(split_inputs[0]); i++) {
		n = strlen(split_inputs[i].in);
		run(split_inputs[i].in, n, split_inputs[i].mode,
		    split_inputs[i].slug, split_inputs[i].buflen, 0, 0, t1,
		    sizeof(t1));
		run(split_inputs[i].in, n, split_inputs[i].mode,
		    split_inputs[i].slug, split_inputs[i].buflen, 0, 1, t2,
		    sizeof(t2));
		CHECK(same(t2, t1));
		for (k = 1; k < n; k++) {
			run(split_inputs[i].in, n, split_inputs[i].mode,
			    split_inputs[i].slug, split_inputs[i].buflen, k, 0,
			    t2, sizeof(t2));
			if (strcmp(t1, t2) != 0)
				printf("\n    input %zu split at %zu", i, k);
			CHECK(same(t2, t1));
		}
	}
}

/* The round's pointers stay inside obj, whatever the split. */
static void
message_bytewise_fields(void)
{
	struct ts_round_reader r;
	size_t i, n = strlen(guide_pretty);
	int ev;

	ts_round_init(&r, rbuf, 1024, TS_ROUND_MESSAGE);
	for (i = 0; i < n; i++) {
		CHECK_INT(ts_round_push(&r, guide_pretty + i, 1), 1);
		CHECK_INT(ts_round_event(&r), 0);
	}
	CHECK_INT(ts_round_finish(&r), 0);
	ev = ts_round_event(&r);
	CHECK_INT(ev, TS_ROUND_EV_ROUND);
	CHECK(same_mem(r.round.obj, r.round.obj_len, GUIDE_MIN));
	CHECK_MEM(r.round.round_index.ptr, r.round.round_index.len,
	    "956100250495943837");
	CHECK_INT(ts_round_event(&r), 0);
	CHECK_INT(ts_round_push(&r, " ", 1), 0);
}

struct above_case {
	const char *m, *x;
	int want;
};

static void
above_table(void)
{
	static const struct above_case c[] = {
		{"10.00", "10", 0},
		{"10.0000001", "10", 1},
		{"10", "10.00", 0},
		{"10.01", "10", 1},
		{"9.99", "10", 0},
		{"3.1611", "2", 1},
		{"1.00", "1", 0},
		{"1", "0.99999999999999999999999", 1},
		{"0.99999999999999999999999", "1", 0},
		{"100", "99.999", 1},
		{"010", "10", 0},
		{"010.5", "10", 1},
		{"0", "0", 0},
		{"-0", "0", 0},
		{"0", "-0", 0},
		{"0.000", "-0.0", 0},
		{"0.001", "0", 1},
		{"-1", "0", 0},
		{"0", "-1", 1},
		{"-1", "-2", 1},
		{"-2", "-1", 0},
		{"-1.5", "-1.50", 0},
		{"1e1", "10", 0},
		{"1.1e1", "10", 1},
		{"1E+1", "9.99", 1},
		{"100e-2", "1", 0},
		{"101e-2", "1", 1},
		{"1e-9", "0", 1},
		{"1e-999999999", "0", 1},
		{"1e999999999", "1e999999998", 1},
		{"1e0000000001", "9", 1},
		{"123456789012345678901234567890.5",
		    "123456789012345678901234567890.4999999", 1},
		{"2", "2", 0},
		{"1000000", "999999.99999", 1},
		{"x", "1", TS_ERR_ROUND_FIELD},
		{"1", "", TS_ERR_ROUND_FIELD},
		{"", "1", TS_ERR_ROUND_FIELD},
		{"+1", "0", TS_ERR_ROUND_FIELD},
		{".5", "0", TS_ERR_ROUND_FIELD},
		{"5.", "0", TS_ERR_ROUND_FIELD},
		{"1.2.3", "0", TS_ERR_ROUND_FIELD},
		{"1e", "0", TS_ERR_ROUND_FIELD},
		{"1e+", "0", TS_ERR_ROUND_FIELD},
		{"1e1234567890", "0", TS_ERR_ROUND_FIELD},
		{" 1", "0", TS_ERR_ROUND_FIELD},
		{"1 ", "0", TS_ERR_ROUND_FIELD},
		{"-", "0", TS_ERR_ROUND_FIELD},
		{"0x10", "0", TS_ERR_ROUND_FIELD},
		{"1,5", "0", TS_ERR_ROUND_FIELD},
	};
	size_t i;
	int bad = 0, rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		rc = ts_round_above(c[i].m, strlen(c[i].m), c[i].x,
		    strlen(c[i].x));
		if (rc != c[i].want) {
			printf("\n    above(%s, %s) = %d want %d", c[i].m,
			    c[i].x,
			    rc, c[i].want);
			bad++;
		}
	}
	CHECK_INT(bad, 0);
	CHECK_INT(ts_round_above("10", 2, "0", 1), 1);
	CHECK_INT(ts_round_above("2.5", 3, "0", 1), 1);
	CHECK_INT(ts_round_above("ten", 3, "0", 1), TS_ERR_ROUND_FIELD);
	CHECK_INT(ts_round_above("1\0", 2, "0", 1), TS_ERR_ROUND_FIELD);
}

static void
index_cmp_table(void)
{
	static const struct above_case c[] = {
		{"956100250495943837", "956100250495943837", 0},
		{"956100250495943837", "956100250495943838", -1},
		{"956100250495943838", "956100250495943837", 1},
		{"9007199254740993", "9007199254740992", 1},
		{"99", "100", -1},
		{"100", "99", 1},
		{"007", "7", 0},
		{"0", "", 0},
		{"000", "0", 0},
		{"1", "0", 1},
		{"123456789012345678901234567890",
		    "123456789012345678901234567891", -1},
		{"0123", "124", -1},
	};
	size_t i;
	int bad = 0, rc;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		rc = ts_round_index_cmp(c[i].m, strlen(c[i].m), c[i].x,
		    strlen(c[i].x));
		if (rc != c[i].want) {
			printf("\n    cmp(%s, %s) = %d", c[i].m, c[i].x, rc);
			bad++;
		}
	}
	CHECK_INT(bad, 0);
}

static void
time_table(void)
{
	static const struct {
		const char *s;
		long long sec;
		unsigned nsec;
		int rc;
	} c[] = {
		{"1970-01-01T00:00:00Z", 0, 0, 0},
		{"2026-05-28T15:05:15Z", 1779980715LL, 0, 0},
		{"2026-05-28t15:05:15z", 1779980715LL, 0, 0},
		{"2026-05-28T17:05:15+02:00", 1779980715LL, 0, 0},
		{"2026-05-28T10:35:15-04:30", 1779980715LL, 0, 0},
		{"2026-05-28T15:05:15-00:00", 1779980715LL, 0, 0},
		{"2026-05-28T15:05:15.5Z", 1779980715LL, 500000000, 0},
		{"2026-05-28T15:05:15.123456789123Z", 1779980715LL, 123456789,
		    0},
		{"2026-05-28T15:05:15.000000001Z", 1779980715LL, 1, 0},
		{"1969-12-31T23:59:59Z", -1, 0, 0},
		{"2000-02-29T00:00:00Z", 951782400LL, 0, 0},
		{"2016-12-31T23:59:60Z", 1483228800LL, 0, 0},
		{"0000-01-01T00:00:00Z", -62167219200LL, 0, 0},
		{"9999-12-31T23:59:59Z", 253402300799LL, 0, 0},
		{"1900-02-29T00:00:00Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-02-29T00:00:00Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-04-31T00:00:00Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-13-01T00:00:00Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-00-01T00:00:00Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-01-00T00:00:00Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-01-01T24:00:00Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-01-01T00:60:00Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-01-01T00:00:61Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-01-01 00:00:00Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-01-01T00:00:00", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-01-01T00:00:00.Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-01-01T00:00:00+0100", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-01-01T00:00:00+24:00", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-01-01T00:00:00+01:60", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-01-01T00:00:00Z ", 0, 0, TS_ERR_ROUND_FIELD},
		{"2026-1-01T00:00:00Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"26-01-01T00:00:00Z", 0, 0, TS_ERR_ROUND_FIELD},
		{"", 0, 0, TS_ERR_ROUND_FIELD},
	};
	size_t i;
	int bad = 0, rc;
	int64_t sec;
	uint32_t nsec;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		sec = 0;
		nsec = 0;
		rc = ts_round_time(c[i].s, strlen(c[i].s), &sec, &nsec);
		if (rc != c[i].rc || (rc == 0 && (sec != c[i].sec ||
		    nsec != c[i].nsec))) {
			printf("\n    %s: rc %d sec %lld nsec %u", c[i].s, rc,
			    (long long)sec, (unsigned)nsec);
			bad++;
		}
	}
	CHECK_INT(bad, 0);
}

/* After an event, push takes nothing until it is read; errors stick. */
static void
push_contract(void)
{
	struct ts_round_reader r;
	const char *in = "[" ROW_G("a", "1", "2026-01-01T00:00:01Z") ","
	    ROW_G("b", "2", "2026-01-01T00:00:02Z") "]";
	size_t n = strlen(in), first;

	ts_round_init(&r, rbuf, sizeof(rbuf), TS_ROUND_BODY);
	first = ts_round_push(&r, in, n);
	CHECK_INT(first, 1 + strlen(ROW_G("a", "1", "2026-01-01T00:00:01Z")));
	CHECK_INT(ts_round_push(&r, in + first, n - first), 0);
	CHECK_INT(ts_round_event(&r), TS_ROUND_EV_ROUND);
	CHECK_INT(ts_round_event(&r), 0);
	ts_round_init(&r, rbuf, sizeof(rbuf), TS_ROUND_BODY);
	CHECK_INT(ts_round_push(&r, "[1,]", 4), 2);
	CHECK_INT(ts_round_event(&r), TS_ROUND_EV_SKIPPED);
	CHECK_INT(ts_round_push(&r, ",]", 2), 1);
	CHECK_INT(ts_round_event(&r), TS_ERR_JSON_SYNTAX);
	CHECK_INT(ts_round_event(&r), TS_ERR_JSON_SYNTAX);
	CHECK_INT(ts_round_push(&r, "]", 1), 0);
	CHECK_INT(ts_round_finish(&r), TS_ERR_JSON_SYNTAX);
}

static void
error_words(void)
{
	static const int codes[] = {
		TS_ERR_ROUND_NOT_OBJECT, TS_ERR_ROUND_MISSING,
		TS_ERR_ROUND_FIELD, TS_ERR_ROUND_TOO_BIG, TS_ERR_ROUND_BODY,
		TS_ERR_ROUND_DUPLICATE
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		CHECK(strcmp(ts_strerror(codes[i]), "unknown error") != 0);
}

/* ts_round_time_write: known answers, the range's edge, and
 * ts_round_time() reading back what it wrote, over many instants. */
static void
time_write(void)
{
	char out[40];
	int64_t sec, back;
	uint32_t nsec, nback;
	uint64_t x = 88172645463325252ULL;
	int i;

	ts_round_time_write(out, sizeof(out), 0, 0, 0);
	CHECK_STR(out, "1970-01-01T00:00:00Z");
	ts_round_time_write(out, sizeof(out), 1780067115, 123456789, 1);
	CHECK_STR(out, "2026-05-29T15:05:15.123456789Z");
	ts_round_time_write(out, sizeof(out), -1, 5, 1);
	CHECK_STR(out, "1969-12-31T23:59:59.000000005Z");
	ts_round_time_write(out, sizeof(out), 951782400, 0, 0);
	CHECK_STR(out, "2000-02-29T00:00:00Z");
	ts_round_time_write(out, sizeof(out), 253402300799LL, 0, 1);
	CHECK_STR(out, "9999-12-31T23:59:59.000000000Z");
	ts_round_time_write(out, sizeof(out), 253402300800LL, 7, 1);
	CHECK_STR(out, "0000-01-01T00:00:00Z");
	ts_round_time_write(out, 5, 0, 0, 0);
	CHECK_STR(out, "1970");
	for (i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sec = (int64_t)(x % 253402300800ULL) - 62135596800LL;
		nsec = (uint32_t)(x >> 34) % 1000000000u;
		ts_round_time_write(out, sizeof(out), sec, nsec, 1);
		CHECK_INT(ts_round_time(out, strlen(out), &back, &nback), 0);
		CHECK_INT(back, sec);
		CHECK_INT(nback, nsec);
	}
}

static const struct test_case cases[] = {
	TEST(guide_frame),
	TEST(finalized_instant),
	TEST(minified_is_fixed_point),
	TEST(strings_verbatim),
	TEST(game_inserted_first),
	TEST(game_present_kept),
	TEST(set_game_checks),
	TEST(message_errors),
	TEST(message_needs_game),
	TEST(message_too_big),
	TEST(message_bytewise_fields),
	TEST(body_array),
	TEST(body_rounds_member),
	TEST(body_data_member),
	TEST(body_first_array_member),
	TEST(body_empty),
	TEST(body_errors),
	TEST(body_skip_oversize),
	TEST(body_limit_exact),
	TEST(body_skip_bad_rows),
	TEST(body_many_rows_small_buffer),
	TEST(body_big_other_member),
	TEST(escaped_members),
	TEST(split_equivalence),
	TEST(above_table),
	TEST(index_cmp_table),
	TEST(time_table),
	TEST(time_write),
	TEST(push_contract),
	TEST(error_words),
};

int
main(int argc, char **argv)
{
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
