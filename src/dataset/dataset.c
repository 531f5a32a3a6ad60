/* The dataset manifest: reading, writing, the split and the run seeds (dataset.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset/dataset.h"
#include "util/json.h"
#include "util/log.h"

static const char *const split_names[] = {"train", "val", "test"};
static const char *const state_names[] = {"ok", "failed", "lost"};

const char *pml_split_name(enum pml_split s)
{
	return (unsigned)s < 3 ? split_names[s] : "?";
}

int pml_split_parse(const char *s, enum pml_split *ret)
{
	for (int i = 0; i < 3; i++) {
		if (!strcmp(s, split_names[i])) {
			*ret = (enum pml_split)i;
			return 0;
		}
	}
	if (!strcmp(s, "validation")) {
		*ret = PML_SPLIT_VAL;
		return 0;
	}
	return -EINVAL;
}

struct pml_dataset *pml_dataset_new(const char *dir, uint32_t seed)
{
	struct pml_dataset *ds = calloc(1, sizeof(*ds));
	time_t now = time(NULL);
	struct tm tm;

	if (!ds)
		return NULL;
	snprintf(ds->dir, sizeof(ds->dir), "%s", dir);
	ds->seed = seed;
	gmtime_r(&now, &tm);
	strftime(ds->created, sizeof(ds->created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return ds;
}

void pml_dataset_free(struct pml_dataset *ds)
{
	if (!ds)
		return;
	free(ds->runs);
	free(ds);
}

const struct pml_ds_run *pml_dataset_find(const struct pml_dataset *ds, const char *id)
{
	for (size_t i = 0; i < ds->n_runs; i++)
		if (!strcmp(ds->runs[i].id, id))
			return &ds->runs[i];
	return NULL;
}

int pml_dataset_add(struct pml_dataset *ds, const struct pml_ds_run *run)
{
	struct pml_ds_run *old = (struct pml_ds_run *)pml_dataset_find(ds, run->id);

	if (old) {
		*old = *run;
		return 0;
	}
	if (ds->n_runs == ds->cap_runs) {
		size_t cap = ds->cap_runs ? ds->cap_runs * 2 : 64;
		struct pml_ds_run *v = realloc(ds->runs, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ds->runs = v;
		ds->cap_runs = cap;
	}
	ds->runs[ds->n_runs++] = *run;
	return 0;
}

int pml_dataset_trace_path(const struct pml_dataset *ds, const struct pml_ds_run *run,
			   char *buf, size_t size)
{
	if (!run->trace[0])
		return -ENOENT;
	if ((size_t)snprintf(buf, size, "%s/%s", ds->dir, run->trace) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* FNV-1a over the seed and strings, then a finaliser: stable across hosts and builds. */
static uint32_t hash_mix(uint32_t seed, const char *s, uint32_t k)
{
	uint64_t h = 1469598103934665603ull ^ seed;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	h = (h ^ k) * 1099511628211ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return (uint32_t)h;
}

uint32_t pml_dataset_run_seed(const struct pml_dataset *ds, const char *scenario,
			      uint32_t index)
{
	return hash_mix(ds->seed, scenario, index + 1) & 0x7fffffff;
}

static bool word_in(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += len)
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || !p[len]))
			return true;
	return false;
}

static void append_word(char *list, size_t size, const char *word)
{
	size_t len = strlen(list);

	snprintf(list + len, size - len, "%s%s", len ? " " : "", word);
}

void pml_dataset_choose_heldout(struct pml_dataset *ds, const char *const *scenarios,
				size_t n)
{
	ds->heldout_test[0] = ds->heldout_val[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *slash = strchr(scenarios[i], '/');
		size_t flen = slash ? (size_t)(slash - scenarios[i]) : strlen(scenarios[i]);
		size_t members = 0, best = SIZE_MAX, second = SIZE_MAX;
		bool first = true;

		/* once per family: at its first member */
		for (size_t j = 0; j < i && first; j++)
			first = !(strncmp(scenarios[j], scenarios[i], flen) == 0 &&
				  scenarios[j][flen] == '/');
		if (!first)
			continue;
		for (size_t j = 0; j < n; j++) {
			if (strncmp(scenarios[j], scenarios[i], flen) || scenarios[j][flen] != '/')
				continue;
			members++;
			uint32_t h = hash_mix(ds->seed, scenarios[j], 0);

			if (best == SIZE_MAX || h < hash_mix(ds->seed, scenarios[best], 0)) {
				second = best;
				best = j;
			} else if (second == SIZE_MAX ||
				   h < hash_mix(ds->seed, scenarios[second], 0)) {
				second = j;
			}
		}
		if (members >= 3)
			append_word(ds->heldout_test, sizeof(ds->heldout_test), scenarios[best]);
		if (members >= 5)
			append_word(ds->heldout_val, sizeof(ds->heldout_val), scenarios[second]);
	}
}

enum pml_split pml_dataset_split_of(const struct pml_dataset *ds, const char *scenario,
				    uint32_t index, bool *ret_heldout)
{
	uint32_t h;

	if (word_in(ds->heldout_test, scenario)) {
		*ret_heldout = true;
		return PML_SPLIT_TEST;
	}
	if (word_in(ds->heldout_val, scenario)) {
		*ret_heldout = true;
		return PML_SPLIT_VAL;
	}
	*ret_heldout = false;
	h = hash_mix(ds->seed ^ 0x5a5a5a5au, scenario, index) % 100;
	return h < 15 ? PML_SPLIT_TEST : h < 25 ? PML_SPLIT_VAL : PML_SPLIT_TRAIN;
}

int pml_file_crc32(const char *path, uint32_t *ret_crc, uint64_t *ret_size)
{
	unsigned char buf[65536];
	uLong crc = crc32(0, Z_NULL, 0);
	uint64_t size = 0;
	ssize_t k;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		crc = crc32(crc, buf, (uInt)k);
		size += (uint64_t)k;
	}
	k = k < 0 ? -errno : 0;
	close(fd);
	if (k < 0)
		return (int)k;
	*ret_crc = (uint32_t)crc;
	*ret_size = size;
	return 0;
}

/* --- writing ------------------------------------------------------------------------ */

static void write_run(struct pml_json *j, const struct pml_ds_run *r)
{
	pml_json_obj_begin(j, NULL);
	pml_json_str(j, "id", r->id);
	pml_json_str(j, "scenario", r->scenario);
	pml_json_str(j, "family", r->family);
	pml_json_int(j, "index", r->index);
	pml_json_int(j, "seed", r->seed);
	pml_json_str(j, "params", r->params);
	pml_json_str(j, "state", state_names[r->state]);
	pml_json_int(j, "status", r->status);
	pml_json_str(j, "split", pml_split_name(r->split));
	pml_json_bool(j, "heldout", r->heldout);
	pml_json_str(j, "kernel", r->kernel);
	pml_json_str(j, "trace", r->trace);
	pml_json_int(j, "trace_bytes", (int64_t)r->trace_bytes);
	char crc[16];

	snprintf(crc, sizeof(crc), "%08" PRIx32, r->trace_crc);
	pml_json_str(j, "trace_crc32", crc);
	pml_json_int(j, "events", (int64_t)r->events);
	pml_json_int(j, "dropped", (int64_t)r->dropped);
	pml_json_int(j, "needs", r->n_needs);
	pml_json_str(j, "modules", r->modules);
	pml_json_double(j, "guest_s", r->guest_s);
	pml_json_int(j, "boot", r->boot);
	pml_json_obj_end(j);
}

int pml_dataset_save(const struct pml_dataset *ds)
{
	char path[4200], tmp[4300];
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	struct pml_json j;
	int fd, r = 0;

	if (!m)
		return -ENOMEM;
	pml_json_init(&j, m, false);
	pml_json_obj_begin(&j, NULL);
	pml_json_str(&j, "magic", PML_DATASET_MAGIC);
	pml_json_int(&j, "version", PML_DATASET_VERSION);
	pml_json_int(&j, "seed", ds->seed);
	pml_json_str(&j, "kernel", ds->kernel);
	pml_json_str(&j, "created", ds->created);
	pml_json_str(&j, "heldout_test", ds->heldout_test);
	pml_json_str(&j, "heldout_val", ds->heldout_val);
	if (ds->packed)
		pml_json_bool(&j, "packed", true);
	pml_json_obj_end(&j);
	fputc('\n', m);
	for (size_t i = 0; i < ds->n_runs; i++) {
		write_run(&j, &ds->runs[i]);
		fputc('\n', m);
	}
	fflush(m);
	fprintf(m, "{\"end\":\"%s\",\"runs\":%zu,\"crc32\":\"%08lx\"}\n", PML_DATASET_MAGIC,
		ds->n_runs, crc32(crc32(0, Z_NULL, 0), (const Bytef *)buf, (uInt)len));
	if (fclose(m) != 0) {
		free(buf);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/%s", ds->dir, PML_DATASET_MANIFEST);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	for (size_t off = 0; off < len && !r;) {
		ssize_t k = write(fd, buf + off, len - off);

		if (k < 0)
			r = -errno;
		else
			off += (size_t)k;
	}
	if (!r && fsync(fd) < 0)
		r = -errno;
	close(fd);
	free(buf);
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* --- reading ------------------------------------------------------------------------ */

static void copy_str(char *dst, size_t size, const struct pml_json_flat *f, const char *key)
{
	snprintf(dst, size, "%s", pml_json_flat_str(f, key, ""));
}

static int parse_run(const struct pml_json_flat *f, struct pml_ds_run *r)
{
	const char *s;

	memset(r, 0, sizeof(*r));
	copy_str(r->id, sizeof(r->id), f, "id");
	copy_str(r->scenario, sizeof(r->scenario), f, "scenario");
	copy_str(r->family, sizeof(r->family), f, "family");
	if (!r->id[0] || !r->scenario[0])
		return -EINVAL;
	r->index = (uint32_t)pml_json_flat_num(f, "index", 0);
	r->seed = (uint32_t)pml_json_flat_num(f, "seed", 0);
	copy_str(r->params, sizeof(r->params), f, "params");
	s = pml_json_flat_str(f, "state", "");
	r->state = PML_RUN_LOST;
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, state_names[i]))
			r->state = (enum pml_run_state)i;
	r->status = (int)pml_json_flat_num(f, "status", -1);
	if (pml_split_parse(pml_json_flat_str(f, "split", ""), &r->split) < 0)
		return -EINVAL;
	const struct pml_json_field *h = pml_json_flat_get(f, "heldout");

	r->heldout = h && h->type == PML_JSON_BOOL && h->boolean;
	copy_str(r->kernel, sizeof(r->kernel), f, "kernel");
	copy_str(r->trace, sizeof(r->trace), f, "trace");
	r->trace_bytes = (uint64_t)pml_json_flat_num(f, "trace_bytes", 0);
	r->trace_crc = (uint32_t)strtoul(pml_json_flat_str(f, "trace_crc32", "0"), NULL, 16);
	r->events = (uint64_t)pml_json_flat_num(f, "events", 0);
	r->dropped = (uint64_t)pml_json_flat_num(f, "dropped", 0);
	r->n_needs = (uint32_t)pml_json_flat_num(f, "needs", 0);
	copy_str(r->modules, sizeof(r->modules), f, "modules");
	r->guest_s = pml_json_flat_num(f, "guest_s", 0);
	r->boot = (uint32_t)pml_json_flat_num(f, "boot", 0);
	return 0;
}

int pml_dataset_open(const char *dir, struct pml_dataset **ret)
{
	char path[4200];
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	uLong crc = crc32(0, Z_NULL, 0);
	struct pml_dataset *ds;
	bool ended = false;
	FILE *f;
	int r = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, PML_DATASET_MANIFEST);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	ds = pml_dataset_new(dir, 0);
	if (!ds) {
		fclose(f);
		return -ENOMEM;
	}
	while (!r && (len = getline(&line, &cap, f)) > 0) {
		struct pml_json_flat fl;

		lineno++;
		if (ended) {
			pml_err("%s:%zu: text after the trailer", path, lineno);
			r = -EBADMSG;
			break;
		}
		if (pml_json_flat_parse(line, &fl) < 0) {
			pml_err("%s:%zu: not a JSON object of a pml dataset", path, lineno);
			r = lineno == 1 ? -EINVAL : -EBADMSG;
			break;
		}
		if (lineno == 1) {
			if (strcmp(pml_json_flat_str(&fl, "magic", ""), PML_DATASET_MAGIC)) {
				pml_err("%s: not a pml dataset manifest (no magic \"%s\")", path,
					PML_DATASET_MAGIC);
				r = -EINVAL;
			} else if (pml_json_flat_num(&fl, "version", 0) > PML_DATASET_VERSION) {
				pml_err("%s: dataset version %.0f is newer than this pml reads (%d): "
					"use a newer pml", path, pml_json_flat_num(&fl, "version", 0),
					PML_DATASET_VERSION);
				r = -EPROTONOSUPPORT;
			} else {
				ds->seed = (uint32_t)pml_json_flat_num(&fl, "seed", 0);
				copy_str(ds->kernel, sizeof(ds->kernel), &fl, "kernel");
				copy_str(ds->created, sizeof(ds->created), &fl, "created");
				copy_str(ds->heldout_test, sizeof(ds->heldout_test), &fl,
					 "heldout_test");
				copy_str(ds->heldout_val, sizeof(ds->heldout_val), &fl,
					 "heldout_val");
				const struct pml_json_field *pk = pml_json_flat_get(&fl, "packed");

				ds->packed = pk && pk->type == PML_JSON_BOOL && pk->boolean;
			}
		} else if (pml_json_flat_get(&fl, "end")) {
			char want[16];

			snprintf(want, sizeof(want), "%08lx", crc);
			ended = true;
			if (strcmp(pml_json_flat_str(&fl, "crc32", ""), want)) {
				pml_err("%s:%zu: checksum mismatch (the manifest was changed or "
					"damaged after it was written)", path, lineno);
				r = -EBADMSG;
			} else if ((size_t)pml_json_flat_num(&fl, "runs", -1) != ds->n_runs) {
				pml_err("%s:%zu: the trailer counts %.0f runs, the file holds %zu",
					path, lineno, pml_json_flat_num(&fl, "runs", -1), ds->n_runs);
				r = -EBADMSG;
			}
		} else {
			struct pml_ds_run run;

			if (parse_run(&fl, &run) < 0) {
				pml_err("%s:%zu: malformed run (id, scenario and split are needed)",
					path, lineno);
				r = -EBADMSG;
			} else {
				r = pml_dataset_add(ds, &run);
			}
		}
		pml_json_flat_release(&fl);
		crc = crc32(crc, (const Bytef *)line, (uInt)len);
	}
	if (!r && !ended) {
		pml_err("%s: %s", path, lineno ? "no trailer: the file was cut short" :
			"empty file");
		r = lineno ? -EBADMSG : -EINVAL;
	}
	free(line);
	fclose(f);
	if (r) {
		pml_dataset_free(ds);
		return r;
	}
	*ret = ds;
	return 0;
}
