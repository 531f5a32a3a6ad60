/* pml trace: record a program's behaviour with the eBPF tracer (in the guest) and dump
 * trace files as text or JSON lines. Thin: the format lives in trace/trace-file.h (its
 * writer trace/trace-writer.c, its reader trace/trace-reader.c), the decoding in
 * trace/trace-decode.c, the tracer in trace/tracer.c. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd-options.h"
#include "cmd/commands.h"
#include "trace/trace-decode.h"
#include "trace/trace-file.h"
#include "trace/tracer.h"
#include "util/json.h"
#include "util/log.h"

#define STR_(x) #x
#define STR(x) STR_(x)

enum {
	OPT_STORED = CMD_OPT_LONG_ONLY,
	OPT_RINGBUF,
	OPT_SAMPLE_HZ,
	OPT_NO_SAMPLES,
	OPT_FAULT_MS,
	OPT_NO_FAULTS,
	OPT_NO_OBJECTS,
	OPT_STATS,
};

/* getopt_long and --help are both made from these tables (cmd-options.h). */
static const struct cmd_option record_options[] = {
	{'o', "output", "FILE", "where to write the trace (default trace.bin)"},
	{'a', "all", NULL, "trace the whole machine, not only CMD's process tree"},
	{OPT_STORED, "stored", NULL, "do not compress blocks"},
	{OPT_RINGBUF, "ringbuf", "MB", "ring buffer size (default 16)"},
	{OPT_SAMPLE_HZ, "sample-hz", "HZ",
	 "sample the user-space instruction pointer HZ times a second\nper CPU (default " STR(
		 PML_TRACER_DEFAULT_SAMPLE_HZ) "), resolved to object:function"},
	{OPT_NO_SAMPLES, "no-samples", NULL, "no instruction-pointer samples"},
	{OPT_FAULT_MS, "fault-ms", "MS",
	 "page faults per region class every MS ms per process\n(default " STR(
		 PML_TRACER_DEFAULT_FAULT_MS) ")"},
	{OPT_NO_FAULTS, "no-faults", NULL, "no page-fault counts"},
	{OPT_NO_OBJECTS, "no-objects", NULL, "no full paths of mapped files"},
	{OPT_STATS, "stats", NULL, "print each BPF program's runs and time (kernel BPF stats)"},
	{'v', "verbose", NULL, "libbpf's and the verifier's messages too"},
	{'h', "help", NULL, "this text"},
	{0},
};

static const struct cmd_option dump_options[] = {
	{'j', "json", NULL, "JSON lines: a header object, the events, an end object"},
	{'h', "help", NULL, "this text"},
	{0},
};

enum { USAGE_RECORD = 1 << 0, USAGE_DUMP = 1 << 1 };

/* The sub-verbs in which: pml trace --help shows both, pml trace record --help its own. */
static void usage(FILE *f, int which)
{
	fprintf(f,
		"Usage: pml trace record [-o FILE] [--all] [--stored] [--sample-hz HZ] [--no-samples]\n"
		"                        [--fault-ms MS] [--no-faults] [--no-objects] [--stats]\n"
		"                        -- CMD [ARGS...]\n"
		"       pml trace dump [--json] FILE\n\n");
	if (which & USAGE_RECORD) {
		fprintf(f, "record  run CMD under the eBPF tracer (needs root and a kernel with BTF; in\n"
			   "        the guest) and write its process tree's events to FILE (trace.bin)\n");
		cmd_options_help(f, record_options);
	}
	if (which & USAGE_DUMP) {
		fprintf(f, "dump    print a trace file, one event a line; stops at damage with a message\n"
			   "        naming the block and byte offset, after printing every intact event\n");
		cmd_options_help(f, dump_options);
	}
}

static void dump_header_text(const char *path, const struct pml_trace_header *h)
{
	printf("# pml trace %s: format %" PRIu32 ", events v%" PRIu32 ", kernel %s, boot %s\n",
	       path, h->version, h->event_version, h->kernel_release[0] ? h->kernel_release : "?",
	       h->boot_id[0] ? h->boot_id : "?");
	printf("# clock %s, start %.6f s, %s", h->clock_id == CLOCK_MONOTONIC ? "monotonic" : "?",
	       h->start_ns / 1e9, h->flags & PML_TRACE_F_ALL ? "whole machine" : "process tree");
	if (!(h->flags & PML_TRACE_F_ALL))
		printf(" of pid %" PRIu32, h->root_pid);
	printf("\n");
	if (h->command[0])
		printf("# command: %s\n", h->command);
}

static void dump_header_json(struct pml_json *j, const struct pml_trace_header *h)
{
	pml_json_obj_begin(j, NULL);
	pml_json_str(j, "kind", "header");
	pml_json_int(j, "version", h->version);
	pml_json_int(j, "event_version", h->event_version);
	pml_json_str(j, "kernel_release", h->kernel_release);
	pml_json_str(j, "boot_id", h->boot_id);
	pml_json_str(j, "clock", h->clock_id == CLOCK_MONOTONIC ? "monotonic" : "unknown");
	pml_json_int(j, "start_ns", (int64_t)h->start_ns);
	pml_json_int(j, "start_realtime_ns", (int64_t)h->start_realtime_ns);
	pml_json_bool(j, "all", h->flags & PML_TRACE_F_ALL);
	pml_json_int(j, "root_pid", h->root_pid);
	pml_json_str(j, "command", h->command);
	pml_json_obj_end(j);
	fputc('\n', stdout);
}

static int cmd_trace_dump(int argc, char **argv)
{
	struct cmd_getopt g;
	struct pml_trace_reader *r = NULL;
	struct pml_trace_reader_stats st;
	const struct pml_tev_hdr *e;
	const struct pml_trace_header *h;
	struct pml_trace_decoded d;
	struct pml_json j;
	bool json = false;
	const char *path;
	char line[2048];
	int c, rc;

	cmd_getopt_init(&g, dump_options, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout, USAGE_DUMP);
			return PML_EXIT_OK;
		default:
			usage(stderr, USAGE_DUMP);
			return PML_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "pml: trace dump: expected one FILE\n");
		return PML_EXIT_USAGE;
	}
	path = argv[optind];
	rc = pml_trace_reader_open(path, &r);
	if (rc) {
		if (r)
			fprintf(stderr, "pml: trace dump: %s\n", pml_trace_reader_error(r));
		else
			fprintf(stderr, "pml: trace dump: %s: %s\n", path, strerror(-rc));
		pml_trace_reader_free(r);
		return rc == -ENOENT || rc == -EACCES ? PML_EXIT_FAIL : PML_EXIT_USAGE;
	}
	h = pml_trace_reader_header(r);
	pml_json_init(&j, stdout, false);
	if (json)
		dump_header_json(&j, h);
	else
		dump_header_text(path, h);
	while ((rc = pml_trace_reader_next(r, &e)) == 1) {
		if (pml_trace_event_decode(e, e->size, &d))
			continue; /* the reader checked it; cannot happen */
		if (json) {
			pml_json_init(&j, stdout, false);
			pml_trace_decoded_json(&d, &j, NULL);
			fputc('\n', stdout);
		} else {
			pml_trace_decoded_format(&d, h->start_ns, line, sizeof(line));
			puts(line);
		}
	}
	pml_trace_reader_stats(r, &st);
	if (json) {
		pml_json_init(&j, stdout, false);
		pml_json_obj_begin(&j, NULL);
		pml_json_str(&j, "kind", "end");
		pml_json_bool(&j, "complete", st.complete);
		pml_json_int(&j, "events", (int64_t)st.events);
		pml_json_int(&j, "blocks", (int64_t)st.blocks);
		if (st.complete) {
			pml_json_int(&j, "dropped", (int64_t)st.end.dropped);
			pml_json_int(&j, "end_ns", (int64_t)st.end.end_ns);
		} else {
			pml_json_str(&j, "error", pml_trace_reader_error(r));
		}
		pml_json_obj_end(&j);
		fputc('\n', stdout);
	} else if (st.complete) {
		printf("# end: %" PRIu64 " events in %" PRIu64 " blocks, %" PRIu64
		       " dropped, %.6f s\n", st.events, st.blocks, st.end.dropped,
		       st.end.end_ns > h->start_ns ? (st.end.end_ns - h->start_ns) / 1e9 : 0.0);
	} else {
		printf("# incomplete: %" PRIu64 " events in %" PRIu64 " intact blocks\n",
		       st.events, st.blocks);
	}
	fflush(stdout);
	if (rc < 0)
		fprintf(stderr, "pml: trace dump: %s\n", pml_trace_reader_error(r));
	else if (st.complete && st.end.dropped)
		fprintf(stderr, "pml: trace dump: %s: %" PRIu64 " events were dropped while recording "
			"(ring buffer full; try --ringbuf)\n", path, st.end.dropped);
	pml_trace_reader_free(r);
	return rc < 0 ? PML_EXIT_FAIL : PML_EXIT_OK;
}

static int cmd_trace_record(int argc, char **argv)
{
	struct cmd_getopt g;
	struct pml_tracer_opts o = {.output = "trace.bin"};
	unsigned long v;
	struct pml_tracer_result res;
	int c, rc;

	cmd_getopt_init(&g, record_options, "+");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case 'o':
			o.output = optarg;
			break;
		case 'a':
			o.flags |= PML_TRACER_ALL;
			break;
		case OPT_STORED:
			o.flags |= PML_TRACER_STORED;
			break;
		case OPT_RINGBUF:
		{
			int64_t bytes;

			if (cmd_num_i64("pml: trace record", PML_NUMOPT_RINGBUF, optarg, &bytes) < 0)
				return PML_EXIT_USAGE;
			if (bytes & (bytes - 1) || bytes % 4096) {
				fprintf(stderr, "pml: trace record: --ringbuf '%s': not a power of two "
						"of pages (e.g. 4, 16, 64 MiB)\n", optarg);
				return PML_EXIT_USAGE;
			}
			o.ringbuf_bytes = (size_t)bytes;
		}
			break;
		case OPT_SAMPLE_HZ:
		case OPT_FAULT_MS:
		{
			int64_t n;

			if (cmd_num_i64("pml: trace record",
					c == OPT_SAMPLE_HZ ? PML_NUMOPT_SAMPLE_HZ : PML_NUMOPT_FAULT_MS, optarg,
					&n) < 0)
				return PML_EXIT_USAGE;
			v = (unsigned long)n;
		}
			if (c == OPT_SAMPLE_HZ)
				o.sample_hz = (unsigned)v;
			else
				o.fault_interval_ms = (unsigned)v;
			break;
		case OPT_NO_SAMPLES:
			o.flags |= PML_TRACER_NO_SAMPLES;
			break;
		case OPT_NO_FAULTS:
			o.flags |= PML_TRACER_NO_FAULTS;
			break;
		case OPT_NO_OBJECTS:
			o.flags |= PML_TRACER_NO_OBJECTS;
			break;
		case OPT_STATS:
			o.flags |= PML_TRACER_BPF_STATS;
			break;
		case 'v':
			pml_set_log_level(PML_LOG_DEBUG);
			break;
		case 'h':
			usage(stdout, USAGE_RECORD);
			return PML_EXIT_OK;
		default:
			usage(stderr, USAGE_RECORD);
			return PML_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "pml: trace record: expected a command after --\n");
		return PML_EXIT_USAGE;
	}
	o.argv = argv + optind;
	rc = pml_tracer_record(&o, &res);
	if (rc < 0) {
		fprintf(stderr, "pml: trace record: %s: %s\n", o.output, strerror(-rc));
		return PML_EXIT_FAIL;
	}
	fprintf(stderr, "pml: trace record: %s: %" PRIu64 " events, %" PRIu64 " dropped, %.3f s (tracer CPU "
		"%.3f s while it ran, %.3f s in all)\n", o.output, res.events, res.dropped,
		res.seconds, res.tracer_cpu_s, res.total_cpu_s);
	fprintf(stderr, "pml: trace record: recorded: system calls, processes, module tracepoints%s%s%s%s\n",
		res.features & PML_TRACER_F_SAMPLES ? ", ip samples" : "",
		res.features & PML_TRACER_F_FAULTS ? ", page faults (by vma)"
		: res.features & PML_TRACER_F_FAULTS_TP ? ", page faults (by mm fields)" : "",
		res.features & PML_TRACER_F_OBJECTS ? ", mapped files' paths"
		: res.features & PML_TRACER_F_SAMPLE_OBJECTS ? ", sampled files' paths" : "",
		res.features & PML_TRACER_F_OBJECTS_WALK ? " (dentry walk)" : "");
	if (res.features & PML_TRACER_F_SAMPLES)
		fprintf(stderr, "pml: trace record: %" PRIu64 " samples, %" PRIu64 " resolved to a function\n",
			res.samples, res.samples_named);
	for (size_t i = 0; i < res.n_progs; i++)
		if (res.progs[i].runs)
			fprintf(stderr, "pml: trace record: bpf %-18s %10" PRIu64 " runs %12.3f ms %8.1f ns/run\n",
				res.progs[i].name, res.progs[i].runs, res.progs[i].ns / 1e6,
				(double)res.progs[i].ns / (double)res.progs[i].runs);
	if (res.dropped)
		fprintf(stderr, "pml: trace record: %" PRIu64 " events were dropped (ring buffer full); "
			"the trace is incomplete: try --ringbuf with more MB\n", res.dropped);
	/* the traced command's status is ours, as time(1) does */
	if (WIFEXITED(res.status))
		return WEXITSTATUS(res.status);
	return 128 + WTERMSIG(res.status);
}

int cmd_trace(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout, USAGE_RECORD | USAGE_DUMP);
		return argc < 2 ? PML_EXIT_USAGE : PML_EXIT_OK;
	}
	if (!strcmp(argv[1], "dump")) {
		argv[1] = (char *)"pml: trace dump"; /* getopt_long's prefix (commands.h) */
		return cmd_trace_dump(argc - 1, argv + 1);
	}
	if (!strcmp(argv[1], "record")) {
		argv[1] = (char *)"pml: trace record";
		return cmd_trace_record(argc - 1, argv + 1);
	}
	fprintf(stderr, "pml: trace: unknown subcommand '%s'\n", argv[1]);
	usage(stderr, USAGE_RECORD | USAGE_DUMP);
	return PML_EXIT_USAGE;
}
