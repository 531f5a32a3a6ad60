/* The dataset component: needs derived from module records (synthetic cases for each
 * attribution rule, and the real guest trace of the acceptance fixture), the manifest's
 * round trip and its refusals (missing, wrong magic, future version, flipped byte, cut
 * short), the split, and the corpus headers of workloads/. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dataset/dataset.h"
#include "dataset/needs.h"
#include "dataset/pack.h"
#include "model/features.h"
#include "trace/trace-file.h"
#include "dataset/scenario.h"
#include "unit.h"

static char tmpdir[] = "/tmp/pml-test-dataset-XXXXXX";

static void feed_mod(struct pml_needs *n, int kind, uint64_t t_ms, uint32_t pid,
		     const char *name)
{
	struct pml_tev_module m = {0};

	m.h.kind = (uint16_t)kind;
	m.h.size = sizeof(m);
	m.h.t_ns = t_ms * 1000000ull;
	m.h.pid = m.h.tid = pid;
	m.h.nr = -1;
	snprintf(m.name, sizeof(m.name), "%s", name);
	CHECK(pml_needs_add(n, &m.h) == 0);
}

static void feed_syscall(struct pml_needs *n, uint64_t t_ms, uint32_t pid)
{
	struct pml_tev_hdr h = {.t_ns = t_ms * 1000000ull, .pid = pid, .tid = pid,
				.kind = PML_TEV_SYSCALL, .size = sizeof(h), .nr = 39};

	CHECK(pml_needs_add(n, &h) == 0);
}

static void test_needs_rules(void)
{
	struct pml_needs n;

	pml_needs_init(&n);
	feed_syscall(&n, 1, 100); /* the traced program */
	/* a request that resolves to nothing, then the one that loads a closure */
	feed_mod(&n, PML_TEV_MOD_REQUEST, 10, 100, "net-pf-2-proto-132-type-1");
	feed_mod(&n, PML_TEV_MOD_REQUEST, 20, 100, "net-pf-2-proto-132");
	feed_mod(&n, PML_TEV_MOD_LOAD, 30, 500, "libcrc32c");
	feed_mod(&n, PML_TEV_MOD_LOAD, 40, 500, "udp_tunnel");
	/* a second thread asks while the first modprobe still loads */
	feed_mod(&n, PML_TEV_MOD_REQUEST, 45, 101, "net-pf-2-proto-132");
	feed_mod(&n, PML_TEV_MOD_LOAD, 60, 500, "sctp");
	/* user space runs modprobe itself: pid 102 is of the tree */
	feed_syscall(&n, 70, 102);
	feed_mod(&n, PML_TEV_MOD_LOAD, 80, 102, "tipc");
	/* a load nothing explains, 20 s later, from outside the tree */
	feed_mod(&n, PML_TEV_MOD_LOAD, 20000, 900, "dummy");
	/* a request long after: still a need of its own */
	feed_mod(&n, PML_TEV_MOD_REQUEST, 30000, 100, "fs-vfat");
	feed_mod(&n, PML_TEV_MOD_LOAD, 30050, 901, "fat");
	feed_mod(&n, PML_TEV_MOD_LOAD, 30060, 901, "vfat");

	CHECK(n.n == 6);
	if (n.n == 6) {
		CHECK_STR(n.v[0].alias, "net-pf-2-proto-132-type-1");
		CHECK(n.v[0].n_loaded == 0 && !n.v[0].module[0]);
		CHECK_STR(n.v[1].alias, "net-pf-2-proto-132");
		CHECK(n.v[1].n_loaded == 3);
		CHECK_STR(n.v[1].module, "sctp");
		CHECK_STR(n.v[1].loaded[0], "libcrc32c");
		CHECK(n.v[1].t_ns == 20000000ull && n.v[1].done_ns == 60000000ull);
		CHECK(n.v[1].loader_pid == 500);
		CHECK_STR(n.v[2].alias, "net-pf-2-proto-132");
		CHECK(n.v[2].n_loaded == 0 && n.v[2].pid == 101);
		CHECK(!n.v[3].alias[0] && n.v[3].pid == 102);
		CHECK_STR(n.v[3].module, "tipc");
		CHECK(!n.v[4].alias[0] && n.v[4].pid == 0);
		CHECK_STR(n.v[4].module, "dummy");
		CHECK_STR(n.v[5].module, "vfat");
		CHECK(n.v[5].n_loaded == 2);
	}
	const char *mods[16];
	size_t k = pml_needs_modules(&n, mods, 16);

	CHECK(k == 7);
	if (k == 7) {
		CHECK_STR(mods[0], "libcrc32c");
		CHECK_STR(mods[6], "vfat");
	}
	CHECK(n.first_ns == 1000000ull);
	pml_needs_release(&n);
}

/* The real guest trace: sctp socket, vfat on loop, vxlan link (tests/fixtures/trace). */
static void test_needs_fixture(void)
{
	char path[4096];
	const char *fx = getenv("PML_TEST_FIXTURES");
	struct pml_needs n;
	static const char *const want[][2] = {
		{"net-pf-2-proto-132-type-1", ""}, {"net-pf-2-proto-132", "sctp"},
		{"char-major-10-237", "loop"},	   {"fs-vfat", "vfat"},
		{"nls_cp437", "nls_cp437"},	   {"nls_ascii", "nls_ascii"},
		{"rtnl-link-vxlan", "vxlan"},
	};

	snprintf(path, sizeof(path), "%s/trace/guest-acceptance.bin", fx ? fx : "tests/fixtures");
	CHECK(pml_needs_from_trace(path, &n) == 0);
	CHECK(n.n == 7);
	for (size_t i = 0; i < n.n && i < 7; i++) {
		CHECK_STR(n.v[i].alias, want[i][0]);
		CHECK_STR(n.v[i].module, want[i][1]);
		if (i)
			CHECK(n.v[i].t_ns >= n.v[i - 1].t_ns);
	}
	if (n.n > 3) {
		CHECK(n.v[1].n_loaded == 4); /* libcrc32c udp_tunnel ip6_udp_tunnel sctp */
		CHECK(n.v[3].n_loaded == 2); /* fat vfat */
	}
	pml_needs_release(&n);
	CHECK(pml_needs_from_trace("/nonexistent/trace", &n) == -ENOENT);
	pml_needs_release(&n);
}

static struct pml_ds_run mkrun(struct pml_dataset *ds, const char *scen, uint32_t k)
{
	struct pml_ds_run r = {0};

	snprintf(r.id, sizeof(r.id), "%s#%04u", scen, k);
	snprintf(r.scenario, sizeof(r.scenario), "%s", scen);
	snprintf(r.family, sizeof(r.family), "%.*s", (int)(strchr(scen, '/') - scen), scen);
	r.index = k;
	r.seed = pml_dataset_run_seed(ds, scen, k);
	r.split = pml_dataset_split_of(ds, scen, k, &r.heldout);
	snprintf(r.params, sizeof(r.params), "size_mb=%u name=\"q\\x\"", k);
	snprintf(r.modules, sizeof(r.modules), "loop fat vfat");
	snprintf(r.trace, sizeof(r.trace), "traces/x.%u.trace", k);
	r.trace_crc = 0xdeadbeef;
	r.trace_bytes = 1234;
	r.events = 100 + k;
	r.n_needs = 3;
	r.guest_s = 1.5;
	return r;
}

static int write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -1;
	fwrite(text, 1, len, f);
	fclose(f);
	return 0;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = malloc(1 << 20);

	*len = f && buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
	if (buf)
		buf[*len] = '\0';
	if (f)
		fclose(f);
	return buf;
}

static void test_manifest(void)
{
	static const char *const scen[] = {
		"block/a", "block/b", "block/c", "fs/a", "fs/b", "fs/c", "fs/d", "fs/e", "misc/a",
	};
	struct pml_dataset *ds = pml_dataset_new(tmpdir, 7), *back = NULL;
	char path[4200];
	size_t len, counts[3] = {0};
	char *text;

	CHECK(ds != NULL);
	if (!ds)
		return;
	pml_dataset_choose_heldout(ds, scen, 9);
	/* one test scenario per family of 3+, one validation scenario in the family of 5 */
	CHECK(strchr(ds->heldout_test, ' ') && !strchr(strchr(ds->heldout_test, ' ') + 1, ' '));
	CHECK(ds->heldout_val[0] && !strchr(ds->heldout_val, ' '));
	CHECK(!strstr(ds->heldout_test, "misc/"));
	for (size_t i = 0; i < 9; i++) {
		for (uint32_t k = 0; k < 40; k++) {
			struct pml_ds_run r = mkrun(ds, scen[i], k);
			bool held2;

			CHECK(pml_dataset_add(ds, &r) == 0);
			counts[r.split]++;
			/* the same answer every time */
			CHECK(pml_dataset_split_of(ds, scen[i], k, &held2) == r.split &&
			      held2 == r.heldout);
			if (r.heldout && r.split == PML_SPLIT_TEST)
				CHECK(strstr(ds->heldout_test, scen[i]) != NULL);
		}
	}
	CHECK(counts[0] > counts[2] && counts[2] > 0 && counts[1] > 0);
	/* replacing by id keeps the count */
	struct pml_ds_run again = mkrun(ds, "fs/a", 3);

	again.status = 7;
	CHECK(pml_dataset_add(ds, &again) == 0);
	CHECK(ds->n_runs == 360);
	CHECK(pml_dataset_find(ds, "fs/a#0003")->status == 7);
	CHECK(pml_dataset_save(ds) == 0);
	CHECK(pml_dataset_open(tmpdir, &back) == 0);
	if (back) {
		CHECK(back->n_runs == 360);
		CHECK(back->seed == 7);
		CHECK_STR(back->heldout_test, ds->heldout_test);
		const struct pml_ds_run *a = pml_dataset_find(back, "fs/a#0003");

		CHECK(a && a->status == 7 && a->trace_crc == 0xdeadbeef && a->events == 103);
		if (a) {
			CHECK_STR(a->params, "size_mb=3 name=\"q\\x\"");
			CHECK_STR(a->family, "fs");
			CHECK(a->guest_s == 1.5);
		}
		for (size_t i = 0; i < back->n_runs; i++)
			CHECK(back->runs[i].split == ds->runs[i].split &&
			      back->runs[i].heldout == ds->runs[i].heldout);
		pml_dataset_free(back);
		back = NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", tmpdir, PML_DATASET_MANIFEST);
	text = read_file(path, &len);
	if (text && len > 200) {
		/* a flipped byte in a run line */
		text[150] ^= 0x01;
		write_file(path, text, len);
		CHECK(pml_dataset_open(tmpdir, &back) == -EBADMSG);
		text[150] ^= 0x01;
		/* cut short: no trailer */
		write_file(path, text, (size_t)(strrchr(text, '{') - text));
		CHECK(pml_dataset_open(tmpdir, &back) == -EBADMSG);
		/* a newer version */
		char *v = strstr(text, "\"version\":1");

		CHECK(v != NULL);
		if (v) {
			v[10] = '9';
			write_file(path, text, len);
			CHECK(pml_dataset_open(tmpdir, &back) == -EPROTONOSUPPORT);
			v[10] = '1';
		}
		/* not a dataset */
		memcpy(strstr(text, "pml-dataset"), "pml-datasex", 11);
		write_file(path, text, len);
		CHECK(pml_dataset_open(tmpdir, &back) == -EINVAL);
	}
	free(text);
	unlink(path);
	CHECK(pml_dataset_open(tmpdir, &back) == -ENOENT);
	CHECK(back == NULL);
	pml_dataset_free(ds);

	enum pml_split sp;

	CHECK(pml_split_parse("validation", &sp) == 0 && sp == PML_SPLIT_VAL);
	CHECK(pml_split_parse("testing", &sp) == -EINVAL);
}

/* The committed sample dataset (8 runs collected in the guest) reads and verifies. */
static void test_fixture_dataset(void)
{
	char dir[4096], path[4300];
	const char *fx = getenv("PML_TEST_FIXTURES");
	struct pml_dataset *ds = NULL;

	snprintf(dir, sizeof(dir), "%s/dataset", fx ? fx : "tests/fixtures");
	CHECK(pml_dataset_open(dir, &ds) == 0);
	if (!ds)
		return;
	CHECK(ds->n_runs == 8);
	for (size_t i = 0; i < ds->n_runs; i++) {
		const struct pml_ds_run *r = &ds->runs[i];
		uint32_t crc;
		uint64_t size;
		struct pml_needs n;

		CHECK(r->state == PML_RUN_OK);
		CHECK(pml_dataset_trace_path(ds, r, path, sizeof(path)) == 0);
		CHECK(pml_file_crc32(path, &crc, &size) == 0 && crc == r->trace_crc &&
		      size == r->trace_bytes);
		CHECK(pml_needs_from_trace(path, &n) == 0 && n.n == r->n_needs);
		pml_needs_release(&n);
	}
	pml_dataset_free(ds);
}

/* Every token the features make of a trace, one string ("tok tok|tok|..."), and its
 * needs. NULL on a read error. */
static char *trace_tokens(const char *path, struct pml_needs *needs)
{
	struct pml_trace_reader *r = NULL;
	struct pml_features *f = pml_features_new();
	struct pml_feat_tokens t;
	const struct pml_tev_hdr *e;
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	int rc = pml_trace_reader_open(path, &r);

	pml_needs_init(needs);
	while (rc >= 0 && (rc = pml_trace_reader_next(r, &e)) > 0) {
		pml_features_record(f, e, &t);
		for (int i = 0; i < t.n; i++)
			fprintf(m, "%s ", t.tok[i]);
		if (t.n)
			fputc('|', m);
		pml_needs_add(needs, e);
	}
	fclose(m);
	pml_trace_reader_free(r);
	pml_features_free(f);
	if (rc < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* A packed trace gives the model the same tokens and the same needs, in fewer records. */
static void test_pack(void)
{
	char dir[4096], in[4300], out[4300];
	const char *fx = getenv("PML_TEST_FIXTURES");
	struct pml_dataset *ds = NULL;

	snprintf(dir, sizeof(dir), "%s/dataset", fx ? fx : "tests/fixtures");
	CHECK(pml_dataset_open(dir, &ds) == 0);
	if (!ds)
		return;
	snprintf(out, sizeof(out), "%s/packed.trace", tmpdir);
	for (size_t i = 0; i < ds->n_runs; i++) {
		struct pml_pack_stats st;
		struct pml_needs n1, n2;
		char *t1, *t2;

		pml_dataset_trace_path(ds, &ds->runs[i], in, sizeof(in));
		CHECK(pml_trace_pack(in, out, &st) == 0);
		CHECK(st.records_out < st.records_in && st.plain_out < st.plain_in);
		CHECK(st.records_in - st.records_out == st.plain_in - st.plain_out);
		t1 = trace_tokens(in, &n1);
		t2 = trace_tokens(out, &n2);
		CHECK(t1 && t2 && strlen(t1) > 1000);
		CHECK(t1 && t2 && !strcmp(t1, t2));
		CHECK(n1.n == n2.n && n1.n == ds->runs[i].n_needs);
		if (i == 0) { /* stored blocks: the same records, more bytes */
			char *t3;
			struct pml_needs n3;
			uint32_t crc;
			uint64_t packed_size, stored_size;

			pml_file_crc32(out, &crc, &packed_size);
			CHECK(pml_trace_pack_flags(in, out, PML_TRACE_W_STORED, NULL) == 0);
			pml_file_crc32(out, &crc, &stored_size);
			CHECK(stored_size > packed_size);
			t3 = trace_tokens(out, &n3);
			CHECK(t1 && t3 && !strcmp(t1, t3));
			free(t3);
			pml_needs_release(&n3);
		}
		for (size_t k = 0; k < n1.n && k < n2.n; k++)
			CHECK(!memcmp(&n1.v[k], &n2.v[k], sizeof(n1.v[k])));
		free(t1);
		free(t2);
		pml_needs_release(&n1);
		pml_needs_release(&n2);
	}
	/* a damaged input is refused and nothing is written */
	unlink(out);
	snprintf(in, sizeof(in), "%s/cut.trace", tmpdir);
	pml_dataset_trace_path(ds, &ds->runs[0], dir, sizeof(dir));
	{
		size_t len;
		char *text = read_file(dir, &len);

		write_file(in, text, len / 2);
		free(text);
	}
	CHECK(pml_trace_pack(in, out, NULL) < 0);
	CHECK(access(out, F_OK) < 0);
	unlink(in);
	pml_dataset_free(ds);
}

static void test_scenarios(void)
{
	char dir[4096];
	const char *fx = getenv("PML_TEST_FIXTURES");
	struct pml_scenario_list l = {0};
	size_t fams = 0, vfat = 0;

	snprintf(dir, sizeof(dir), "%s/../../workloads", fx ? fx : "tests/fixtures");
	CHECK(pml_scenarios_load(dir, &l) == 0);
	CHECK(l.n >= 40);
	for (size_t i = 0; i < l.n; i++) {
		if (!i || strcmp(l.v[i].family, l.v[i - 1].family))
			fams++;
		if (i)
			CHECK(strcmp(l.v[i - 1].name, l.v[i].name) < 0);
		if (!strcmp(l.v[i].name, "filesystems/vfat-image")) {
			vfat++;
			CHECK_STR(l.v[i].family, "filesystems");
			CHECK(strstr(l.v[i].expect, "vfat") != NULL);
		}
		if (!strcmp(l.v[i].name, "filesystems/udf-disc"))
			CHECK_STR(l.v[i].packages, "udftools");
	}
	CHECK(fams >= 8 && vfat == 1);
	pml_scenarios_release(&l);
	CHECK(pml_scenarios_load("/nonexistent", &l) == -ENOENT);
	CHECK(pml_scenario_match("netdev/vxlan-overlay", "block/*,netdev/*"));
	CHECK(pml_scenario_match("netdev/vxlan-overlay", "*vxlan*"));
	CHECK(pml_scenario_match("netdev/vxlan-overlay", "netdev/vxlan-overlay.sh"));
	CHECK(!pml_scenario_match("netdev/vxlan-overlay", "block/*,filesystems/*"));
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	test_needs_rules();
	test_needs_fixture();
	test_manifest();
	test_fixture_dataset();
	test_pack();
	test_scenarios();
	rmdir(tmpdir);
	return unit_done("dataset");
}
