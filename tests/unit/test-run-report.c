/* The run report over fixture decision logs (tests/fixtures/agent/, .jsonl): a reactive sctp
 * run with a stall, an idle-unload run, a log with malformed lines. The expected figures are
 * worked out by hand in the comments. Then the attacks of a hostile guest: forged numbers
 * out of range, terminal escapes and invalid UTF-8 in strings, huge logs of distinct names
 * (the report must stay linear), and the warnings that say what the numbers cannot. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run/run-report.h"
#include "json-check.h"
#include "unit.h"
#include "util/json.h"

#define NEAR(a, b) (fabs((a) - (b)) < 1e-3 * (fabs(b) + 1))

static struct pml_report *load(const char *name)
{
	const char *dir = getenv("PML_TEST_FIXTURES");
	struct pml_report *rep = NULL;
	char path[512];
	int r;

	snprintf(path, sizeof(path), "%s/agent/%s", dir ? dir : "tests/fixtures", name);
	r = pml_report_load(path, &rep);
	CHECK(r == 0);
	if (r < 0)
		fprintf(stderr, "  %s: %s\n", path, strerror(-r));
	return rep;
}

/* Render into a string (caller frees). */
static char *render(const struct pml_report *rep, bool json)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	const struct pml_report_kv extra[] = {{.key = "policy", .value = "reactive"}, {0}};

	if (json)
		pml_report_print_json(rep, f, 3, extra, false);
	else
		pml_report_print_text(rep, f);
	fclose(f);
	return buf;
}

static void test_reactive(void)
{
	struct pml_report *rep = load("reactive-sctp.jsonl");
	const struct pml_report_summary *s;
	char *out;
	size_t needs = 0;

	if (!rep)
		return;
	s = pml_report_summary(rep);
	CHECK(s->records == 12);
	CHECK(s->malformed == 0);
	CHECK(s->base_modules == 2);
	CHECK(s->base_bytes == 1020480);
	/* libcrc32c and sctp, each seen by the kernel (tracefs) and written by the shim. */
	CHECK(s->loads == 2);
	CHECK(s->duplicates == 2);
	CHECK(s->unloads == 0);
	CHECK(s->requests == 2);
	CHECK(s->needs == 2);
	CHECK(s->stalls == 1);
	CHECK(NEAR(s->stall_ms, 157.0));
	CHECK(NEAR(s->stall_max_ms, 157.0));
	CHECK(s->no_module == 1);
	CHECK(s->denied == 0);
	CHECK(NEAR(s->agent_cpu_ms, 12.5));
	CHECK(s->agent_maxrss_bytes == 3145728);
	/* Memory from the kernel's load times: 16384 B from 2.01 s, 454656 B from 2.06 s
	 * to 5.0 s: 16384 * 0.05 + 454656 * 2.94 = 1337507.84 B s over 4 s. */
	CHECK(s->peak_bytes == 454656);
	CHECK(s->end_bytes == 454656);
	CHECK(NEAR(s->byte_seconds, 1337507.84));
	CHECK(NEAR(s->avg_bytes, 1337507.84 / 4));
	/* The need got its requester from the request record. */
	for (size_t i = 0; i < pml_report_n_events(rep); i++) {
		const struct pml_report_event *e = pml_report_event(rep, i);

		if (e->kind != PML_EV_NEED)
			continue;
		needs++;
		if (e->module && !strcmp(e->module, "sctp")) {
			CHECK(e->pid == 201);
			CHECK_STR(e->comm, "socat");
			CHECK(e->pid_joined);
		} else {
			CHECK(e->pid == 202);
			CHECK_STR(e->comm, "ip");
		}
	}
	CHECK(needs == 2);
	/* The shim's record is the one that counts; the kernel's is the duplicate. */
	for (size_t i = 0; i < pml_report_n_events(rep); i++) {
		const struct pml_report_event *e = pml_report_event(rep, i);

		if (e->kind == PML_EV_LOAD)
			CHECK(e->duplicate == !strcmp(e->source, "tracefs"));
	}
	/* The run's own window: 2.0 s to 5.0 s. */
	CHECK(pml_report_set_window(rep, 2000000000ull, 5000000000ull) == 0);
	CHECK(NEAR(s->avg_bytes, 1337507.84 / 3));
	CHECK(s->peak_bytes == 454656);
	CHECK(pml_report_set_window(rep, 5000000000ull, 2000000000ull) == -EINVAL);
	/* A window before anything loaded. */
	CHECK(pml_report_set_window(rep, 1000000000ull, 2000000000ull) == 0);
	CHECK(s->peak_bytes == 0);
	CHECK(s->avg_bytes == 0);
	CHECK(pml_report_set_window(rep, 0, 0) == 0);

	out = render(rep, false);
	CHECK(out && strstr(out, "loaded for net-pf-10-proto-132"));
	CHECK(out && strstr(out, "[socat 201]"));
	CHECK(out && strstr(out, "stall time: 157.0 ms total"));
	CHECK(out && strstr(out, "base: 2 modules"));
	free(out);
	out = render(rep, true);
	CHECK(out && strstr(out, "\"summary\":{\"loads\":2,\"unloads\":0,"));
	CHECK(out && strstr(out, "\"stalls\":1,\"stall_ms\":157,"));
	CHECK(out && strstr(out, "\"peak_bytes\":454656,"));
	CHECK(out && strstr(out, "\"base\":{\"modules\":[\"virtio_blk\",\"ext4\"],"
				"\"count\":2,\"bytes\":1020480}"));
	CHECK(out && strstr(out, "\"exit_status\":3,\"policy\":\"reactive\"}"));
	CHECK(out && strstr(out, "\"t_ns\":2157500000,\"event\":\"need\""));
	free(out);
	pml_report_free(rep);
}

static void test_idle_unload(void)
{
	struct pml_report *rep = load("idle-unload.jsonl");
	const struct pml_report_summary *s;
	double bs;

	if (!rep)
		return;
	s = pml_report_summary(rep);
	CHECK(s->loads == 3);
	CHECK(s->unloads == 3);
	CHECK(s->duplicates == 2);
	CHECK(s->stalls == 2);
	CHECK(NEAR(s->stall_ms, 32.0));
	CHECK(NEAR(s->stall_max_ms, 20.0));
	CHECK(s->base_modules == 1);
	/* loop 32768 from 2.0, fat 90112 from 2.4, vfat 24576 from 2.5 to 7.99 (the kernel's
	 * free), fat to 8.0, loop to 9.0; window 1.0 .. 10.0. */
	bs = 32768 * 0.4 + 122880 * 0.1 + 147456 * 5.49 + 122880 * 0.01 + 32768 * 1.0;
	CHECK(s->peak_bytes == 147456);
	CHECK(s->end_bytes == 0);
	CHECK(NEAR(s->byte_seconds, bs));
	CHECK(NEAR(s->avg_bytes, bs / 9));
	for (size_t i = 0; i < pml_report_n_events(rep); i++) {
		const struct pml_report_event *e = pml_report_event(rep, i);

		if (e->kind == PML_EV_UNLOAD && !e->duplicate) {
			CHECK_STR(e->source, "pmld");
			CHECK_STR(e->reason, "idle 5.0 s");
		}
	}
	pml_report_free(rep);
}

static void test_malformed(void)
{
	struct pml_report *rep = load("malformed.jsonl");
	const struct pml_report_summary *s;
	char *out;

	if (!rep)
		return;
	s = pml_report_summary(rep);
	CHECK(s->malformed == 7);
	CHECK(s->records == 7);
	CHECK(s->loads == 1);
	CHECK(s->unloads == 1);
	CHECK(s->denied == 1);
	CHECK(s->fails == 1);
	CHECK(s->peak_bytes == 40960);
	CHECK(NEAR(s->avg_bytes, 40960 * 2.0 / 3.5));
	CHECK(s->agent_cpu_ms < 0);
	out = render(rep, false);
	CHECK(out && strstr(out, "7 malformed lines skipped"));
	free(out);
	out = render(rep, true);
	CHECK(out && strstr(out, "\"agent_cpu_ms\":null"));
	free(out);
	pml_report_free(rep);
}

static void test_edges(void)
{
	struct pml_report *rep = NULL;
	FILE *f;
	char *out;

	CHECK(pml_report_load("/nonexistent/events.jsonl", &rep) == -ENOENT);
	CHECK(rep == NULL);
	/* An empty log is an empty report. */
	f = fmemopen((char[]){""}, 1, "r");
	CHECK(pml_report_load_file(f, &rep) == 0);
	fclose(f);
	if (!rep)
		return;
	CHECK(pml_report_summary(rep)->records == 0);
	CHECK(pml_report_summary(rep)->peak_bytes == 0);
	out = render(rep, false);
	CHECK(out && strstr(out, "no module was loaded"));
	free(out);
	out = render(rep, true);
	CHECK(out && strstr(out, "\"events\":[]"));
	free(out);
	pml_report_free(rep);
	/* A base record without a module, a load without one: skipped, not a crash. An
	 * unload of a module loaded before the log began counts, its bytes do not; a second
	 * unload of it is a duplicate. */
	{
		char text[] = "{\"v\":2,\"t_ns\":1,\"event\":\"base\"}\n{\"v\":2,\"t_ns\":2,\"event\":\"load\"}\n"
			      "{\"v\":2,\"t_ns\":3,\"event\":\"unload\",\"module\":\"never-loaded\","
			      "\"bytes\":100}\n"
			      "{\"v\":2,\"t_ns\":4,\"event\":\"unload\",\"module\":\"never_loaded\"}\n";

		f = fmemopen(text, strlen(text), "r");
		rep = NULL;
		CHECK(pml_report_load_file(f, &rep) == 0);
		fclose(f);
		if (rep) {
			CHECK(pml_report_summary(rep)->unloads == 1);
			CHECK(pml_report_summary(rep)->duplicates == 1);
			CHECK(pml_report_summary(rep)->end_bytes == 0);
			CHECK(pml_report_summary(rep)->peak_bytes == 0);
		}
		pml_report_free(rep);
	}
}

/* Mutated fixture lines (a fixed-seed generator: bytes flipped, cut, duplicated) never
 * crash the reader, and every non-blank line is either a record or counted malformed. */
static void test_mutations(void)
{
	const char *dir = getenv("PML_TEST_FIXTURES");
	static const char *const names[] = {"reactive-sctp.jsonl", "idle-unload.jsonl",
					    "malformed.jsonl"};
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	char path[512], line[512];
	char *text = NULL;
	size_t size = 0, lines = 0;
	FILE *out = open_memstream(&text, &size);

	for (size_t k = 0; k < 3; k++) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/agent/%s", dir ? dir : "tests/fixtures",
			 names[k]);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			for (int rep = 0; rep < 60; rep++) {
				char m[1100];
				size_t len = strlen(line);

				memcpy(m, line, len + 1);
				for (int flips = 0; flips < 3; flips++) {
					seed = seed * 6364136223846793005ull + 1442695040888963407ull;
					size_t at = (size_t)(seed >> 33) % (len ? len : 1);
					char c = (char)(seed >> 20);

					switch ((seed >> 8) % 4) {
					case 0:
						m[at] = c;
						break;
					case 1:
						m[at] = '\0';
						break;
					case 2:
						m[at] = "{}\":,\\ 0-e."[(seed >> 12) % 12];
						break;
					default:
						memmove(m + at + 1, m + at, len - at + 1);
						m[at] = m[at + 1];
						len++;
					}
					len = strlen(m);
				}
				m[strcspn(m, "\n")] = '\0';
				if (!m[strspn(m, " \t\r")])
					continue;
				fprintf(out, "%s\n", m);
				lines++;
			}
		}
		fclose(f);
	}
	fclose(out);
	{
		FILE *f = fmemopen(text, size, "r");
		struct pml_report *rep = NULL;

		CHECK(f && pml_report_load_file(f, &rep) == 0);
		if (f)
			fclose(f);
		if (rep) {
			const struct pml_report_summary *s = pml_report_summary(rep);
			char *o;

			CHECK(s->records + s->malformed == lines);
			CHECK(s->records > 20 && s->malformed > 20);
			if (!(s->records > 20 && s->malformed > 20))
				fprintf(stderr, "  records %zu malformed %zu\n", s->records,
					s->malformed);
			o = render(rep, true);
			CHECK(o != NULL);
			free(o);
			o = render(rep, false);
			CHECK(o != NULL);
			free(o);
		}
		pml_report_free(rep);
	}
	free(text);
}

/* --- attacks --- */

/* Load a log from memory (n bytes, NULs included). */
static struct pml_report *load_mem(const char *text, size_t n)
{
	struct pml_report *rep = NULL;
	FILE *f = fmemopen((void *)text, n ? n : 1, "r");
	int r;

	if (!f)
		return NULL;
	if (!n)
		fgetc(f); /* fmemopen wants a size: read the one byte past */
	r = pml_report_load_file(f, &rep);
	fclose(f);
	CHECK(r == 0);
	return r == 0 ? rep : NULL;
}

static struct pml_report *load_str(const char *text)
{
	return load_mem(text, strlen(text));
}

/* Render with extra members, compact or pretty (caller frees; *ret_len its length). */
static char *render_json(const struct pml_report *rep, const struct pml_report_kv *extra,
			 bool pretty, size_t *ret_len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	pml_report_print_json(rep, f, 0, extra, pretty);
	fclose(f);
	if (ret_len)
		*ret_len = size;
	return buf;
}

/* The JSON both ways is valid JSON in valid UTF-8, the text has no byte a terminal acts on
 * (a control character but '\\n', DEL, a C1 control, a bidi override). */
static void check_outputs(const struct pml_report *rep)
{
	for (int pretty = 0; pretty < 2; pretty++) {
		size_t len;
		char *out = render_json(rep, NULL, pretty, &len);
		bool ok = out && json_check(out, len) && pml_utf8_valid(out, len) &&
			  strlen(out) == len;

		CHECK(ok);
		if (!ok && out)
			fprintf(stderr, "  invalid JSON: %.300s\n", out);
		free(out);
	}
	{
		char *out = render(rep, false);
		bool ok = out != NULL;

		for (size_t i = 0; ok && out[i]; i++) {
			unsigned char c = (unsigned char)out[i], d = (unsigned char)out[i + 1];

			ok = (c >= 0x20 || c == '\n') && c != 0x7f && !(c == 0xc2 && d < 0xa0) &&
			     !(c == 0xe2 && d == 0x80 && out[i + 2] &&
			       (unsigned char)out[i + 2] >= 0xaa && (unsigned char)out[i + 2] <= 0xae);
		}
		ok = ok && pml_utf8_valid(out, strlen(out));
		CHECK(ok);
		if (!ok && out)
			fprintf(stderr, "  unsafe text: %.300s\n", out);
		free(out);
	}
}

static void test_ranges(void)
{
	/* Each a load (or the kind named) with one member wrong. */
	static const char *const bad[] = {
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"bytes\":1e300}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"bytes\":1e3}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"bytes\":-1}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"bytes\":1099511627777}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"bytes\":4096.0}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"bytes\":true}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"bytes\":null}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"bytes\":\"4096\"}",
		"{\"v\":2,\"t_ns\":12345678901234567890123,\"event\":\"load\",\"module\":\"m\"}",
		"{\"v\":2,\"t_ns\":1e300,\"event\":\"load\",\"module\":\"m\"}",
		"{\"v\":2,\"t_ns\":-5,\"event\":\"load\",\"module\":\"m\"}",
		"{\"v\":2,\"t_ns\":4611686018427387905,\"event\":\"load\",\"module\":\"m\"}",
		"{\"v\":2,\"t_ns\":18446744073709551616,\"event\":\"load\",\"module\":\"m\"}",
		"{\"v\":2,\"t_ns\":1.5,\"event\":\"load\",\"module\":\"m\"}",
		"{\"v\":2,\"t_ns\":\"1\",\"event\":\"load\",\"module\":\"m\"}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"ms\":NaN}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"ms\":nan}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"ms\":Infinity}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"ms\":-Infinity}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"ms\":1e400}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"ms\":0x10}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"ms\":-1}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"ms\":10000001}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"confidence\":1.5}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"confidence\":-0.1}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"request\",\"alias\":\"a\",\"pid\":-5}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"request\",\"alias\":\"a\",\"pid\":0}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"request\",\"alias\":\"a\",\"pid\":4194305}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"request\",\"alias\":\"a\",\"pid\":1.5}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"request\",\"alias\":\"a\",\"pid\":1e300}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"request\",\"alias\":\"a\",\"pid\":\"201\"}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"fail\",\"module\":\"m\",\"errno\":4096}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"fail\",\"module\":\"m\",\"errno\":99999999999999999999}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"fail\",\"module\":\"m\",\"errno\":0}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"fail\",\"module\":\"m\",\"errno\":-11}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"a b\"}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"\"}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"\\u001b[2J\"}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\\u0000x\"}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":5}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"source\":\"evil source\"}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"source\":\"SHIM\"}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"need\",\"alias\":\"a\",\"result\":\"won\"}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\\u0000x\",\"module\":\"m\"}",
		"{\"v\":2,\"t_ns\":1,\"event\":5,\"module\":\"m\"}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"info\",\"reason\":\"a\\u0000b\"}",
		"{\"v\":2,\"t_ns\":1,\"t_ns\":2,\"event\":\"load\",\"module\":\"m\"}",
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"x\":1,\"x\":2}",
	};
	size_t n_bad = sizeof(bad) / sizeof(bad[0]), n_long = 0;
	char *text = NULL, a63[64], comm15[16];
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	struct pml_report *rep;

	for (size_t i = 0; i < n_bad; i++)
		fprintf(f, "%s\n", bad[i]);
	/* Strings past their caps: a 10 KB module name, comm, reason, alias. */
	fprintf(f, "{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"%0*d\"}\n", 10000, 0);
	fprintf(f, "{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"%0*d\"}\n", 64, 0);
	fprintf(f, "{\"v\":2,\"t_ns\":1,\"event\":\"request\",\"alias\":\"a\",\"comm\":\"%0*d\"}\n", 32, 0);
	fprintf(f, "{\"v\":2,\"t_ns\":1,\"event\":\"info\",\"reason\":\"%0*d\"}\n", 1025, 0);
	fprintf(f, "{\"v\":2,\"t_ns\":1,\"event\":\"request\",\"alias\":\"%0*d\"}\n", 256, 0);
	n_long = 5;
	/* In range, at the edges; unknown members ignored. */
	memset(a63, 'a', 63);
	a63[63] = '\0';
	memset(comm15, 'c', 15);
	comm15[15] = '\0';
	fprintf(f, "{\"v\":2,\"t_ns\":4611686018427387904,\"event\":\"load\",\"cause\":\"prefetch\",\"module\":\"edge\","
		   "\"bytes\":1099511627776,\"ms\":1e7,\"confidence\":1,\"source\":\"pmld\","
		   "\"reason\":\"prediction: edge\"}\n");
	fprintf(f, "{\"v\":2,\"t_ns\":10,\"event\":\"request\",\"alias\":\"x\",\"pid\":4194304,"
		   "\"comm\":\"%s\",\"source\":\"tracefs\"}\n", comm15);
	fprintf(f, "{\"v\":2,\"t_ns\":11,\"event\":\"fail\",\"module\":\"%s\",\"errno\":4095,"
		   "\"source\":\"shim\"}\n", a63);
	fprintf(f, "{\"v\":2,\"t_ns\":12,\"event\":\"need\",\"alias\":\"x\",\"result\":\"error\",\"ms\":-0,"
		   "\"source\":\"shim\",\"later\":{\"x\":1}}\n");
	fprintf(f, "{\"v\":2,\"t_ns\":12,\"event\":\"need\",\"alias\":\"x\",\"result\":\"error\",\"ms\":0,"
		   "\"source\":\"shim\",\"later\":[1]}\n");
	fprintf(f, "{\"v\":2,\"t_ns\":13,\"event\":\"need\",\"alias\":\"x\",\"result\":\"error\",\"ms\":0,"
		   "\"source\":\"shim\",\"later\":\"ok\",\"reason\":\"%0*d\"}\n", 1024, 0);
	fclose(f);
	rep = load_mem(text, size);
	free(text);
	if (!rep)
		return;
	{
		const struct pml_report_summary *s = pml_report_summary(rep);
		const struct pml_report_event *e;

		/* The two with a nested member are not flat objects: malformed too. */
		CHECK(s->malformed == n_bad + n_long + 2);
		CHECK(s->records == 4);
		if (s->records != 4)
			fprintf(stderr, "  records %zu malformed %zu of %zu\n", s->records,
				s->malformed, n_bad + n_long + 2);
		e = pml_report_event(rep, 0); /* the request, t 10 */
		CHECK(e && e->kind == PML_EV_REQUEST && e->pid == 4194304);
		e = pml_report_event(rep, 1);
		CHECK(e && e->kind == PML_EV_FAIL && e->err == -4095 && strlen(e->module) == 63);
		e = pml_report_event(rep, 2);
		CHECK(e && e->kind == PML_EV_NEED && e->pid == 4194304 && e->pid_joined);
		CHECK(e && strlen(e->reason) == 1024);
		e = pml_report_event(rep, 3);
		CHECK(e && e->t_ns == 1ull << 62 && e->bytes == 1ll << 40 && e->ms == 1e7 &&
		      e->confidence == 1);
		CHECK(s->loads == 1 && s->predicted_loads == 1 && s->wasted == 1);
		CHECK(pml_report_n_warnings(rep) == 1);
		CHECK_STR(pml_report_warning(rep, 0)->code, "malformed-records");
		CHECK(strstr(pml_report_warning(rep, 0)->text,
			     "(the first at line 1: bytes not an integer in [0, 1 TiB])") != NULL);
		check_outputs(rep);
	}
	pml_report_free(rep);
}

/* A guest alias, reason and comm with terminal escapes, C1 controls, a bidi override,
 * DEL and invalid UTF-8: the text shows them as \\xNN, the JSON escapes them. */
static void test_hostile_strings(void)
{
	const char text[] =
		"{\"v\":2,\"t_ns\":1,\"event\":\"request\",\"alias\":\"\\u001b[2J\\u001b]0;pwned\\u0007\","
		"\"pid\":5,\"comm\":\"\\u009bevil\\u202e\",\"source\":\"tracefs\"}\n"
		"{\"v\":2,\"t_ns\":2,\"event\":\"need\",\"alias\":\"\\u001b[2J\\u001b]0;pwned\\u0007\","
		"\"result\":\"no-module\",\"reason\":\"x\\r\\nloads: 999 \x7f\xff\xc0\xaf\xed\xa0\x80"
		"\\ud800 \\ud83d\\ude00\",\"source\":\"shim\"}\n"
		"{\"v\":2,\"t_ns\":3,\"event\":\"info\",\"reason\":\"\xe2\x82\",\"source\":\"pmld\"}\n";
	struct pml_report *rep = load_str(text);
	char *out;
	size_t len;

	if (!rep)
		return;
	CHECK(pml_report_summary(rep)->records == 3);
	CHECK(pml_report_summary(rep)->malformed == 0);
	check_outputs(rep);
	out = render(rep, false);
	CHECK(out && !strchr(out, '\x1b') && !strchr(out, '\r') && !strchr(out, '\x07'));
	CHECK(out && strstr(out, "\\x1b[2J\\x1b]0;pwned\\x07"));
	CHECK(out && strstr(out, "x\\x0d\\x0aloads: 999 \\x7f\\xff\\xc0\\xaf\\xed\\xa0\\x80"));
	CHECK(out && strstr(out, "[\\xc2\\x9bevil\\xe2\\x80\\xae 5]"));
	CHECK(out && strstr(out, "\xf0\x9f\x98\x80")); /* a real character stays one */
	CHECK(out && !strstr(out, "\nloads: 999"));
	free(out);
	out = render_json(rep, NULL, false, &len);
	CHECK(out && strstr(out, "\"alias\":\"\\u001b[2J\\u001b]0;pwned\\u0007\""));
	CHECK(out && strstr(out, "x\\r\\nloads: 999 \\u007f\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd"
				 "\\ufffd\xef\xbf\xbd \xf0\x9f\x98\x80\""));
	CHECK(out && strstr(out, "\"reason\":\"\\ufffd\\ufffd\""));
	free(out);
	pml_report_free(rep);
}

static void test_lines(void)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	struct pml_report *rep;
	const char rec[] = "{\"v\":2,\"t_ns\":1,\"event\":\"info\",\"source\":\"pmld\"";

	/* Exactly the cap: kept; one byte more: malformed; far more: malformed. */
	fprintf(f, "%s%*s}\n", rec, (int)(PML_REPORT_MAX_LINE - sizeof(rec)), "");
	fprintf(f, "%s%*s}\n", rec, (int)(PML_REPORT_MAX_LINE - sizeof(rec) + 1), "");
	fprintf(f, "%s%*s}\n", rec, 200000, "");
	/* CRLF, a NUL inside a line, a zero-filled tail without a newline. */
	fprintf(f, "%s}\r\n", rec);
	fprintf(f, "%s,\"reason\":\"a", rec);
	fputc('\0', f);
	fprintf(f, "b\"}\n");
	fwrite("\0\0\0\0\0\0\0\0", 1, 8, f);
	fclose(f);
	rep = load_mem(text, size);
	free(text);
	if (!rep)
		return;
	CHECK(pml_report_summary(rep)->records == 2);
	CHECK(pml_report_summary(rep)->malformed == 4);
	CHECK(pml_report_n_warnings(rep) == 1 &&
	      strstr(pml_report_warning(rep, 0)->text, "line 2: a line longer than 64 KiB"));
	pml_report_free(rep);
}

/* Prefetches, denials and request joins, counted in one pass each. */
static void test_linear_semantics(void)
{
	const char text[] =
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"cause\":\"prefetch\",\"module\":\"m1\",\"reason\":\"prediction: a\",\"source\":\"pmld\"}\n"
		"{\"v\":2,\"t_ns\":2,\"event\":\"need\",\"module\":\"m1\",\"alias\":\"a1\",\"result\":\"present\",\"source\":\"shim\"}\n"
		"{\"v\":2,\"t_ns\":3,\"event\":\"load\",\"cause\":\"prefetch\",\"module\":\"m2\",\"reason\":\"prediction: b\",\"source\":\"pmld\"}\n"
		"{\"v\":2,\"t_ns\":4,\"event\":\"unload\",\"module\":\"m2\",\"source\":\"pmld\"}\n"
		"{\"v\":2,\"t_ns\":5,\"event\":\"need\",\"module\":\"m2\",\"alias\":\"a2\",\"result\":\"loaded\",\"source\":\"shim\"}\n"
		"{\"v\":2,\"t_ns\":6,\"event\":\"load\",\"cause\":\"prefetch\",\"module\":\"m3\",\"reason\":\"prediction: c\",\"source\":\"pmld\"}\n"
		"{\"v\":2,\"t_ns\":7,\"event\":\"used\",\"via\":\"refcount\",\"module\":\"m3\",\"reason\":\"used: m3 (refcount 1)\",\"source\":\"pmld\"}\n"
		"{\"v\":2,\"t_ns\":8,\"event\":\"load\",\"cause\":\"prefetch\",\"module\":\"m-5\",\"reason\":\"prediction: d\",\"source\":\"pmld\"}\n"
		"{\"v\":2,\"t_ns\":9,\"event\":\"need\",\"module\":\"m_5\",\"alias\":\"a5\",\"result\":\"present\",\"source\":\"shim\"}\n"
		"{\"v\":2,\"t_ns\":10,\"event\":\"request\",\"alias\":\"d1\",\"pid\":7,\"comm\":\"first\",\"source\":\"tracefs\"}\n"
		"{\"v\":2,\"t_ns\":11,\"event\":\"request\",\"alias\":\"d1\",\"pid\":8,\"comm\":\"second\",\"source\":\"tracefs\"}\n"
		"{\"v\":2,\"t_ns\":12,\"event\":\"deny\",\"module\":\"x\",\"alias\":\"d1\",\"source\":\"shim\"}\n"
		"{\"v\":2,\"t_ns\":13,\"event\":\"need\",\"alias\":\"d1\",\"result\":\"denied\",\"source\":\"shim\"}\n"
		"{\"v\":2,\"t_ns\":14,\"event\":\"deny\",\"module\":\"y\",\"alias\":\"d2\",\"source\":\"shim\"}\n"
		"{\"v\":2,\"t_ns\":15,\"event\":\"request\",\"alias\":\"d3\",\"source\":\"tracefs\"}\n"
		"{\"v\":2,\"t_ns\":16,\"event\":\"need\",\"alias\":\"d3\",\"result\":\"no-module\",\"source\":\"shim\"}\n"
		"{\"v\":2,\"t_ns\":17,\"event\":\"load\",\"cause\":\"prefetch\",\"module\":\"m4\",\"reason\":\"prediction: e\",\"source\":\"pmld\"}\n";
	struct pml_report *rep = load_str(text);
	const struct pml_report_summary *s;

	if (!rep)
		return;
	s = pml_report_summary(rep);
	CHECK(s->records == 17);
	/* m1 used (need), m2 unloaded first, m3 used (info), m-5 used (m_5), m4 at the end. */
	CHECK(s->predicted_loads == 5);
	CHECK(s->wasted == 2);
	/* d1: the need counts, its deny does not; d2: a deny alone. */
	CHECK(s->denied == 2);
	for (size_t i = 0; i < pml_report_n_events(rep); i++) {
		const struct pml_report_event *e = pml_report_event(rep, i);

		if (e->kind == PML_EV_NEED && !strcmp(e->alias, "d1")) {
			CHECK(e->pid == 8 && e->pid_joined);
			CHECK_STR(e->comm, "second");
		}
		if (e->kind == PML_EV_NEED && !strcmp(e->alias, "d3"))
			CHECK(e->pid == 0 && !e->pid_joined);
	}
	pml_report_free(rep);
}

/* CPU time, so that a busy machine does not count against the test. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* 200k forged lines naming 100k distinct modules (past the 65536 cap) and 50k aliases:
 * quadratic before (119 s to load, measured), O(n log n) now (0.2 s; 1.8 s under ASan).
 * The bound is loose so that a slow or sanitized build cannot fail it, and still far
 * below the quadratic time; the CPU time is printed. */
static void test_large_forged(void)
{
	bool valgrind = getenv("VALGRIND") != NULL;
	size_t pairs = valgrind ? 10000 : 100000, size = 0;
	char *text = NULL, *out = NULL;
	FILE *f = open_memstream(&text, &size);
	struct pml_report *rep = NULL;
	double t;
	int r;

	for (size_t i = 0; i < pairs; i++) {
		fprintf(f, "{\"v\":2,\"t_ns\":%zu,\"event\":\"load\",\"cause\":\"prefetch\",\"module\":\"m%zu\",\"bytes\":4096,"
			   "\"reason\":\"prediction: x\",\"source\":\"pmld\"}\n", 1000 + i, i);
		switch (i % 4) {
		case 0:
			fprintf(f, "{\"v\":2,\"t_ns\":%zu,\"event\":\"request\",\"alias\":\"a%zu\",\"pid\":5,"
				   "\"source\":\"tracefs\"}\n", 1000 + i, i);
			break;
		case 1:
			fprintf(f, "{\"v\":2,\"t_ns\":%zu,\"event\":\"need\",\"alias\":\"a%zu\",\"module\":"
				   "\"m%zu\",\"result\":\"loaded\",\"ms\":2,\"source\":\"shim\"}\n",
				1000 + i, i - 1, i);
			break;
		case 2:
			fprintf(f, "{\"v\":2,\"t_ns\":%zu,\"event\":\"deny\",\"alias\":\"a%zu\",\"module\":"
				   "\"m%zu\",\"source\":\"shim\"}\n", 1000 + i, i, i);
			break;
		default:
			fprintf(f, "{\"v\":2,\"t_ns\":%zu,\"event\":\"unload\",\"module\":\"m%zu\","
				   "\"source\":\"pmld\"}\n", 1000 + i, i - 3);
		}
	}
	fclose(f);
	t = now_s();
	{
		FILE *in = fmemopen(text, size, "r");

		r = in ? pml_report_load_file(in, &rep) : -ENOMEM;
		if (in)
			fclose(in);
	}
	printf("report: %zu forged lines loaded in %.3f s CPU\n", 2 * pairs, now_s() - t);
	if (r == 0) {
		pml_report_set_window(rep, 1000, 1000 + pairs);
		out = render(rep, true);
	}
	t = now_s() - t;
	printf("report: %zu forged lines, %zu distinct modules: load, window, JSON in %.3f s CPU\n",
	       2 * pairs, pairs, t);
	CHECK(r == 0);
	CHECK(out != NULL);
	CHECK(t < (valgrind ? 120 : 10));
	if (rep) {
		const struct pml_report_summary *s = pml_report_summary(rep);

		CHECK(s->records + s->dropped == 2 * pairs);
		CHECK(s->malformed == 0);
		if (!valgrind) {
			/* 100000 modules: the records of the last 34464 to appear are dropped. */
			CHECK(s->dropped > 0);
			CHECK(pml_report_n_warnings(rep) == 1);
			CHECK_STR(pml_report_warning(rep, 0)->code, "log-cut");
			CHECK(strstr(pml_report_warning(rep, 0)->text, "65536 distinct modules"));
		}
		CHECK(s->requests == (pairs + 3) / 4); /* no module: none dropped */
	}
	free(out);
	free(text);
	pml_report_free(rep);
}

/* Past PML_REPORT_MAX_RECORDS: the rest is dropped and the report says the log was cut.
 * A million lines: skipped under valgrind. */
static void test_record_cap(void)
{
	size_t n = PML_REPORT_MAX_RECORDS + 5, size = 0;
	char *text = NULL;
	FILE *f;
	struct pml_report *rep;

	if (getenv("VALGRIND"))
		return;
	f = open_memstream(&text, &size);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "{\"v\":2,\"t_ns\":%zu,\"event\":\"info\"}\n", i);
	fclose(f);
	rep = load_mem(text, size);
	free(text);
	if (!rep)
		return;
	CHECK(pml_report_summary(rep)->records == PML_REPORT_MAX_RECORDS);
	CHECK(pml_report_summary(rep)->dropped == 5);
	CHECK(pml_report_n_warnings(rep) == 1 &&
	      strstr(pml_report_warning(rep, 0)->text,
		     "limits (1000000 records): 5 well-formed records were dropped, the first "
		     "at line 1000001"));
	pml_report_free(rep);
}

static void test_warnings(void)
{
	struct pml_report *rep = load("malformed.jsonl");
	char *out, code[40];
	size_t len;

	if (!rep)
		return;
	CHECK(pml_report_n_warnings(rep) == 1);
	CHECK(pml_report_add_warning(rep, "pmld-died",
				     "pmld died at %.1f s (%s): prefetches after it are missing",
				     3.5, "killed \x1b[31mred\n") == 0);
	CHECK(pml_report_add_warning(rep, "output-truncated", "stdout cut at %d KiB", 64) == 0);
	CHECK(pml_report_add_warning(rep, "", "x") == -EINVAL);
	CHECK(pml_report_add_warning(rep, "Bad", "x") == -EINVAL);
	CHECK(pml_report_add_warning(rep, "with space", "x") == -EINVAL);
	CHECK(pml_report_add_warning(rep, "a\x1b", "x") == -EINVAL);
	CHECK(pml_report_add_warning(rep, "abcdefghijklmnopqrstuvwxyz0123456", "x") == -EINVAL);
	CHECK(pml_report_add_warning(rep, NULL, "x") == -EINVAL);
	CHECK(pml_report_n_warnings(rep) == 3);
	CHECK_STR(pml_report_warning(rep, 1)->code, "pmld-died");
	CHECK(pml_report_warning(rep, 3) == NULL);
	out = render(rep, false);
	CHECK(out && strstr(out, "\nwarnings:\nwarning: malformed-records: 7 malformed lines "
				 "skipped (the first at line 2: not a flat JSON object); the "
				 "figures count only the 7 well-formed records\n"
				 "warning: pmld-died: pmld died at 3.5 s (killed \\x1b[31mred\\x0a): "
				 "prefetches after it are missing\n"
				 "warning: output-truncated: stdout cut at 64 KiB\n"));
	free(out);
	out = render_json(rep, NULL, false, &len);
	CHECK(out && strstr(out, ",\"warnings\":[{\"code\":\"malformed-records\",\"text\":\"7 "
				 "malformed lines skipped"));
	CHECK(out && strstr(out, "{\"code\":\"pmld-died\",\"text\":\"pmld died at 3.5 s (killed "
				 "\\u001b[31mred\\n): prefetches after it are missing\"},"
				 "{\"code\":\"output-truncated\",\"text\":\"stdout cut at 64 KiB\"}],"
				 "\"exit_status\":0"));
	CHECK(out && json_check(out, len));
	free(out);
	check_outputs(rep);
	/* The cap on their number and on a text's length. */
	for (int i = 3; i < PML_REPORT_MAX_WARNINGS; i++)
		CHECK(pml_report_add_warning(rep, "policy", "%0*d", 5000, i) == 0);
	CHECK(pml_report_add_warning(rep, "policy", "one too many") == -ENOSPC);
	CHECK(strlen(pml_report_warning(rep, 3)->text) == PML_REPORT_MAX_WARNING_TEXT);
	snprintf(code, sizeof(code), "%s", pml_report_warning(rep, 3)->code);
	CHECK_STR(code, "policy");
	check_outputs(rep);
	pml_report_free(rep);
	/* A clean log has none; the JSON says so with an empty array. */
	rep = load("reactive-sctp.jsonl");
	if (!rep)
		return;
	CHECK(pml_report_n_warnings(rep) == 0);
	out = render(rep, false);
	CHECK(out && !strstr(out, "warning"));
	free(out);
	out = render(rep, true);
	CHECK(out && strstr(out, "\"warnings\":[],\"exit_status\":3"));
	free(out);
	pml_report_free(rep);
}

static void test_extra_kv(void)
{
	struct pml_report *rep = load("reactive-sctp.jsonl");
	static const char out_bytes[] = "line 1\n\0line 2 \xc3\xa9";
	static const char err_bytes[] = "\xff\xfe\0";
	const struct pml_report_kv extra[] = {
		{.key = "policy", .value = "reactive \x1b"},
		{.key = "stdout", .value = out_bytes, .len = sizeof(out_bytes) - 1,
		 .type = PML_KV_BYTES},
		{.key = "stderr", .value = err_bytes, .len = 3, .type = PML_KV_BYTES},
		{.key = "empty", .value = "", .len = 0, .type = PML_KV_BYTES},
		{.key = "kvm", .value = "true", .type = PML_KV_BOOL},
		{.key = "odd", .value = "maybe", .type = PML_KV_BOOL},
		{.key = "wall_s", .value = "2.50", .type = PML_KV_RAW_NUMBER},
		{.key = "bad_num", .value = "nan", .type = PML_KV_RAW_NUMBER},
		{.key = "inf_num", .value = "1e999", .type = PML_KV_RAW_NUMBER},
		{0},
	};
	char *out;
	size_t len;

	if (!rep)
		return;
	out = render_json(rep, extra, false, &len);
	CHECK(out && json_check(out, len) && pml_utf8_valid(out, len));
	CHECK(out && strstr(out, "\"exit_status\":0,\"policy\":\"reactive \\u001b\","
				 "\"stdout\":\"line 1\\n\\u0000line 2 \xc3\xa9\","
				 "\"stderr\":\"//4A\",\"stderr_encoding\":\"base64\","
				 "\"empty\":\"\",\"kvm\":true,\"odd\":null,\"wall_s\":2.50,"
				 "\"bad_num\":null,\"inf_num\":null}"));
	free(out);
	out = render_json(rep, extra, true, &len);
	CHECK(out && json_check(out, len));
	free(out);
	pml_report_free(rep);
}

static void test_window_range(void)
{
	struct pml_report *rep = load("reactive-sctp.jsonl");
	const struct pml_report_summary *s;

	if (!rep)
		return;
	s = pml_report_summary(rep);
	CHECK(pml_report_set_window_s(rep, NAN, 1) == -ERANGE);
	CHECK(pml_report_set_window_s(rep, 1, INFINITY) == -ERANGE);
	CHECK(pml_report_set_window_s(rep, 1e300, 1) == -ERANGE);
	CHECK(pml_report_set_window_s(rep, -1, 1) == -ERANGE);
	CHECK(pml_report_set_window_s(rep, 4e9, 4e9) == -ERANGE);
	CHECK(pml_report_set_window(rep, 1ull << 63, 0) == -ERANGE);
	CHECK(s->t_start_ns == 1000000000ull); /* unchanged */
	CHECK(pml_report_set_window_s(rep, 2.0, 3.0) == 0);
	CHECK(s->t_start_ns == 2000000000ull && s->t_end_ns == 5000000000ull);
	CHECK(NEAR(s->avg_bytes, 1337507.84 / 3));
	pml_report_free(rep);
}

/* The prefetch tests' log lines: pmld's record of event ev about mod at t s (extra: more
 * members, each ending in ','), and the shim's need of mod, present, at 3 s. */
#define L(t, ev, mod, extra) "{\"v\":2,\"t_ns\":" #t "000000000,\"event\":\"" ev "\",\"module\":\"" mod "\"," extra "\"source\":\"pmld\"}\n"
#define NEED3(mod) "{\"v\":2,\"t_ns\":3000000000,\"event\":\"need\",\"module\":\"" mod "\",\"alias\":\"x\",\"result\":\"present\",\"source\":\"shim\"}\n"

/* The dependencies loaded for a prefetch (their load record's "for") are parted with it:
 * before its first use when it is used, never used when it is not (to their own unload or
 * the end); their time is in the byte-seconds, not in the prefetches' module-seconds. */
static void test_prefetch_dependencies(void)
{
#define D(p) "\"cause\":\"dependency\",\"for\":\"" p "\",\"bytes\":100,"
#define P "\"cause\":\"prefetch\",\"bytes\":1000,"
	const char text[] =
		L(1, "load", "d1", D("p1"))  /* p1's: used with it at 3: 2 s */
		L(1, "load", "p1", P)	     /* used by a need at 3: 2 s */
		L(1, "load", "d2", D("p2"))  /* p2's, unused: to its own unload at 6: 5 s */
		L(1, "load", "p2", P)	     /* unloaded at 4, unused: 3 s */
		L(2, "load", "d3", D("p-9")) /* for a module no record is of: not parted */
		NEED3("p1")
		L(4, "unload", "p2", "")
		L(6, "unload", "d2", "")
		L(9, "info", "z", "");
#undef D
#undef P
	struct pml_report *rep = load_str(text);
	const struct pml_report_summary *s;

	if (!rep)
		return;
	s = pml_report_summary(rep);
	CHECK(s->predicted_loads == 2 && s->wasted == 1);
	CHECK(NEAR(s->prefetch_exposure_s, 5.0));		/* p1 2 + p2 3 */
	CHECK(NEAR(s->prefetch_early_byte_s, 2000.0 + 200.0)); /* p1, d1 */
	CHECK(NEAR(s->prefetch_unused_byte_s, 3000.0 + 500.0)); /* p2, d2 */
	{
		size_t len;
		char *out = render_json(rep, NULL, false, &len);

		CHECK(out && strstr(out, "\"for\":\"p1\""));
		free(out);
	}
	pml_report_free(rep);
}

/* Prefetches counted by their basis: the model's own, the rules', and those not said. */
static void test_prefetch_basis(void)
{
#define P(b) "\"cause\":\"prefetch\",\"basis\":\"" b "\",\"bytes\":1000,"
	const char text[] =
		L(1, "load", "m1", P("model"))  /* used by a need */
		L(1, "load", "m2", P("model"))  /* never used */
		L(1, "load", "n1", P("names"))  /* used by pmld's used record */
		L(1, "load", "s1", P("slots"))  /* never used */
		L(1, "load", "x1", "\"cause\":\"prefetch\",") /* basis not said */
		NEED3("m1")
		L(3, "used", "n1", "\"via\":\"request\",")
		L(9, "info", "z", "");
#undef P
	struct pml_report *rep = load_str(text);
	const struct pml_report_summary *s;

	if (!rep)
		return;
	s = pml_report_summary(rep);
	CHECK(s->predicted_loads == 5 && s->wasted == 3);
	CHECK(s->predicted_by[PML_BASIS_MODEL] == 2 && s->wasted_by[PML_BASIS_MODEL] == 1);
	CHECK(s->predicted_by[PML_BASIS_NAMES] == 1 && s->wasted_by[PML_BASIS_NAMES] == 0);
	CHECK(s->predicted_by[PML_BASIS_SLOTS] == 1 && s->wasted_by[PML_BASIS_SLOTS] == 1);
	CHECK(s->predicted_by[PML_BASIS_NONE] == 1 && s->wasted_by[PML_BASIS_NONE] == 1);
	CHECK(s->predicted_by[PML_BASIS_LIST] == 0);
	{
		size_t len;
		char *out = render_json(rep, NULL, false, &len);

		CHECK(out && strstr(out, "\"model_prefetches\":2,\"model_wasted\":1"));
		CHECK(out && strstr(out, "\"basis\":\"slots\""));
		free(out);
		out = render(rep, false);
		CHECK(out && strstr(out, "by basis: model 2 (1 wasted), names 1 (0 wasted), "
					 "slots 1 (1 wasted)\n"));
		free(out);
	}
	pml_report_free(rep);
}

/* A prefetch's exposure: loaded before its first use (a need, pmld's used record), or until
 * its unload or the window's end when never used; loads of other causes, info records and
 * what lies outside the window do not count. */
static void test_prefetch_exposure(void)
{
#define P "\"cause\":\"prefetch\",\"bytes\":1000,"
	const char text[] =
		L(1, "load", "a", P)	 /* used by a need at 3: 2 s */
		L(1, "load", "c", P)	 /* unloaded at 4: 3 s */
		L(1, "load", "m", "\"cause\":\"miss\",")	 /* not a prefetch */
		L(2, "load", "b", P)	 /* never used: to the end */
		L(2, "info", "b", "\"reason\":\"used: b\",")	 /* words, not a use */
		NEED3("a")
		L(4, "unload", "c", "")
		L(4, "load", "d", P)	 /* used at 6 (pmld's used): 2 s */
		L(6, "used", "d", "\"via\":\"refcount\",")
		L(9, "info", "z", "");
#undef P
	struct pml_report *rep = load_str(text);
	const struct pml_report_summary *s;

	if (!rep)
		return;
	s = pml_report_summary(rep);
	CHECK(s->predicted_loads == 4 && s->wasted == 2);
	/* window [1 s, 9 s]: a 2 + c 3 + b 7 + d 2 */
	CHECK(NEAR(s->prefetch_exposure_s, 14.0));
	/* of 1000 bytes each: a and d then used (4000 B.s), c and b never (10000) */
	CHECK(NEAR(s->prefetch_early_byte_s, 4000.0) && NEAR(s->prefetch_unused_byte_s, 10000.0));
	/* window [2.5 s, 5 s]: a 0.5 + c 1.5 + b 2.5 + d 1 */
	CHECK(pml_report_set_window(rep, 2500000000ull, 5000000000ull) == 0);
	s = pml_report_summary(rep);
	CHECK(NEAR(s->prefetch_exposure_s, 5.5));
	CHECK(NEAR(s->prefetch_early_byte_s, 1500.0) && NEAR(s->prefetch_unused_byte_s, 4000.0));
	{
		size_t len;
		char *out = render_json(rep, NULL, false, &len);

		CHECK(out && strstr(out, "\"prefetch_exposure_s\":5.5"));
		CHECK(out && strstr(out, "\"prefetch_early_byte_s\":1500") &&
		      strstr(out, "\"prefetch_unused_byte_s\":4000"));
		free(out);
	}
	pml_report_free(rep);
}
#undef L
#undef NEED3

/* Read by kind and typed field, never by the reason's words: a load whose reason says
 * "prediction" but whose cause is not prefetch is no prefetch; an info record saying
 * "used: m" or "stop: ..." is neither a use nor the stop; the typed ones are. A log of
 * version 1 (no "v") is refused line by line, and the warning says so. */
static void test_typed_not_prose(void)
{
	const char text[] =
		"{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"cause\":\"api\",\"module\":\"a\","
		"\"reason\":\"prediction: looks like one\",\"source\":\"pmld\"}\n"
		"{\"v\":2,\"t_ns\":2,\"event\":\"load\",\"cause\":\"prefetch\",\"module\":\"b\","
		"\"reason\":\"words\",\"source\":\"pmld\"}\n"
		"{\"v\":2,\"t_ns\":3,\"event\":\"load\",\"cause\":\"prefetch\",\"module\":\"c\","
		"\"source\":\"pmld\"}\n"
		"{\"v\":2,\"t_ns\":4,\"event\":\"info\",\"module\":\"b\",\"reason\":\"used: b\","
		"\"source\":\"pmld\"}\n"
		"{\"v\":2,\"t_ns\":5,\"event\":\"used\",\"via\":\"module-get\",\"module\":\"c\","
		"\"source\":\"pmld\"}\n"
		"{\"v\":2,\"t_ns\":6,\"event\":\"info\",\"ms\":99,\"bytes\":99,"
		"\"reason\":\"stop: cpu 99 ms\",\"source\":\"pmld\"}\n"
		"{\"v\":2,\"t_ns\":7,\"event\":\"stop\",\"ms\":12.5,\"bytes\":4096,"
		"\"worker_ms\":2.5,\"source\":\"pmld\"}\n";
	struct pml_report *rep = load_str(text);
	const struct pml_report_summary *s;
	char *out;
	size_t len;

	if (!rep)
		return;
	s = pml_report_summary(rep);
	CHECK(s->records == 7 && s->malformed == 0);
	CHECK(s->predicted_loads == 2); /* b and c, not a */
	CHECK(s->wasted == 1);		/* b: its "used:" words are an info record */
	CHECK(NEAR(s->agent_cpu_ms, 12.5) && s->agent_maxrss_bytes == 4096);
	out = render_json(rep, NULL, false, &len);
	CHECK(out && strstr(out, "\"event\":\"used\",\"module\":\"c\",\"via\":\"module-get\""));
	CHECK(out && strstr(out, "\"worker_ms\":2.5"));
	CHECK(out && strstr(out, "{\"module\":\"a\",\"t_ns\":1,\"cause\":\"api\""));
	free(out);
	out = render(rep, false);
	CHECK(out && strstr(out, "prefetches: 2 loaded by prediction, 1 wasted"));
	CHECK(out && strstr(out, "  used     c "));
	free(out);
	pml_report_free(rep);

	/* version 1: every line refused, the first named */
	rep = load_str("{\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"source\":\"pmld\","
		       "\"reason\":\"prediction: x\"}\n"
		       "{\"t_ns\":2,\"event\":\"info\",\"reason\":\"stop: cpu 1 ms\"}\n"
		       "{\"v\":3,\"t_ns\":3,\"event\":\"info\"}\n");
	if (!rep)
		return;
	s = pml_report_summary(rep);
	CHECK(s->records == 0 && s->malformed == 3 && s->predicted_loads == 0);
	CHECK(pml_report_n_warnings(rep) == 1 &&
	      strstr(pml_report_warning(rep, 0)->text,
		     "3 malformed lines skipped (the first at line 1: no log version (\"v\"): a "
		     "log of a pml before version 2 of the log, which this pml does not read "
		     "(rerun with this pml))"));
	pml_report_free(rep);
}

int main(void)
{
	test_reactive();
	test_idle_unload();
	test_malformed();
	test_edges();
	test_mutations();
	test_ranges();
	test_hostile_strings();
	test_lines();
	test_linear_semantics();
	test_large_forged();
	test_record_cap();
	test_warnings();
	test_extra_kv();
	test_window_range();
	test_typed_not_prose();
	test_prefetch_exposure();
	test_prefetch_dependencies();
	test_prefetch_basis();
	return unit_done("run-report");
}
