/* The manifest, DIR/manifest.jsonl (its format in dataset.h): written whole (a temporary
 * file, fsync, rename), and read back as untrusted input: every field typed and
 * range-checked, a refusal logged naming the file, the line, the run and the field. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "dataset/dataset-priv.h"
#include "dataset/dataset.h"
#include "dataset/shard.h"
#include "util/json.h"
#include "util/log.h"
#include "util/safepath.h"

/* A manifest line pml writes is a few KiB at most (modules[] is the longest field). */
#define MANIFEST_LINE_MAX (64 * 1024)

static const char *const state_names[] = {"ok", "failed", "lost"};

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
	if (ds->heldout_fam_test[0] || ds->heldout_fam_val[0]) {
		pml_json_str(&j, "heldout_families_test", ds->heldout_fam_test);
		pml_json_str(&j, "heldout_families_val", ds->heldout_fam_val);
	}
	if (ds->packed)
		pml_json_bool(&j, "packed", true);
	if (ds->shard[0])
		pml_json_str(&j, "shard", ds->shard);
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
	/* a new file: a stale one, or a link planted in its place, is not written
	 * through */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
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

/* Where a manifest line is, for messages: "DIR/manifest.jsonl:LINE: run ID: ". */
struct where {
	const char *path;
	size_t line;
	const char *id; /* "" before the id is known, and on the header and trailer */
};

static void bad_field(const struct where *w, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void bad_field(const struct where *w, const char *key, const char *fmt, ...)
{
	char what[512], shown[100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	pml_err("%s:%zu: %s%s%s\"%s\": %s", w->path, w->line, w->id[0] ? "run " : "",
		ds_printable(w->id, shown, sizeof(shown)), w->id[0] ? ": " : "", key, what);
}

/* A string field into dst, whole: absent (or null) is def; a value that does not fit is
 * refused rather than cut (pml never writes one). 0 or -EBADMSG (logged). */
static int get_str(const struct where *w, const struct pml_json_flat *f, const char *key,
		   const char *def, char *dst, size_t size)
{
	const struct pml_json_field *v = pml_json_flat_get(f, key);
	const char *s = def;

	if (v && v->type == PML_JSON_STRING) {
		s = v->str;
	} else if (v && v->type != PML_JSON_NULL) {
		bad_field(w, key, "not a string");
		return -EBADMSG;
	}
	if (strlen(s) >= size) {
		bad_field(w, key, "%zu bytes, longer than the %zu it may have", strlen(s),
			  size - 1);
		return -EBADMSG;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* An integer field: absent (or null) is def; otherwise its literal must be an integer
 * (an optional '-' and digits: no fraction, exponent, hexadecimal, nan or inf) from min
 * to max. It is converted from its text, not from the parser's double, so no value is
 * rounded (a double holds 53 bits) and none is out of range of the type it goes into.
 * 0 or -EBADMSG (logged with the bad value). */
static int get_int(const struct where *w, const struct pml_json_flat *f, const char *key,
		   int64_t min, int64_t max, int64_t def, int64_t *ret)
{
	const struct pml_json_field *v = pml_json_flat_get(f, key);
	const char *s, *digits;
	char shown[48], *end;
	long long x;

	if (!v || v->type == PML_JSON_NULL) {
		*ret = def;
		return 0;
	}
	if (v->type != PML_JSON_NUMBER) {
		bad_field(w, key, "not a number");
		return -EBADMSG;
	}
	s = v->str;
	digits = s + (*s == '-');
	errno = 0;
	x = *digits >= '0' && *digits <= '9' ? strtoll(s, &end, 10) : 0;
	if (*digits < '0' || *digits > '9' || errno || *end || x < min || x > max) {
		bad_field(w, key, "%s is not an integer from %" PRId64 " to %" PRId64,
			  ds_printable(s, shown, sizeof(shown)), min, max);
		return -EBADMSG;
	}
	*ret = x;
	return 0;
}

static int get_u32(const struct where *w, const struct pml_json_flat *f, const char *key,
		   uint32_t *ret)
{
	int64_t v;
	int r = get_int(w, f, key, 0, UINT32_MAX, 0, &v);

	if (r == 0)
		*ret = (uint32_t)v;
	return r;
}

/* Counts pml writes as JSON integers (int64): 0 to INT64_MAX. */
static int get_u64(const struct where *w, const struct pml_json_flat *f, const char *key,
		   uint64_t *ret)
{
	int64_t v;
	int r = get_int(w, f, key, 0, INT64_MAX, 0, &v);

	if (r == 0)
		*ret = (uint64_t)v;
	return r;
}

static int parse_run(const struct where *at, const struct pml_json_flat *f,
		     struct pml_ds_run *r)
{
	struct where w = *at;
	const struct pml_json_field *h;
	char shown[160];
	const char *s;
	int64_t status;

	memset(r, 0, sizeof(*r));
	if (get_str(&w, f, "id", "", r->id, sizeof(r->id)) < 0)
		return -EBADMSG;
	w.id = r->id;
	if (get_str(&w, f, "scenario", "", r->scenario, sizeof(r->scenario)) < 0 ||
	    get_str(&w, f, "family", "", r->family, sizeof(r->family)) < 0)
		return -EBADMSG;
	if (!r->id[0] || !r->scenario[0]) {
		pml_err("%s:%zu: malformed run (id, scenario and split are needed)",
			w.path, w.line);
		return -EBADMSG;
	}
	/* the scenario names its script, workloads/SCENARIO.sh, for eval and train */
	if (!pml_path_is_confined(r->scenario)) {
		bad_field(&w, "scenario", "'%s' refused: not a name under workloads/ "
			  "(absolute, or with a '..', '.' or empty component)",
			  ds_printable(r->scenario, shown, sizeof(shown)));
		return -EBADMSG;
	}
	if (get_u32(&w, f, "index", &r->index) < 0 ||
	    get_u32(&w, f, "seed", &r->seed) < 0 ||
	    get_str(&w, f, "params", "", r->params, sizeof(r->params)) < 0)
		return -EBADMSG;
	s = pml_json_flat_str(f, "state", "");
	r->state = PML_RUN_LOST;
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, state_names[i]))
			r->state = (enum pml_run_state)i;
	if (get_int(&w, f, "status", INT_MIN, INT_MAX, -1, &status) < 0)
		return -EBADMSG;
	r->status = (int)status;
	if (pml_split_parse(pml_json_flat_str(f, "split", ""), &r->split) < 0) {
		pml_err("%s:%zu: malformed run (id, scenario and split are needed)",
			w.path, w.line);
		return -EBADMSG;
	}
	h = pml_json_flat_get(f, "heldout");
	r->heldout = h && h->type == PML_JSON_BOOL && h->boolean;
	if (get_str(&w, f, "kernel", "", r->kernel, sizeof(r->kernel)) < 0 ||
	    get_str(&w, f, "trace", "", r->trace, sizeof(r->trace)) < 0)
		return -EBADMSG;
	if (r->trace[0] && !pml_path_is_confined(r->trace)) {
		bad_field(&w, "trace", "'%s' refused: not a relative path inside the "
			  "dataset directory (absolute, or with a '..', '.' or empty "
			  "component)",
			  ds_printable(r->trace, shown, sizeof(shown)));
		return -EBADMSG;
	}
	if (get_u64(&w, f, "trace_bytes", &r->trace_bytes) < 0)
		return -EBADMSG;
	h = pml_json_flat_get(f, "trace_crc32");
	s = !h || h->type == PML_JSON_NULL ? "0" :
	    h->type == PML_JSON_STRING ? h->str : "";
	if (!*s || strlen(s) > 8 || s[strspn(s, "0123456789abcdefABCDEF")]) {
		bad_field(&w, "trace_crc32", "'%s' is not a CRC32 (8 hexadecimal digits)",
			  ds_printable(s, shown, sizeof(shown)));
		return -EBADMSG;
	}
	r->trace_crc = (uint32_t)strtoul(s, NULL, 16);
	if (get_u64(&w, f, "events", &r->events) < 0 ||
	    get_u64(&w, f, "dropped", &r->dropped) < 0 ||
	    get_u32(&w, f, "needs", &r->n_needs) < 0 ||
	    get_str(&w, f, "modules", "", r->modules, sizeof(r->modules)) < 0 ||
	    get_u32(&w, f, "boot", &r->boot) < 0)
		return -EBADMSG;
	/* a double: only NaN and infinity are wrong (the writer writes those as null) */
	h = pml_json_flat_get(f, "guest_s");
	if (h && h->type != PML_JSON_NULL &&
	    (h->type != PML_JSON_NUMBER || !isfinite(h->num))) {
		bad_field(&w, "guest_s", "%s is not a finite number",
			  h->type == PML_JSON_NUMBER ? ds_printable(h->str, shown, 48) :
			  "(not a number)");
		return -EBADMSG;
	}
	r->guest_s = h && h->type == PML_JSON_NUMBER ? h->num : 0;
	return 0;
}

/* The header line into ds. 0, -EINVAL (not a dataset, or a bad field),
 * -EPROTONOSUPPORT (newer); logged. */
static int parse_header(const struct where *w, const struct pml_json_flat *fl,
			struct pml_dataset *ds)
{
	const struct pml_json_field *v = pml_json_flat_get(fl, "version"), *pk;
	struct pml_shard sh;
	char shown[48];
	int64_t ver;

	if (strcmp(pml_json_flat_str(fl, "magic", ""), PML_DATASET_MAGIC)) {
		pml_err("%s: not a pml dataset manifest (no magic \"%s\")", w->path,
			PML_DATASET_MAGIC);
		return -EINVAL;
	}
	if (v && v->type == PML_JSON_NUMBER && v->num > PML_DATASET_VERSION) {
		pml_err("%s: dataset version %s is newer than this pml reads (%d): use a "
			"newer pml", w->path, ds_printable(v->str, shown, sizeof(shown)),
			PML_DATASET_VERSION);
		return -EPROTONOSUPPORT;
	}
	if (!v || get_int(w, fl, "version", 1, PML_DATASET_VERSION, 0, &ver) < 0) {
		if (!v)
			pml_err("%s: the header has no version", w->path);
		return -EINVAL;
	}
	if (get_u32(w, fl, "seed", &ds->seed) < 0 ||
	    get_str(w, fl, "kernel", "", ds->kernel, sizeof(ds->kernel)) < 0 ||
	    get_str(w, fl, "created", "", ds->created, sizeof(ds->created)) < 0 ||
	    get_str(w, fl, "heldout_test", "", ds->heldout_test,
		    sizeof(ds->heldout_test)) < 0 ||
	    get_str(w, fl, "heldout_val", "", ds->heldout_val,
		    sizeof(ds->heldout_val)) < 0 ||
	    get_str(w, fl, "heldout_families_test", "", ds->heldout_fam_test,
		    sizeof(ds->heldout_fam_test)) < 0 ||
	    get_str(w, fl, "heldout_families_val", "", ds->heldout_fam_val,
		    sizeof(ds->heldout_fam_val)) < 0)
		return -EINVAL;
	pk = pml_json_flat_get(fl, "packed");
	ds->packed = pk && pk->type == PML_JSON_BOOL && pk->boolean;
	if (get_str(w, fl, "shard", "", ds->shard, sizeof(ds->shard)) < 0)
		return -EINVAL;
	if (ds->shard[0] && pml_shard_parse(ds->shard, &sh) < 0) {
		bad_field(w, "shard", "'%s' is not a shard I/N (1 <= I <= N <= %d)",
			  ds_printable(ds->shard, shown, sizeof(shown)), PML_SHARD_MAX);
		return -EINVAL;
	}
	return 0;
}

/* The trailer: the CRC32 of every byte before it, the count of runs. 0 or -EBADMSG
 * (logged). */
static int check_trailer(const struct where *w, const struct pml_json_flat *fl, uLong crc,
			 size_t n_runs)
{
	char want[16], shown[48];
	int64_t runs;

	snprintf(want, sizeof(want), "%08lx", crc);
	if (strcmp(pml_json_flat_str(fl, "crc32", ""), want)) {
		pml_err("%s:%zu: checksum mismatch (the manifest was changed or damaged "
			"after it was written)", w->path, w->line);
		return -EBADMSG;
	}
	if (get_int(w, fl, "runs", 0, INT64_MAX, -1, &runs) < 0)
		return -EBADMSG;
	if (runs < 0 || (uint64_t)runs != n_runs) {
		const struct pml_json_field *v = pml_json_flat_get(fl, "runs");
		const char *said = v && v->type == PML_JSON_NUMBER ?
			ds_printable(v->str, shown, sizeof(shown)) : "no";

		pml_err("%s:%zu: the trailer counts %s runs, the file holds %zu", w->path,
			w->line, said, n_runs);
		return -EBADMSG;
	}
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
		struct where w = {.path = path, .line = ++lineno, .id = ""};
		struct pml_json_flat fl;

		if (ended) {
			pml_err("%s:%zu: text after the trailer", path, lineno);
			r = -EBADMSG;
			break;
		}
		if (len > MANIFEST_LINE_MAX) {
			pml_err("%s:%zu: a line of %zd bytes (a pml dataset's are at "
				"most %d)", path, lineno, len, MANIFEST_LINE_MAX);
			r = lineno == 1 ? -EINVAL : -EBADMSG;
			break;
		}
		if (pml_json_flat_parse(line, &fl) < 0) {
			pml_err("%s:%zu: not a JSON object of a pml dataset", path, lineno);
			r = lineno == 1 ? -EINVAL : -EBADMSG;
			break;
		}
		if (lineno == 1) {
			r = parse_header(&w, &fl, ds);
		} else if (pml_json_flat_get(&fl, "end")) {
			ended = true;
			r = check_trailer(&w, &fl, crc, ds->n_runs);
		} else {
			struct pml_ds_run run;

			r = parse_run(&w, &fl, &run);
			if (!r)
				r = pml_dataset_add(ds, &run);
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
