/* The run report over fixture decision logs (tests/fixtures/agent/, .jsonl): a reactive sctp
 * run with a stall, an idle-unload run, a log with malformed lines. The expected figures are
 * worked out by hand in the comments. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/report.h"
#include "unit.h"

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
	const struct pml_report_kv extra[] = {{"policy", "reactive"}, {NULL, NULL}};

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
		char text[] = "{\"t_ns\":1,\"event\":\"base\"}\n{\"t_ns\":2,\"event\":\"load\"}\n"
			      "{\"t_ns\":3,\"event\":\"unload\",\"module\":\"never-loaded\","
			      "\"bytes\":100}\n"
			      "{\"t_ns\":4,\"event\":\"unload\",\"module\":\"never_loaded\"}\n";

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

int main(void)
{
	test_reactive();
	test_idle_unload();
	test_malformed();
	test_edges();
	test_mutations();
	return unit_done("report");
}
