/*
 * test_json: the streaming tokenizer against RFC 8259.  Every case is a
 * JSON text and the result it must give (0 or its error code); every
 * case is also run whole, one byte at a time and split at every offset,
 * and the token transcripts (kind, offsets, text, escape flag, result)
 * must be identical.  Case names follow JSONTestSuite: y_ must be
 * accepted, n_ must be rejected with the code given.
 */
#include <stdio.h>
#include <string.h>

#include "tsino.h"
#include "json.h"
#include "test.h"

struct json_case {
	const char *name;
	const char *text;
	size_t len;		/* 0: strlen(text) */
	int want;		/* 0 or a TS_ERR_JSON_* code */
};

#define Y(name, text) { name, text, sizeof(text) - 1, 0 }
#define N(name, text, err) { name, text, sizeof(text) - 1, err }

static const struct json_case cases_tab[] = {
	/* RFC 8259 §13 examples */
	Y("y_rfc_image",
	    "{\n"
	    "  \"Image\": {\n"
	    "    \"Width\":  800,\n"
	    "    \"Height\": 600,\n"
	    "    \"Title\":  \"View from 15th Floor\",\n"
	    "    \"Thumbnail\": {\n"
	    "      \"Url\":    \"http://www.example.com/image/481989943\",\n"
	    "      \"Height\": 125,\n"
	    "      \"Width\":  100\n"
	    "    },\n"
	    "    \"Animated\" : false,\n"
	    "    \"IDs\": [116, 943, 234, 38793]\n"
	    "  }\n"
	    "}"),
	Y("y_rfc_array",
	    "[\n"
	    "  {\n"
	    "     \"precision\": \"zip\",\n"
	    "     \"Latitude\":  37.7668,\n"
	    "     \"Longitude\": -122.3959,\n"
	    "     \"Address\":   \"\",\n"
	    "     \"City\":      \"SAN FRANCISCO\",\n"
	    "     \"State\":     \"CA\",\n"
	    "     \"Zip\":       \"94107\",\n"
	    "     \"Country\":   \"US\"\n"
	    "  },\n"
	    "  {\n"
	    "     \"precision\": \"zip\",\n"
	    "     \"Latitude\":  37.371991,\n"
	    "     \"Longitude\": -122.026020,\n"
	    "     \"Address\":   \"\",\n"
	    "     \"City\":      \"SUNNYVALE\",\n"
	    "     \"State\":     \"CA\",\n"
	    "     \"Zip\":       \"94085\",\n"
	    "     \"Country\":   \"US\"\n"
	    "  }\n"
	    "]"),
	Y("y_rfc_string", "\"Hello world!\""),
	Y("y_rfc_number", "42"),
	Y("y_rfc_true", "true"),
	Y("y_false", "false"),
	Y("y_null", "null"),
	Y("y_empty_array", "[]"),
	Y("y_empty_object", "{}"),
	Y("y_nested", "{\"a\":[1,true,\"x\\n\",{},[],null]}"),
	Y("y_ws_all", " \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ \"a\" : 2 } ] \t\r\n"),
	Y("y_guide_frame",
	    "{\"game_id\":\"stake-crash\",\"round_index\":956100250495943837,"
	    "\"multiplier\":\"3.1611\"}"),
	/* numbers (§6) */
	Y("y_num_zero", "0"),
	Y("y_num_minus_zero", "-0"),
	Y("y_num_frac", "[1.5,-1.5,0.0,-0.25]"),
	Y("y_num_exp", "[1e2,1E2,1e+2,1e-2,-1.5e10,0e0,1E007]"),
	Y("y_num_huge",
	    "123456789012345678901234567890123456789012345678901234567890"),
	Y("y_num_in_object", "{\"n\":7}"),
	/* strings (§7) */
	Y("y_str_escapes", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u00e9\""),
	Y("y_str_u0000", "\"\\u0000\""),
	Y("y_str_pair", "\"\\uD834\\uDD1E\""),
	Y("y_str_pair_lower", "\"\\ud83d\\ude00\""),
	Y("y_str_u_max_bmp", "\"\\uFFFF\\uD7FF\\uE000\""),
	Y("y_str_del", "\"\x7f\""),
	Y("y_str_utf8_2", "\"\xc2\x80 \xc3\xa9 \xdf\xbf\""),
	Y("y_str_utf8_3", "\"\xe0\xa0\x80 \xe2\x82\xac \xed\x9f\xbf "
	    "\xee\x80\x80 \xef\xbf\xbf\""),
	Y("y_str_utf8_4", "\"\xf0\x90\x80\x80 \xf0\x9d\x84\x9e "
	    "\xf4\x8f\xbf\xbf\""),
	Y("y_str_empty", "\"\""),
	Y("y_key_escaped", "{\"a\\u0062\":1,\"\":2}"),
	Y("y_dup_keys", "{\"a\":1,\"a\":2}"),
	Y("y_lits", "[true,false,null]"),

	/* syntax */
	N("n_comma_trailing_array", "[1,]", TS_ERR_JSON_SYNTAX),
	N("n_comma_leading_array", "[,1]", TS_ERR_JSON_SYNTAX),
	N("n_comma_double", "[1,,2]", TS_ERR_JSON_SYNTAX),
	N("n_comma_missing", "[1 2]", TS_ERR_JSON_SYNTAX),
	N("n_comma_trailing_object", "{\"a\":1,}", TS_ERR_JSON_SYNTAX),
	N("n_colon_missing", "{\"a\" 1}", TS_ERR_JSON_SYNTAX),
	N("n_colon_double", "{\"a\"::1}", TS_ERR_JSON_SYNTAX),
	N("n_key_number", "{1:2}", TS_ERR_JSON_SYNTAX),
	N("n_key_single_quote", "{'a':1}", TS_ERR_JSON_SYNTAX),
	N("n_key_bare", "{a:1}", TS_ERR_JSON_SYNTAX),
	N("n_mismatch_array", "[1}", TS_ERR_JSON_SYNTAX),
	N("n_mismatch_object", "{\"a\":1]", TS_ERR_JSON_SYNTAX),
	N("n_object_close_array", "{]", TS_ERR_JSON_SYNTAX),
	N("n_lone_close", "]", TS_ERR_JSON_SYNTAX),
	N("n_literal_case", "True", TS_ERR_JSON_SYNTAX),
	N("n_literal_bad", "[trux]", TS_ERR_JSON_SYNTAX),
	N("n_literal_nul", "[nul]", TS_ERR_JSON_SYNTAX),
	N("n_nan", "[NaN]", TS_ERR_JSON_SYNTAX),
	N("n_infinity", "[Infinity]", TS_ERR_JSON_SYNTAX),
	N("n_hex", "[0x1F]", TS_ERR_JSON_SYNTAX),
	N("n_bom", "\xef\xbb\xbf{}", TS_ERR_JSON_SYNTAX),
	N("n_nbsp", "\xc2\xa0[]", TS_ERR_JSON_SYNTAX),
	N("n_vtab", "[\x0b]", TS_ERR_JSON_SYNTAX),
	N("n_formfeed_ws", "\x0c[]", TS_ERR_JSON_SYNTAX),
	N("n_nul_value", "\x00", TS_ERR_JSON_SYNTAX),
	N("n_comment", "/**/[]", TS_ERR_JSON_SYNTAX),
	N("n_single_quote_str", "['a']", TS_ERR_JSON_SYNTAX),
	N("n_utf8_outside", "[\xc3\xa9]", TS_ERR_JSON_SYNTAX),
	/* fuzz: a number ended by a bad byte: two pushes take nothing */
	N("n_ctl_after_number", "[1\x13" "2.3Y", TS_ERR_JSON_SYNTAX),
	/* numbers */
	N("n_num_leading_zero", "01", TS_ERR_JSON_NUMBER),
	N("n_num_leading_zero_neg", "[-01]", TS_ERR_JSON_NUMBER),
	N("n_num_plus", "+1", TS_ERR_JSON_NUMBER),
	N("n_num_dot_first", "[.5]", TS_ERR_JSON_NUMBER),
	N("n_num_dot_last", "[1.]", TS_ERR_JSON_NUMBER),
	N("n_num_dot_exp", "[1.e1]", TS_ERR_JSON_NUMBER),
	N("n_num_exp_empty", "[1e]", TS_ERR_JSON_NUMBER),
	N("n_num_exp_sign_empty", "[1e+]", TS_ERR_JSON_NUMBER),
	N("n_num_minus_alone", "[-]", TS_ERR_JSON_NUMBER),
	N("n_num_minus_letter", "[-a]", TS_ERR_JSON_NUMBER),
	N("n_num_minus_minus", "[--1]", TS_ERR_JSON_NUMBER),
	N("n_num_two_dots", "[1.2.3]", TS_ERR_JSON_NUMBER),
	N("n_num_two_exps", "[1e5e]", TS_ERR_JSON_NUMBER),
	N("n_num_plus_after", "[1+2]", TS_ERR_JSON_NUMBER),
	N("n_num_zero_digit", "[00]", TS_ERR_JSON_NUMBER),
	/* control characters */
	N("n_ctl_01", "\"a\x01" "b\"", TS_ERR_JSON_CONTROL),
	N("n_ctl_tab", "\"\t\"", TS_ERR_JSON_CONTROL),
	N("n_ctl_newline", "[\"a\nb\"]", TS_ERR_JSON_CONTROL),
	N("n_ctl_1f", "\"\x1f\"", TS_ERR_JSON_CONTROL),
	N("n_ctl_nul", "\"\x00\"", TS_ERR_JSON_CONTROL),
	/* UTF-8 */
	N("n_utf8_stray_cont", "\"\x80\"", TS_ERR_JSON_UTF8),
	N("n_utf8_overlong_c0", "\"\xc0\xaf\"", TS_ERR_JSON_UTF8),
	N("n_utf8_overlong_c1", "\"\xc1\xbf\"", TS_ERR_JSON_UTF8),
	N("n_utf8_overlong_e0", "\"\xe0\x80\xaf\"", TS_ERR_JSON_UTF8),
	N("n_utf8_overlong_e0_9f", "\"\xe0\x9f\xbf\"", TS_ERR_JSON_UTF8),
	N("n_utf8_overlong_f0", "\"\xf0\x80\x80\xaf\"", TS_ERR_JSON_UTF8),
	N("n_utf8_surrogate_d800", "\"\xed\xa0\x80\"", TS_ERR_JSON_UTF8),
	N("n_utf8_surrogate_dfff", "\"\xed\xbf\xbf\"", TS_ERR_JSON_UTF8),
	N("n_utf8_above_max", "\"\xf4\x90\x80\x80\"", TS_ERR_JSON_UTF8),
	N("n_utf8_f5", "\"\xf5\x80\x80\x80\"", TS_ERR_JSON_UTF8),
	N("n_utf8_ff", "\"\xff\"", TS_ERR_JSON_UTF8),
	N("n_utf8_fe", "\"\xfe\"", TS_ERR_JSON_UTF8),
	N("n_utf8_cut_2", "\"\xc3\"", TS_ERR_JSON_UTF8),
	N("n_utf8_cut_3", "\"\xe2\x82\"", TS_ERR_JSON_UTF8),
	N("n_utf8_cut_4", "\"\xf0\x9f\x98\"", TS_ERR_JSON_UTF8),
	N("n_utf8_cut_by_ascii", "\"\xe2" "a\"", TS_ERR_JSON_UTF8),
	N("n_utf8_cut_by_ctl", "\"\xc3\x01\"", TS_ERR_JSON_UTF8),
	N("n_utf8_lead_after_lead", "\"\xc3\xc3\xa9\"", TS_ERR_JSON_UTF8),
	/* escapes */
	N("n_esc_x", "\"\\x41\"", TS_ERR_JSON_ESCAPE),
	N("n_esc_a", "\"\\a\"", TS_ERR_JSON_ESCAPE),
	N("n_esc_quote1", "\"\\'\"", TS_ERR_JSON_ESCAPE),
	N("n_esc_upper_u", "\"\\U0041\"", TS_ERR_JSON_ESCAPE),
	N("n_esc_bad_hex", "\"\\u12G4\"", TS_ERR_JSON_ESCAPE),
	N("n_esc_short_hex", "\"\\u00\"", TS_ERR_JSON_ESCAPE),
	N("n_esc_ctl", "\"\\\x01\"", TS_ERR_JSON_ESCAPE),
	N("n_esc_utf8", "\"\\\xc3\xa9\"", TS_ERR_JSON_ESCAPE),
	N("n_esc_low_bad_hex", "\"\\uD800\\uDC0x\"", TS_ERR_JSON_ESCAPE),
	/* surrogates */
	N("n_sur_lone_high", "\"\\uD800\"", TS_ERR_JSON_SURROGATE),
	N("n_sur_lone_high_end", "\"\\uDBFF\"", TS_ERR_JSON_SURROGATE),
	N("n_sur_lone_low", "\"\\uDC00\"", TS_ERR_JSON_SURROGATE),
	N("n_sur_lone_low_end", "\"\\uDFFF\"", TS_ERR_JSON_SURROGATE),
	N("n_sur_reversed", "\"\\uDC00\\uD800\"", TS_ERR_JSON_SURROGATE),
	N("n_sur_high_high", "\"\\uD800\\uD800\"", TS_ERR_JSON_SURROGATE),
	N("n_sur_high_bmp", "\"\\uD800\\u0041\"", TS_ERR_JSON_SURROGATE),
	N("n_sur_high_esc", "\"\\uD800\\n\"", TS_ERR_JSON_SURROGATE),
	N("n_sur_high_char", "\"\\uD800x\"", TS_ERR_JSON_SURROGATE),
	N("n_sur_high_utf8", "\"\\uD800\xf0\x9d\x84\x9e\"",
	    TS_ERR_JSON_SURROGATE),
	/* trailing */
	N("n_trail_letter", "[] x", TS_ERR_JSON_TRAILING),
	N("n_trail_two_numbers", "1 2", TS_ERR_JSON_TRAILING),
	N("n_trail_two_objects", "{}{}", TS_ERR_JSON_TRAILING),
	N("n_trail_two_strings", "\"a\"\"b\"", TS_ERR_JSON_TRAILING),
	N("n_trail_nul", "[]\x00", TS_ERR_JSON_TRAILING),
	N("n_trail_literals", "true false", TS_ERR_JSON_TRAILING),
	N("n_trail_after_number", "12x", TS_ERR_JSON_TRAILING),
	N("n_trail_close", "{}}", TS_ERR_JSON_TRAILING),
	N("n_trail_comma", "[1],", TS_ERR_JSON_TRAILING),
	/* truncated */
	N("n_trunc_empty", "", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_ws", " \n", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_array", "[1", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_array_comma", "[1,", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_object_colon", "{\"a\":", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_key", "{\"a", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_string", "\"abc", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_escape", "\"\\", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_hex", "\"\\u00", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_pair", "\"\\uD800", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_utf8", "\"\xe2\x82", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_literal", "tru", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_minus", "-", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_dot", "1.", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_exp", "1e", TS_ERR_JSON_TRUNCATED),
	N("n_trunc_number_in_array", "[12", TS_ERR_JSON_TRUNCATED),
};

#define NCASES (sizeof(cases_tab) / sizeof(cases_tab[0]))

static void
add(char *t, size_t tn, const char *s)
{
	size_t n = strlen(t);

	snprintf(t + n, tn - n, "%s", s);
}

/*
 * Run text through a tokenizer in chunks: cut[] lists offsets where a
 * chunk ends (chunk = 1: every byte its own chunk).  Write the whole
 * transcript into t: each event with its offsets, text and escape flag,
 * then "=result".
 */
static int
transcript(const char *text, size_t len, size_t cut, int bytewise,
    unsigned max_depth, char *t, size_t tn)
{
	struct ts_json j;
	size_t off = 0, end, n;
	int ev, rc = 0, got;
	char item[96];

	ts_json_init(&j);
	if (max_depth)
		j.max_depth = max_depth;
	t[0] = '\0';
	while (off < len && rc == 0) {
		end = bytewise ? off + 1 : off < cut ? cut : len;
		n = ts_json_push(&j, text + off, end - off);
		off += n;
		got = 0;
		while ((ev = ts_json_event(&j)) > 0) {
			got = 1;
			snprintf(item, sizeof(item), "%d@%llu-%llu%s:", ev,
			    (unsigned long long)j.tok_start,
			    (unsigned long long)j.tok_end,
			    j.tok_escaped ? "!" : "");
			add(t, tn, item);
			snprintf(item, sizeof(item), "%.*s ",
			    (int)(j.tok_end - j.tok_start > 40 ? 40 :
			    j.tok_end - j.tok_start), text + j.tok_start);
			add(t, tn, item);
		}
		if (ev < 0)
			rc = ev;
		else if (n == 0 && !got)
			rc = -1;	/* stalled: a bug */
	}
	if (rc == 0) {
		rc = ts_json_finish(&j);
		while ((ev = ts_json_event(&j)) > 0) {
			snprintf(item, sizeof(item), "%d@%llu-%llu:%.*s ", ev,
			    (unsigned long long)j.tok_start,
			    (unsigned long long)j.tok_end,
			    (int)(j.tok_end - j.tok_start > 40 ? 40 :
			    j.tok_end - j.tok_start), text + j.tok_start);
			add(t, tn, item);
		}
	}
	snprintf(item, sizeof(item), "=%d", rc);
	add(t, tn, item);
	return rc;
}

static char whole_t[16384], part_t[16384];

/* Every case gives its expected result when pushed whole. */
static void
results(void)
{
	size_t i;
	int bad = 0;

	for (i = 0; i < NCASES; i++) {
		const struct json_case *c = &cases_tab[i];
		int rc = transcript(c->text, c->len, 0, 0, 0, whole_t,
		    sizeof(whole_t));

		if (rc != c->want) {
			printf("\n    %s: got %d want %d", c->name, rc,
			    c->want);
			bad++;
		}
	}
	CHECK_INT(bad, 0);
}

/* Byte by byte and every two-piece split give the whole transcript. */
static void
split_equivalence(void)
{
	size_t i, k;

	for (i = 0; i < NCASES; i++) {
		const struct json_case *c = &cases_tab[i];

		transcript(c->text, c->len, 0, 0, 0, whole_t, sizeof(whole_t));
		transcript(c->text, c->len, 0, 1, 0, part_t, sizeof(part_t));
		if (strcmp(whole_t, part_t) != 0)
			printf("\n    %s bytewise", c->name);
		CHECK_STR(part_t, whole_t);
		for (k = 1; k < c->len; k++) {
			transcript(c->text, c->len, k, 0, 0, part_t,
			    sizeof(part_t));
			if (strcmp(whole_t, part_t) != 0)
				printf("\n    %s split at %zu", c->name, k);
			CHECK_STR(part_t, whole_t);
		}
	}
}

/* The tokens of a small text, exactly. */
static void
known_tokens(void)
{
	const char *s = "{\"a\":[1,true,\"x\\n\"],\"b\\u0041\":-0.5e3}";

	transcript(s, strlen(s), 0, 0, 0, whole_t, sizeof(whole_t));
	CHECK_STR(whole_t,
	    "1@0-1:{ 5@1-4:\"a\" 3@5-6:[ 7@6-7:1 8@8-12:true "
	    "6@13-18!:\"x\\n\" 4@18-19:] 5@20-29!:\"b\\u0041\" "
	    "7@30-36:-0.5e3 2@36-37:} =0");
}

/* A top-level number ends only at the end of input. */
static void
top_number(void)
{
	struct ts_json j;

	ts_json_init(&j);
	CHECK_INT(ts_json_push(&j, "12", 2), 2);
	CHECK_INT(ts_json_event(&j), 0);
	CHECK_INT(ts_json_partial(&j), 1);
	CHECK_INT(j.tok_start, 0);
	CHECK_INT(ts_json_push(&j, "34", 2), 2);
	CHECK_INT(ts_json_event(&j), 0);
	CHECK_INT(ts_json_finish(&j), 0);
	CHECK_INT(ts_json_event(&j), TS_JSON_NUMBER);
	CHECK_INT(j.tok_start, 0);
	CHECK_INT(j.tok_end, 4);
	CHECK_INT(ts_json_event(&j), 0);
	CHECK_INT(ts_json_push(&j, " ", 1), 0);
}

/* push stops after each event; the byte after a number stays. */
static void
push_stops_at_events(void)
{
	struct ts_json j;

	ts_json_init(&j);
	CHECK_INT(ts_json_push(&j, "[10, 2]", 7), 1);
	CHECK_INT(ts_json_push(&j, "10, 2]", 6), 0);	/* event pending */
	CHECK_INT(ts_json_event(&j), TS_JSON_ARRAY_BEGIN);
	CHECK_INT(ts_json_push(&j, "10, 2]", 6), 2);
	CHECK_INT(ts_json_event(&j), TS_JSON_NUMBER);
	CHECK_INT(j.tok_start, 1);
	CHECK_INT(j.tok_end, 3);
	CHECK_INT(ts_json_partial(&j), 0);
	CHECK_INT(ts_json_depth(&j), 1);
	CHECK_INT(ts_json_push(&j, ", 2]", 4), 3);
	CHECK_INT(ts_json_event(&j), TS_JSON_NUMBER);
	CHECK_INT(ts_json_push(&j, "]", 1), 1);
	CHECK_INT(ts_json_event(&j), TS_JSON_ARRAY_END);
	CHECK_INT(ts_json_depth(&j), 0);
	CHECK_INT(ts_json_finish(&j), 0);
	CHECK_INT(ts_json_event(&j), 0);
}

/* The first error sticks. */
static void
sticky_error(void)
{
	struct ts_json j;

	ts_json_init(&j);
	CHECK_INT(ts_json_push(&j, "[1,]", 4), 1);
	CHECK_INT(ts_json_event(&j), TS_JSON_ARRAY_BEGIN);
	CHECK_INT(ts_json_push(&j, "1,]", 3), 1);
	CHECK_INT(ts_json_event(&j), TS_JSON_NUMBER);
	CHECK_INT(ts_json_push(&j, ",]", 2), 1);
	CHECK_INT(ts_json_event(&j), TS_ERR_JSON_SYNTAX);
	CHECK_INT(ts_json_event(&j), TS_ERR_JSON_SYNTAX);
	CHECK_INT(ts_json_push(&j, "]", 1), 0);
	CHECK_INT(ts_json_finish(&j), TS_ERR_JSON_SYNTAX);
}

/* depth nested arrays, or objects {"k":{"k":...{}}} */
static void
nest(char *s, size_t depth, int object)
{
	size_t i, n = 0;

	for (i = 0; i + 1 < depth; i++) {
		if (object) {
			memcpy(s + n, "{\"k\":", 5);
			n += 5;
		} else {
			s[n++] = '[';
		}
	}
	if (depth > 0) {
		s[n++] = object ? '{' : '[';
		s[n++] = object ? '}' : ']';
	}
	for (i = 0; i + 1 < depth; i++)
		s[n++] = object ? '}' : ']';
	s[n] = '\0';
}

/* §9 depth limit: max_depth passes, one more fails; the limit is a field. */
static void
depth_limit(void)
{
	static char s[8192];

	nest(s, 64, 0);
	CHECK_INT(transcript(s, strlen(s), 0, 0, 0, whole_t,
	    sizeof(whole_t)), 0);
	nest(s, 65, 0);
	CHECK_INT(transcript(s, strlen(s), 0, 0, 0, whole_t,
	    sizeof(whole_t)), TS_ERR_JSON_DEPTH);
	nest(s, 3, 1);
	CHECK_STR(s, "{\"k\":{\"k\":{}}}");
	CHECK_INT(transcript(s, strlen(s), 0, 0, 3, whole_t,
	    sizeof(whole_t)), 0);
	CHECK_INT(transcript(s, strlen(s), 0, 0, 2, whole_t,
	    sizeof(whole_t)), TS_ERR_JSON_DEPTH);
	nest(s, 1000, 0);
	CHECK_INT(transcript(s, strlen(s), 0, 1, 1000, part_t,
	    sizeof(part_t)), 0);
	nest(s, 1025, 0);
	CHECK_INT(transcript(s, strlen(s), 0, 1, 5000, part_t,
	    sizeof(part_t)), TS_ERR_JSON_DEPTH);
}

/* Deep mixed nesting keeps each level's kind apart (the bit stack). */
static void
bit_stack(void)
{
	static char s[2048];
	size_t i, n = 0;

	for (i = 0; i < 40; i++) {
		if (i % 3 == 0) {
			memcpy(s + n, "{\"k\":", 5);
			n += 5;
		} else {
			s[n++] = '[';
		}
	}
	s[n++] = '0';
	for (i = 40; i-- > 0;)
		s[n++] = i % 3 == 0 ? '}' : ']';
	CHECK_INT(transcript(s, n, 0, 0, 0, whole_t, sizeof(whole_t)), 0);
	s[n - 2] = s[n - 2] == '}' ? ']' : '}';
	CHECK_INT(transcript(s, n, 0, 0, 0, whole_t, sizeof(whole_t)),
	    TS_ERR_JSON_SYNTAX);
}

/* init again reads the next message, with the default limits. */
static void
reuse(void)
{
	struct ts_json j;

	ts_json_init(&j);
	j.max_depth = 1;
	CHECK_INT(ts_json_push(&j, "[[", 2), 1);
	CHECK_INT(ts_json_event(&j), TS_JSON_ARRAY_BEGIN);
	CHECK_INT(ts_json_push(&j, "[", 1), 0);
	CHECK_INT(ts_json_event(&j), TS_ERR_JSON_DEPTH);
	ts_json_init(&j);
	CHECK_INT(j.max_depth, TS_JSON_DEPTH_DEFAULT);
	CHECK_INT(ts_json_push(&j, "{}", 2), 1);
	CHECK_INT(ts_json_event(&j), TS_JSON_OBJECT_BEGIN);
	CHECK_INT(j.tok_start, 0);
	ts_json_init(&j);
	CHECK_INT(ts_json_push(&j, "\"x\"", 3), 3);
	CHECK_INT(ts_json_event(&j), TS_JSON_STRING);
	CHECK_INT(ts_json_finish(&j), 0);
}

/* Offsets keep counting across pushes of a long string. */
static void
long_string_offsets(void)
{
	static char s[70000];
	struct ts_json j;
	size_t i, off = 0;

	s[0] = '"';
	for (i = 1; i < sizeof(s) - 1; i++)
		s[i] = (char)('a' + i % 26);
	s[sizeof(s) - 1] = '"';
	ts_json_init(&j);
	while (off < sizeof(s)) {
		size_t n = sizeof(s) - off < 1000 ? sizeof(s) - off : 1000;

		CHECK_INT(ts_json_push(&j, s + off, n), n);
		off += n;
		if (off < sizeof(s))
			CHECK_INT(ts_json_event(&j), 0);
	}
	CHECK_INT(ts_json_event(&j), TS_JSON_STRING);
	CHECK_INT(j.tok_start, 0);
	CHECK_INT(j.tok_end, sizeof(s));
	CHECK_INT(j.tok_escaped, 0);
	CHECK_INT(ts_json_finish(&j), 0);
}

/* Every error code has its own words. */
static void
error_words(void)
{
	static const int codes[] = {
		TS_ERR_JSON_SYNTAX, TS_ERR_JSON_DEPTH, TS_ERR_JSON_CONTROL,
		TS_ERR_JSON_UTF8, TS_ERR_JSON_ESCAPE, TS_ERR_JSON_SURROGATE,
		TS_ERR_JSON_NUMBER, TS_ERR_JSON_TRAILING, TS_ERR_JSON_TRUNCATED
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		CHECK(strcmp(ts_strerror(codes[i]), "unknown error") != 0);
}

/*
 * Events with max_level set, whole or byte by byte: one line per event,
 * its kind and offsets.
 */
static void
level_transcript(const char *text, unsigned level, int bytewise, char *t,
    size_t tn)
{
	struct ts_json j;
	size_t off = 0, len = strlen(text), n;
	int ev, got;
	char item[64];

	ts_json_init(&j);
	j.max_level = level;
	t[0] = '\0';
	while (off < len) {
		n = ts_json_push(&j, text + off, bytewise ? 1 : len - off);
		off += n;
		got = 0;
		while ((ev = ts_json_event(&j)) > 0) {
			got = 1;
			snprintf(item, sizeof(item), "%d@%llu ", ev,
			    (unsigned long long)j.tok_start);
			add(t, tn, item);
		}
		if (ev < 0 || (n == 0 && !got)) {
			add(t, tn, "stuck");
			return;
		}
	}
	snprintf(item, sizeof(item), "=%d", ts_json_finish(&j));
	add(t, tn, item);
}

/* Tokens deeper than max_level are read, checked, and not reported. */
static void
levels(void)
{
	/*               0123456789012345678901234567890 */
	const char *s = "{\"a\":[1,{\"b\":2}],\"c\":\"x\"}";
	const char *want[4] = {
		"1@0 2@24 =0",
		"1@0 5@1 3@5 4@15 5@17 6@21 2@24 =0",
		"1@0 5@1 3@5 7@6 1@8 2@14 4@15 5@17 6@21 2@24 =0",
		"1@0 5@1 3@5 7@6 1@8 5@9 7@13 2@14 4@15 5@17 6@21 2@24 =0",
	};
	unsigned level;
	int bytewise;

	for (level = 0; level < 4; level++) {
		for (bytewise = 0; bytewise < 2; bytewise++) {
			level_transcript(s, level, bytewise, whole_t,
			    sizeof(whole_t));
			CHECK_STR(whole_t, want[level]);
		}
	}
	/* errors inside an unreported value are still found, at their byte */
	level_transcript("[[1,2,01]]", 0, 0, whole_t, sizeof(whole_t));
	CHECK_STR(whole_t, "3@0 stuck");
	{
		struct ts_json j;

		ts_json_init(&j);
		j.max_level = 0;
		CHECK_INT(ts_json_push(&j, "[[1,2,01]]", 10), 1);
		CHECK_INT(ts_json_event(&j), TS_JSON_ARRAY_BEGIN);
		CHECK_INT(ts_json_push(&j, "[1,2,01]]", 9), 6);
		CHECK_INT(ts_json_event(&j), TS_ERR_JSON_NUMBER);
	}
}

/* ws_end and ts_json_in_string(), for a caller that copies the input. */
static void
whitespace_and_strings(void)
{
	struct ts_json j;
	const char *s = "{\"a\\\"b\" :\t\"c d\"}";
	size_t k;

	ts_json_init(&j);
	CHECK_INT(j.ws_end, 0);
	/* {"a\"b" */
	CHECK_INT(ts_json_push(&j, s, 1), 1);
	CHECK_INT(ts_json_event(&j), TS_JSON_OBJECT_BEGIN);
	CHECK_INT(ts_json_in_string(&j), 0);
	CHECK_INT(ts_json_push(&j, s + 1, 2), 2);
	CHECK_INT(ts_json_in_string(&j), 1);
	CHECK_INT(ts_json_push(&j, s + 3, 1), 1);
	CHECK_INT(ts_json_in_string(&j), 2);	/* after the backslash */
	CHECK_INT(ts_json_push(&j, s + 4, 1), 1);
	CHECK_INT(ts_json_in_string(&j), 1);	/* the escaped quote */
	CHECK_INT(ts_json_push(&j, s + 5, 2), 2);
	CHECK_INT(ts_json_event(&j), TS_JSON_KEY);
	CHECK_INT(ts_json_in_string(&j), 0);
	CHECK_INT(j.ws_end, 0);
	/* ' ' ':' '\t' */
	CHECK_INT(ts_json_push(&j, s + 7, 3), 3);
	CHECK_INT(j.ws_end, 10);
	/* the space inside "c d" is not whitespace between tokens */
	k = strlen(s) - 10;
	CHECK_INT(ts_json_push(&j, s + 10, k), 5);
	CHECK_INT(ts_json_event(&j), TS_JSON_STRING);
	CHECK_INT(j.ws_end, 10);
	CHECK_INT(ts_json_push(&j, s + 15, 1), 1);
	CHECK_INT(ts_json_event(&j), TS_JSON_OBJECT_END);
	CHECK_INT(ts_json_finish(&j), 0);
	/* init again forgets it, and max_level */
	j.max_level = 3;
	ts_json_init(&j);
	CHECK_INT(j.ws_end, 0);
	CHECK_INT(j.max_level, TS_JSON_LEVEL_ALL);
}

/* ts_json_unescape: RFC 8259 §7's escapes, known answers. */
static void
unescape(void)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{"plain", "plain"},
		{"", ""},
		{"\\\"\\\\\\/\\b\\f\\n\\r\\t", "\"\\/\b\f\n\r\t"},
		{"\\u0041\\u00e9\\u20AC", "A\xc3\xa9\xe2\x82\xac"},
		{"\\ud83d\\ude00x", "\xf0\x9f\x98\x80x"},	/* a pair */
		{"\\uDBFF\\uDFFF", "\xf4\x8f\xbf\xbf"},
		{"\xc3\xa9\\u00e9", "\xc3\xa9\xc3\xa9"},	/* UTF-8 kept */
	};
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		long n = ts_json_unescape(v[i].in, strlen(v[i].in), out,
		    sizeof(out));

		CHECK_MEM(out, n < 0 ? 0 : (size_t)n, v[i].out);
	}
	/* "\u0000" is a NUL byte; too small a buffer is -1 */
	CHECK_INT(ts_json_unescape("a\\u0000b", 8, out, sizeof(out)), 3);
	CHECK_INT(out[1], 0);
	CHECK_INT(ts_json_unescape("abc", 3, out, 2), -1);
	CHECK_INT(ts_json_unescape("\\u00e9", 6, out, 1), -1);
	CHECK_INT(ts_json_unescape("\\u00e9", 6, out, 2), 2);
}

static const struct test_case cases[] = {
	TEST(results),
	TEST(split_equivalence),
	TEST(known_tokens),
	TEST(top_number),
	TEST(push_stops_at_events),
	TEST(sticky_error),
	TEST(depth_limit),
	TEST(bit_stack),
	TEST(reuse),
	TEST(long_string_offsets),
	TEST(levels),
	TEST(whitespace_and_strings),
	TEST(unescape),
	TEST(error_words),
};

int
main(int argc, char **argv)
{
	return test_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]));
}
