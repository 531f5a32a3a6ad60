/* libFuzzer target for the run report (src/run/run-report.c) and the JSON writer under it:
 * any byte string is read as a decision log, a window is set from its first bytes, a
 * warning carrying guest bytes is added, and the report is printed as text and as JSON
 * (compact and pretty, with extra members of every type). It must never crash, hang, leak
 * or trip ASan/UBSan, the JSON must be valid JSON in valid UTF-8 (tests/unit/json-check.h)
 * and the text must hold no byte a terminal acts on. Each line the log's parser
 * (pml_event_rec_parse) accepts must also survive a round trip: written again by the log's
 * writer and parsed again, it is the same record. Build and run: make fuzz-report
 * (FUZZ_TIME seconds); seeds: the .jsonl logs of tests/fixtures/agent/. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/json-check.h"
#include "run/run-report.h"
#include "util/event-log.h"
#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json(const struct pml_report *rep, const struct pml_report_kv *extra,
		       bool pretty)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	pml_report_print_json(rep, f, 1, extra, pretty);
	fclose(f);
	if (!json_check(buf, len) || strlen(buf) != len)
		__builtin_trap(); /* invalid JSON, or a raw control byte or bad UTF-8 in it */
	free(buf);
}

static void check_text(const struct pml_report *rep)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	pml_report_print_text(rep, f);
	fclose(f);
	if (strlen(buf) != len || !pml_utf8_valid(buf, len))
		__builtin_trap();
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i], d = (unsigned char)buf[i + 1];

		if ((c < 0x20 && c != '\n') || c == 0x7f || (c == 0xc2 && d < 0xa0))
			__builtin_trap(); /* a control character reached the terminal */
	}
	free(buf);
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

/* Parse, write, parse again: the typed fields and strings must come back the same (numbers
 * are written rounded, so only their presence is compared). */
static void check_round_trip(const char *line)
{
	static char buf[64 * 1024];
	struct pml_event_parsed p, q;
	const struct pml_event_rec *a, *b;
	const char *why;
	int n;

	if (pml_event_rec_parse(line, &p, &why) < 0)
		return;
	n = pml_event_rec_format(&p.rec, buf, sizeof(buf));
	if (n <= 0)
		__builtin_trap(); /* a parsed record the writer cannot write */
	buf[n - 1] = '\0';
	if (pml_event_rec_parse(buf, &q, &why) < 0)
		__builtin_trap(); /* the writer wrote what the parser refuses */
	a = &p.rec;
	b = &q.rec;
	if (a->kind != b->kind || a->t_ns != b->t_ns || a->cause != b->cause ||
	    a->verdict != b->verdict || a->via != b->via || a->bytes != b->bytes ||
	    a->pid != b->pid || a->err != b->err || (a->ms < 0) != (b->ms < 0) ||
	    (a->confidence < 0) != (b->confidence < 0) || (a->priority < 0) != (b->priority < 0) ||
	    (a->worker_ms < 0) != (b->worker_ms < 0) || !same_str(a->module, b->module) ||
	    !same_str(a->alias, b->alias) || !same_str(a->result, b->result) ||
	    !same_str(a->reason, b->reason) || !same_str(a->source, b->source) ||
	    !same_str(a->comm, b->comm) || !same_str(a->refusal, b->refusal) ||
	    !same_str(a->policy, b->policy))
		__builtin_trap();
	pml_event_parsed_release(&q);
	pml_event_parsed_release(&p);
}

static void check_lines(const uint8_t *data, size_t size)
{
	char *line = malloc(PML_REPORT_MAX_LINE + 1);
	size_t start = 0;

	if (!line)
		return;
	for (size_t i = 0; i <= size; i++) {
		size_t len = i - start;

		if (i < size && data[i] != '\n')
			continue;
		if (len <= PML_REPORT_MAX_LINE && !memchr(data + start, '\0', len)) {
			memcpy(line, data + start, len);
			line[len] = '\0';
			check_round_trip(line);
		}
		start = i + 1;
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pml_report *rep = NULL;
	uint64_t w[2] = {0, 0};
	char tail[64];
	FILE *f;

	if (!size)
		return 0;
	check_lines(data, size);
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	if (pml_report_load_file(f, &rep) < 0) {
		fclose(f);
		return 0;
	}
	fclose(f);
	/* A window from the first 16 bytes (any values, in range or not), then the default. */
	if (size >= 16) {
		memcpy(w, data, 16);
		w[0] >>= data[0] & 63;
		w[1] >>= data[1] & 63;
	}
	pml_report_set_window(rep, w[0], w[1]);
	check_text(rep);
	check_json(rep, NULL, false);
	/* Guest bytes in a warning and in extra members of every type. */
	{
		size_t n = size < sizeof(tail) - 1 ? size : sizeof(tail) - 1;
		const struct pml_report_kv extra[] = {
			{.key = "s", .value = tail},
			{.key = "b", .value = (const char *)data, .len = size, .type = PML_KV_BYTES},
			{.key = "t", .value = tail, .type = PML_KV_BOOL},
			{.key = "n", .value = tail, .type = PML_KV_RAW_NUMBER},
			{0},
		};

		memcpy(tail, data + size - n, n);
		tail[n] = '\0';
		pml_report_add_warning(rep, "fuzz", "guest said %s", tail);
		pml_report_set_window(rep, 0, 0);
		check_text(rep);
		check_json(rep, extra, true);
	}
	pml_report_free(rep);
	return 0;
}
