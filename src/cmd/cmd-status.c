/* pml status: what the resource manager of a running pmld holds (budgets, counted module
 * bytes, the load-time bucket, the monitors, counters, the modules with their state and
 * value). A thin client of the resource API (resource/resource-api.h, doc/resource-api.md):
 * it sends STATUS and prints the JSON answer as is (--json) or as text. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd-options.h"
#include "cmd/commands.h"
#include "resource/resource-api.h"
#include "util/json.h"

#define STATUS_MAX (4 << 20)

/* getopt_long and --help are both made from this table (cmd-options.h). */
static const struct cmd_option options[] = {
	{'s', "socket", "PATH",
	 "the resource API socket (default $PML_RESOURCE_SOCKET or\n" PML_RESOURCE_SOCKET_DEFAULT
	 ")"},
	{'j', "json", NULL, "print the status as one JSON line"},
	{'h', "help", NULL, "this text"},
	{0},
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pml status [--socket PATH] [--json]\n\n"
		"Show the resource manager of the running pmld: the module-memory budget and\n"
		"what is counted against it, the load-time budget, memory/CPU/network as\n"
		"monitored, request counters and the loaded modules with their value.\n");
	cmd_options_help(f, options);
}

/* The flat object that follows "key": in json, parsed. Returns 0 or -ENOENT/-EINVAL. */
static int section(const char *json, const char *key, struct pml_json_flat *ret)
{
	char pat[64], *obj;
	const char *p, *end;
	int r;

	snprintf(pat, sizeof(pat), "\"%s\":{", key);
	p = strstr(json, pat);
	if (!p)
		return -ENOENT;
	p += strlen(pat) - 1;
	end = strchr(p, '}');
	if (!end)
		return -EINVAL;
	obj = strndup(p, (size_t)(end - p + 1));
	if (!obj)
		return -ENOMEM;
	r = pml_json_flat_parse(obj, ret);
	free(obj);
	return r;
}

static void print_bytes(double b)
{
	if (b < 0)
		printf("?");
	else if (b >= 10.0 * (1 << 30))
		printf("%.1f GiB", b / (1 << 30));
	else if (b >= 1 << 20)
		printf("%.1f MiB", b / (1 << 20));
	else
		printf("%.1f KiB", b / 1024);
}

/* A number field, -1 when absent or null. */
static double num(const struct pml_json_flat *f, const char *key)
{
	const struct pml_json_field *fl = pml_json_flat_get(f, key);

	return fl && fl->type == PML_JSON_NUMBER ? fl->num : -1;
}

static int print_text(const char *json)
{
	struct pml_json_flat mem, cpu, net, cnt;
	const char *p;

	if (section(json, "memory", &mem) || section(json, "cpu", &cpu) ||
	    section(json, "net", &net) || section(json, "counters", &cnt)) {
		fprintf(stderr, "pml: status: the answer is not the status JSON pml knows\n");
		return PML_EXIT_FAIL;
	}
	printf("memory:   ");
	print_bytes(num(&mem, "counted"));
	printf(" counted of ");
	if (num(&mem, "budget") < 0)
		printf("no budget");
	else
		print_bytes(num(&mem, "budget")), printf(" budget");
	printf(", hard limit ");
	if (num(&mem, "hard") < 0)
		printf("none");
	else
		print_bytes(num(&mem, "hard"));
	printf("; ");
	print_bytes(num(&mem, "pending"));
	printf(" pending; base ");
	print_bytes(num(&mem, "base"));
	printf("\n          MemAvailable ");
	print_bytes(num(&mem, "available"));
	printf(" of ");
	print_bytes(num(&mem, "total"));
	printf(", /proc/modules ");
	print_bytes(num(&mem, "modules"));
	printf("\ncpu:      ");
	if (num(&cpu, "load_ms_per_s") < 0)
		printf("no load-time budget");
	else
		printf("load budget %.0f ms/s, %.0f of %.0f ms in the bucket",
		       num(&cpu, "load_ms_per_s"), pml_json_flat_num(&cpu, "tokens_ms", 0),
		       num(&cpu, "burst_ms"));
	if (num(&cpu, "busy") >= 0)
		printf("; cpus %.0f%% busy", num(&cpu, "busy") * 100);
	printf("\nnet:      ");
	if (num(&net, "rx_bytes_per_s") < 0)
		printf("not measured yet");
	else
		printf("rx %.1f KiB/s, tx %.1f KiB/s", num(&net, "rx_bytes_per_s") / 1024,
		       num(&net, "tx_bytes_per_s") / 1024);
	printf("\nrequests: %.0f (critical %.0f, dependency %.0f, prediction %.0f): %.0f granted "
	       "(%.0f after evictions, %.0f over the budget), %.0f refused; %.0f evictions\n",
	       num(&cnt, "requests"), num(&cnt, "critical"), num(&cnt, "dependency"),
	       num(&cnt, "prediction"), num(&cnt, "grants"), num(&cnt, "evict_grants"),
	       num(&cnt, "over_soft"), num(&cnt, "refusals"), num(&cnt, "evictions"));
	pml_json_flat_release(&mem);
	pml_json_flat_release(&cpu);
	pml_json_flat_release(&net);
	pml_json_flat_release(&cnt);

	p = strstr(json, "\"modules\":[");
	if (!p)
		return PML_EXIT_OK;
	printf("%-24s %-8s %10s %6s %6s\n", "MODULE", "STATE", "BYTES", "REFCNT", "VALUE");
	while ((p = strchr(p, '{'))) {
		const char *end = strchr(p, '}');
		struct pml_json_flat m;
		char *obj;

		if (!end)
			break;
		obj = strndup(p, (size_t)(end - p + 1));
		if (obj && pml_json_flat_parse(obj, &m) == 0) {
			const struct pml_json_field *pin = pml_json_flat_get(&m, "pinned");

			printf("%-24s %-8s %10.0f %6.0f ", pml_json_flat_str(&m, "name", "?"),
			       pml_json_flat_str(&m, "state", "?"), num(&m, "bytes"),
			       num(&m, "refcnt"));
			if (num(&m, "value") >= 0)
				printf("%6.3f", num(&m, "value"));
			else
				printf("%6s", "-");
			printf("%s\n", pin && pin->boolean ? "  pinned" : "");
			pml_json_flat_release(&m);
		}
		free(obj);
		p = end + 1;
	}
	return PML_EXIT_OK;
}

int cmd_status(int argc, char **argv)
{
	struct cmd_getopt g;
	const char *path = getenv("PML_RESOURCE_SOCKET");
	bool json = false;
	char *buf;
	int c, fd, n, ret;

	cmd_getopt_init(&g, options, "");
	while ((c = cmd_getopt(&g, argc, argv)) != -1) {
		switch (c) {
		case 's':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return PML_EXIT_OK;
		default:
			usage(stderr);
			return PML_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pml: status: unexpected argument '%s'\n", argv[optind]);
		return PML_EXIT_USAGE;
	}
	if (!path || !*path)
		path = PML_RESOURCE_SOCKET_DEFAULT;
	fd = pml_resource_client_connect(path);
	if (fd < 0) {
		fprintf(stderr, "pml: status: %s: %s%s\n", path, strerror(-fd),
			fd == -ENOENT || fd == -ECONNREFUSED ? " (is pmld running?)" : "");
		return PML_EXIT_FAIL;
	}
	buf = malloc(STATUS_MAX);
	if (!buf) {
		close(fd);
		fprintf(stderr, "pml: status: out of memory\n");
		return PML_EXIT_FAIL;
	}
	n = pml_resource_client_call(fd, "STATUS", buf, STATUS_MAX, 0);
	close(fd);
	if (n < 0) {
		fprintf(stderr, "pml: status: %s: %s\n", path, strerror(-n));
		ret = PML_EXIT_FAIL;
	} else if (!strncmp(buf, "ERR", 3)) {
		fprintf(stderr, "pml: status: %s: %s\n", path, buf);
		ret = PML_EXIT_FAIL;
	} else if (json) {
		printf("%s\n", buf);
		ret = PML_EXIT_OK;
	} else {
		ret = print_text(buf);
	}
	free(buf);
	return ret;
}
