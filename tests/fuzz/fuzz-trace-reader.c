/* libFuzzer target for the trace reader: any byte string is opened as a trace file and
 * read to its end or its first damage; every record handed out is decoded and formatted
 * both ways. The reader must never crash, hang, leak or read out of bounds (ASan/UBSan),
 * whatever the input. Build and run: make fuzz (FUZZ_TIME seconds, default 20). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/trace-decode.h"
#include "trace/trace-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pml_trace_reader *r = NULL;
	const struct pml_tev_hdr *e;
	struct pml_trace_decoded d;
	struct pml_trace_reader_stats st;
	struct pml_json j;
	char line[2048];
	FILE *f;

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (!size)
		return 0;
	f = fmemopen((void *)data, size, "rb");
	if (!f)
		return 0;
	if (pml_trace_reader_new(f, "fuzz", &r) == 0) {
		while (pml_trace_reader_next(r, &e) == 1) {
			if (pml_trace_event_decode(e, e->size, &d))
				__builtin_trap(); /* the reader only hands out valid records */
			pml_trace_decoded_format(&d, 0, line, sizeof(line));
			pml_json_init(&j, devnull, false);
			pml_trace_decoded_json(&d, &j, NULL);
		}
	}
	if (r) {
		pml_trace_reader_stats(r, &st);
		(void)pml_trace_reader_error(r);
	}
	pml_trace_reader_free(r);
	return 0;
}
