/* The JSON writer and reader (src/util/json.c) on hostile bytes: every string written is
 * valid JSON and valid UTF-8 whatever it held (checked by tests/unit/json-check.h, which
 * shares no code with the writer); the UTF-8 decoder refuses what RFC 3629 refuses; the
 * reader takes JSON numbers only; text for a terminal carries no control sequence. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-check.h"
#include "unit.h"
#include "util/json.h"

/* Write one string member through the writer; returns the whole object (caller frees). */
static char *write_strn(const char *s, size_t n, size_t *ret_len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct pml_json j;

	pml_json_init(&j, f, false);
	pml_json_obj_begin(&j, NULL);
	pml_json_strn(&j, "s", s, n);
	pml_json_obj_end(&j);
	fclose(f);
	*ret_len = size;
	return buf;
}

static void check_written(const char *s, size_t n, const char *expect)
{
	size_t len;
	char *out = write_strn(s, n, &len);

	CHECK(out && json_check(out, len));
	if (expect) {
		CHECK_STR(out, expect);
	}
	free(out);
}

static void test_writer_escapes(void)
{
	char all[256];

	check_written("a\"b\\c", 5, "{\"s\":\"a\\\"b\\\\c\"}");
	check_written("\n\r\t", 3, "{\"s\":\"\\n\\r\\t\"}");
	check_written("\x1b[2J\x7f", 5, "{\"s\":\"\\u001b[2J\\u007f\"}");
	check_written("a\0b", 3, "{\"s\":\"a\\u0000b\"}");
	/* Valid UTF-8 passes as is: é, €, U+1F600. */
	check_written("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9,
		      "{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}");
	/* Invalid: an overlong '/', a surrogate, past U+10FFFF, cut short, stray bytes. */
	check_written("\xc0\xaf", 2, "{\"s\":\"\\ufffd\\ufffd\"}");
	check_written("\xed\xa0\x80", 3, "{\"s\":\"\\ufffd\\ufffd\\ufffd\"}");
	check_written("\xf4\x90\x80\x80", 4, "{\"s\":\"\\ufffd\\ufffd\\ufffd\\ufffd\"}");
	check_written("\xe2\x82", 2, "{\"s\":\"\\ufffd\\ufffd\"}");
	check_written("a\x80\xff", 3, "{\"s\":\"a\\ufffd\\ufffd\"}");
	check_written("\xe2\x82x", 3, "{\"s\":\"\\ufffd\\ufffdx\"}");
	/* Every byte value, alone and all together. */
	for (int b = 0; b < 256; b++) {
		char c = (char)b;

		all[b] = c;
		check_written(&c, 1, NULL);
	}
	check_written(all, sizeof(all), NULL);
	/* The NUL-terminated writer is the same. */
	{
		char *buf = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&buf, &size);

		pml_json_write_string(f, "\x01\xff");
		fclose(f);
		CHECK_STR(buf, "\"\\u0001\\ufffd\"");
		free(buf);
	}
}

/* A fixed-seed generator of random byte strings: the writer's output always checks. */
static void test_writer_random(void)
{
	uint64_t seed = 0x2545f4914f6cdd1dull;
	char s[64];

	for (int k = 0; k < 20000; k++) {
		size_t n = 0;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		n = (size_t)(seed >> 58);
		for (size_t i = 0; i < n; i++) {
			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			/* bias toward the interesting bytes */
			s[i] = (char)((seed >> 40) & 1 ? 0x80 | (seed >> 48) : seed >> 48);
		}
		{
			size_t len;
			char *out = write_strn(s, n, &len);
			bool ok = out && json_check(out, len) && pml_utf8_valid(out, len);

			if (!ok) {
				CHECK(ok);
				free(out);
				return;
			}
			free(out);
		}
	}
	CHECK(1);
}

static void test_utf8(void)
{
	static const struct {
		const char *s;
		size_t n;
		bool valid;
	} cases[] = {
		{"", 0, true},
		{"abc", 3, true},
		{"a\0b", 3, true},
		{"\xc2\x80", 2, true},
		{"\xdf\xbf", 2, true},
		{"\xe0\xa0\x80", 3, true},
		{"\xed\x9f\xbf", 3, true},	  /* U+D7FF */
		{"\xee\x80\x80", 3, true},	  /* U+E000 */
		{"\xf0\x90\x80\x80", 4, true},	  /* U+10000 */
		{"\xf4\x8f\xbf\xbf", 4, true},	  /* U+10FFFF */
		{"\xc0\x80", 2, false},		  /* overlong NUL */
		{"\xc1\xbf", 2, false},		  /* overlong */
		{"\xe0\x9f\xbf", 3, false},	  /* overlong */
		{"\xf0\x8f\xbf\xbf", 4, false},	  /* overlong */
		{"\xed\xa0\x80", 3, false},	  /* U+D800 */
		{"\xed\xbf\xbf", 3, false},	  /* U+DFFF */
		{"\xf4\x90\x80\x80", 4, false},	  /* U+110000 */
		{"\xf5\x80\x80\x80", 4, false},
		{"\xff", 1, false},
		{"\x80", 1, false},
		{"\xc2", 1, false},		  /* cut short */
		{"\xe2\x82", 2, false},
		{"\xf0\x9f\x98", 3, false},
		{"\xc2\x41", 2, false},		  /* not a continuation */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool v = pml_utf8_valid(cases[i].s, cases[i].n);

		CHECK(v == cases[i].valid);
		if (v != cases[i].valid)
			fprintf(stderr, "  utf8 case %zu\n", i);
	}
	{
		uint32_t cp = 0;

		CHECK(pml_utf8_decode("\xf0\x9f\x98\x80", 4, &cp) == 4 && cp == 0x1f600);
		CHECK(pml_utf8_decode("\xf0\x9f\x98\x80", 3, &cp) == 0);
		CHECK(pml_utf8_decode("", 0, &cp) == 0);
	}
}

static void test_base64_and_numbers(void)
{
	static const char *const vec[][2] = {
		{"", "\"\""},	      {"f", "\"Zg==\""},	{"fo", "\"Zm8=\""},
		{"foo", "\"Zm9v\""}, {"foob", "\"Zm9vYg==\""}, {"foobar", "\"Zm9vYmFy\""},
	};
	static const struct {
		const char *lit;
		bool ok;
	} nums[] = {
		{"0", true},	  {"-0", true},	    {"12", true},    {"1.5", true},
		{"-1.5e+10", true}, {"1E3", true},  {"1e400", true}, /* a literal; not finite */
		{"01", false},	  {"+1", false},    {".5", false},   {"1.", false},
		{"1e", false},	  {"NaN", false},   {"nan", false},  {"Infinity", false},
		{"-Infinity", false}, {"0x10", false}, {"", false},  {"-", false},
		{"1 ", false},	  {"1.5.5", false},
	};

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		char *buf = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&buf, &size);
		struct pml_json j;

		pml_json_init(&j, f, false);
		pml_json_base64(&j, NULL, vec[i][0], strlen(vec[i][0]));
		fclose(f);
		CHECK_STR(buf, vec[i][1]);
		free(buf);
	}
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		bool ok = pml_json_number_literal(nums[i].lit, strlen(nums[i].lit));

		CHECK(ok == nums[i].ok);
		if (ok != nums[i].ok)
			fprintf(stderr, "  number literal \"%s\"\n", nums[i].lit);
	}
	/* Raw numbers: written as is when finite, null otherwise. */
	{
		char *buf = NULL;
		size_t size = 0;
		FILE *f = open_memstream(&buf, &size);
		struct pml_json j;

		pml_json_init(&j, f, false);
		pml_json_obj_begin(&j, NULL);
		CHECK(pml_json_raw_number(&j, "a", "2.50"));
		CHECK(!pml_json_raw_number(&j, "b", "1e400"));
		CHECK(!pml_json_raw_number(&j, "c", "nan"));
		CHECK(!pml_json_raw_number(&j, "d", NULL));
		pml_json_obj_end(&j);
		fclose(f);
		CHECK_STR(buf, "{\"a\":2.50,\"b\":null,\"c\":null,\"d\":null}");
		free(buf);
	}
}

static void test_reader(void)
{
	static const char *const bad[] = {
		"{\"a\":NaN}", "{\"a\":nan}", "{\"a\":Infinity}", "{\"a\":-Infinity}",
		"{\"a\":0x10}", "{\"a\":+1}", "{\"a\":.5}", "{\"a\":01}", "{\"a\":1.}",
		"{\"a\":1e}", "{\"a\":infinity}", "{\"a\":-}", "{\"a\":\"x\\u12\"}",
		"{\"a\":{\"b\":1}}", "{\"a\":[1]}", "{\"a\":\"\x01\"}",
	};
	struct pml_json_flat fl;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = pml_json_flat_parse(bad[i], &fl);

		CHECK(r == -EINVAL);
		if (r == 0) {
			fprintf(stderr, "  accepted %s\n", bad[i]);
			pml_json_flat_release(&fl);
		}
	}
	/* 1e400 is a JSON number; its value is not finite, which the caller checks. */
	CHECK(pml_json_flat_parse("{\"a\":1e400,\"b\":-0.5e-3}", &fl) == 0);
	CHECK(isinf(pml_json_flat_num(&fl, "a", 0)));
	CHECK(pml_json_flat_num(&fl, "b", 0) == -0.5e-3);
	CHECK_STR(pml_json_flat_get(&fl, "a")->str, "1e400");
	CHECK(pml_json_flat_get(&fl, "a")->len == 5);
	pml_json_flat_release(&fl);
	/* Strings: \u0000 kept (len says so), surrogate pairs joined, lone ones U+FFFD. */
	CHECK(pml_json_flat_parse("{\"a\":\"x\\u0000y\",\"b\":\"\\ud83d\\ude00\","
				  "\"c\":\"\\ud800x\",\"d\":\"\\udc00\",\"e\":\"\\ud800\\u0041\"}",
				  &fl) == 0);
	CHECK(pml_json_flat_get(&fl, "a")->len == 3 && !memcmp(pml_json_flat_str(&fl, "a", ""),
								"x\0y", 3));
	CHECK_STR(pml_json_flat_str(&fl, "b", NULL), "\xf0\x9f\x98\x80");
	CHECK_STR(pml_json_flat_str(&fl, "c", NULL), "\xef\xbf\xbdx");
	CHECK_STR(pml_json_flat_str(&fl, "d", NULL), "\xef\xbf\xbd");
	CHECK_STR(pml_json_flat_str(&fl, "e", NULL), "\xef\xbf\xbd" "A");
	CHECK(pml_json_flat_get(&fl, "b")->len == 4);
	pml_json_flat_release(&fl);
}

static void test_text_escape(void)
{
	char out[64];
	size_t n;

	n = pml_text_escape("ok \xc3\xa9", out, sizeof(out));
	CHECK_STR(out, "ok \xc3\xa9");
	CHECK(n == 5);
	pml_text_escape("\x1b[2J\r\n\t\x7f", out, sizeof(out));
	CHECK_STR(out, "\\x1b[2J\\x0d\\x0a\\x09\\x7f");
	/* C1 controls (U+009B is a CSI), bidi overrides, invalid bytes. */
	pml_text_escape("a\xc2\x9b" "b\xe2\x80\xae" "c\xff\xe2\x82", out, sizeof(out));
	CHECK_STR(out, "a\\xc2\\x9bb\\xe2\\x80\\xaec\\xff\\xe2\\x82");
	CHECK(pml_text_escape(NULL, out, sizeof(out)) == 0 && out[0] == '\0');
	/* Cut: never inside an escape or a character; the return says what it needs. */
	n = pml_text_escape("ab\x1b", out, 5);
	CHECK(n == 6);
	CHECK_STR(out, "ab");
	n = pml_text_escape("a\xe2\x82\xac", out, 4);
	CHECK(n == 4);
	CHECK_STR(out, "a");
	CHECK(pml_text_escape("abc", NULL, 0) == 3);
	/* Random bytes: the output never holds a byte a terminal acts on. */
	{
		uint64_t seed = 42;
		char in[48], big[4 * 48 + 1];

		for (int k = 0; k < 5000; k++) {
			bool ok = true;

			for (size_t i = 0; i < sizeof(in) - 1; i++) {
				seed = seed * 6364136223846793005ull + 1442695040888963407ull;
				in[i] = (char)(seed >> 33);
				if (!in[i])
					in[i] = 1;
			}
			in[sizeof(in) - 1] = '\0';
			n = pml_text_escape(in, big, sizeof(big));
			ok = n == strlen(big) && pml_utf8_valid(big, n);
			for (size_t i = 0; ok && i < n; i++)
				ok = (unsigned char)big[i] >= 0x20 && big[i] != 0x7f;
			for (size_t i = 0; ok && i + 1 < n; i++)
				ok = !((unsigned char)big[i] == 0xc2 &&
				       (unsigned char)big[i + 1] < 0xa0);
			if (!ok) {
				CHECK(ok);
				return;
			}
		}
		CHECK(1);
	}
}

/* The checker the tests rely on refuses what it must. */
static void test_checker(void)
{
	static const char *const bad[] = {
		"", "{", "{\"a\":}", "{\"a\":1,}", "[1,]", "01", "1.", "+1", "NaN", "\"\x01\"",
		"\"\x7f\"", "\"\xff\"", "\"\xc0\xaf\"", "\"\xed\xa0\x80\"", "\"\xe2\x82\"",
		"\"\\x\"", "\"\\u12\"", "\"abc", "{} {}", "tru", "{\"a\" 1}",
	};
	static const char *const good[] = {
		"{}", "[]", " {\"a\": [1, -0.5e+3, true, false, null, \"\\u0000\\n\"]}\n",
		"\"\xf0\x9f\x98\x80\"",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!json_check(bad[i], strlen(bad[i])));
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(json_check(good[i], strlen(good[i])));
}

int main(void)
{
	test_checker();
	test_writer_escapes();
	test_writer_random();
	test_utf8();
	test_base64_and_numbers();
	test_reader();
	test_text_escape();
	return unit_done("json");
}
