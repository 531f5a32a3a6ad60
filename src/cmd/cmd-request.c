/* pml request: ask the resource manager of a running pmld for a module, as a program or a
 * script would before it needs it. A thin client of the resource API
 * (resource/resource-api.h, doc/resource-api.md): one REQUEST line, the answer in words.
 * Exit status 0 when granted, 1 when refused or on an error, 2 on a bad command line. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd-options.h"
#include "cmd/commands.h"
#include "resource/resource-api.h"

/* getopt_long and --help are both made from this table (cmd-options.h). */
static const struct cmd_option options[] = {
	{'p', "priority", "KIND",
	 "critical (a program waits on it now), dependency, or\nprediction (default)"},
	{'c', "confidence", "P", "probability of the need, 0..1 (default 1)"},
	{'u', "urgency", "MS", "time until the need in ms (default 0: now)"},
	{'b', "bytes", "N", "expected resident bytes (default: pmld's estimate)"},
	{'l', "load-ms", "MS", "expected load time (default: pmld's estimate)"},
	{'s', "socket", "PATH",
	 "the resource API socket (default $PML_RESOURCE_SOCKET or\n" PML_RESOURCE_SOCKET_DEFAULT
	 ")"},
	{'h', "help", NULL, "this text"},
	{0},
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pml request MODULE [--priority critical|dependency|prediction]\n"
		"                   [--confidence P] [--urgency MS] [--bytes N] [--load-ms MS]\n"
		"                   [--socket PATH]\n\n"
		"Ask the running pmld's resource manager for MODULE. It grants the request,\n"
		"grants it after evicting idle modules of lower value, or refuses it with a\n"
		"reason (budget, load time, priority).\n");
	cmd_options_help(f, options);
}

int cmd_request(int argc, char **argv)
{
	struct cmd_getopt g;
	struct pml_res_request req = {.bytes = -1, .load_ms = -1, .kind = PML_RES_PREDICTION,
				      .confidence = 1};
	const char *path = getenv("PML_RESOURCE_SOCKET");
	char line[PML_RES_LINE_MAX], answer[PML_RES_LINE_MAX * 8];
	struct pml_res_reply rep;
	int c, fd, n, k;

	cmd_getopt_init(&g, options, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case 'p':
			k = pml_res_kind_from_name(optarg);
			if (k < 0) {
				fprintf(stderr, "pml: request: --priority '%s': use critical, "
						"dependency or prediction\n", optarg);
				return PML_EXIT_USAGE;
			}
			req.kind = k;
			break;
		case 'c':
			if (cmd_num("pml: request", PML_NUMOPT_CONFIDENCE, optarg,
				    &req.confidence) < 0)
				return PML_EXIT_USAGE;
			break;
		case 'u':
			if (cmd_num("pml: request", PML_NUMOPT_URGENCY, optarg, &req.urgency_ms) < 0)
				return PML_EXIT_USAGE;
			break;
		case 'b':
			if (cmd_num_i64("pml: request", PML_NUMOPT_BYTES, optarg, &req.bytes) < 0)
				return PML_EXIT_USAGE;
			break;
		case 'l':
			if (cmd_num("pml: request", PML_NUMOPT_LOAD_MS, optarg, &req.load_ms) < 0)
				return PML_EXIT_USAGE;
			break;
		case 's':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return PML_EXIT_OK;
		default:
			usage(stderr);
			return PML_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, optind == argc ? "pml: request: which module?\n" :
						 "pml: request: one module at a time\n");
		usage(stderr);
		return PML_EXIT_USAGE;
	}
	req.module = argv[optind];
	if (pml_res_request_format(&req, line, sizeof(line)) < 0) {
		fprintf(stderr, "pml: request: '%s' is not a module name\n", req.module);
		return PML_EXIT_USAGE;
	}
	if (!path || !*path)
		path = PML_RESOURCE_SOCKET_DEFAULT;
	fd = pml_resource_client_connect(path);
	if (fd < 0) {
		fprintf(stderr, "pml: request: %s: %s%s\n", path, strerror(-fd),
			fd == -ENOENT || fd == -ECONNREFUSED ? " (is pmld running?)" : "");
		return PML_EXIT_FAIL;
	}
	n = pml_resource_client_call(fd, line, answer, sizeof(answer), 0);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "pml: request: %s: %s\n", path, strerror(-n));
		return PML_EXIT_FAIL;
	}
	if (pml_res_reply_parse(answer, &rep) < 0) {
		fprintf(stderr, "pml: request: unexpected answer: %s\n", answer);
		return PML_EXIT_FAIL;
	}
	if (rep.ok && !strcmp(rep.word, "evict")) {
		printf("%s: granted after evicting %s (priority %.3f)%s%s\n", req.module,
		       rep.evict, rep.priority, *rep.text ? ": " : "", rep.text);
		return PML_EXIT_OK;
	}
	if (rep.ok) {
		printf("%s: granted (priority %.3f)%s%s\n", req.module, rep.priority,
		       *rep.text ? ": " : "", rep.text);
		return PML_EXIT_OK;
	}
	if (!strcmp(rep.word, "refused")) {
		fprintf(stderr, "pml: request: %s: refused (%s)%s%s\n", req.module, rep.reason,
			*rep.text ? ": " : "", rep.text);
		return PML_EXIT_FAIL;
	}
	fprintf(stderr, "pml: request: %s: %s\n", req.module, answer);
	return PML_EXIT_FAIL;
}
