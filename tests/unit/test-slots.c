/* The slot model (model/slots.h) and the slots policy: templates filled with a program's
 * words give candidates the index resolves, with features that do not name the module;
 * a model trained on one kind of naming predicts a module of that kind it never saw (an
 * alias of a module never in training resolves and is predicted); the model file round-
 * trips and a damaged or hostile one is refused with words. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader/loader.h"
#include "model/slots.h"
#include "policy/policy.h"
#include "vm/paths.h"
#include "unit.h"
#include "util/log.h"

static char tmpdir[] = "/tmp/pml-test-slots-XXXXXX";

/* A small index: link kinds, filesystems, a module merely named like a program. */
static int index_resolve(void *data, const char *alias, char (*names)[64], size_t max)
{
	static const char *const table[][2] = {
		{"rtnl-link-vxlan", "vxlan"}, {"rtnl-link-geneve", "geneve"},
		{"rtnl-link-macsec", "macsec"}, {"fs-btrfs", "btrfs"}, {"ping", "ping"},
		{"vxlan", "vxlan"}, {"geneve", "geneve"}, {"macsec", "macsec"},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(alias, table[i][0]) && max > 0) {
			snprintf(names[0], 64, "%s", table[i][1]);
			return 1;
		}
	return 0;
}

struct seen {
	char cands[64][2][64]; /* module, alias */
	uint32_t feats[64][PML_SLOTS_MAX_FEATS];
	int n_feats[64];
	float score[64];
	int n;
};

static void on_cand(void *ctx, const struct pml_slot_cand *c)
{
	struct seen *s = ctx;

	if (s->n >= 64)
		return;
	snprintf(s->cands[s->n][0], 64, "%s", c->module);
	snprintf(s->cands[s->n][1], 64, "%s", c->alias);
	memcpy(s->feats[s->n], c->feats, sizeof(c->feats));
	s->n_feats[s->n] = c->n_feats;
	s->score[s->n] = c->score;
	s->n++;
}

static int find(const struct seen *s, const char *alias)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->cands[i][1], alias))
			return i;
	return -1;
}

static void read_tokens(struct pml_slots *sl, const char *const *toks)
{
	for (; *toks; toks++)
		pml_slots_token(sl, *toks);
}

/* Candidates: `ip link add x type vxlan` fills rtnl-link- and the plain template; a
 * word in another command fills the same, with other features; the features of two kinds
 * of link named the same way (words of one shape: six letters) are the same but for the
 * word's own: the context carries to a word never seen. */
static void test_candidates(void)
{
	static const char *const vx[] = {"exec:ip", "arg:link", "arg:add", "arg:ms#:ms0",
					 "arg:type", "arg:macsec", NULL};
	static const char *const gn[] = {"exec:ip", "arg:link", "arg:add", "arg:gn#:gn0",
					 "arg:type", "arg:geneve", NULL};
	static const char *const pg[] = {"exec:ping", "arg:-c", "arg:#:1", NULL};
	struct seen a = {0}, b = {0}, c = {0};
	struct pml_slots sl;
	int i, j;

	pml_slots_init(&sl, NULL, index_resolve, NULL, on_cand, &a);
	read_tokens(&sl, vx);
	i = find(&a, "rtnl-link-macsec");
	CHECK(i >= 0 && !strcmp(a.cands[i][0], "macsec"));
	CHECK(find(&a, "macsec") >= 0);
	CHECK(a.score[i] == 0); /* no model */
	pml_slots_init(&sl, NULL, index_resolve, NULL, on_cand, &b);
	read_tokens(&sl, gn);
	j = find(&b, "rtnl-link-geneve");
	CHECK(j >= 0);
	if (i >= 0 && j >= 0) {
		int same = 0;

		CHECK(a.n_feats[i] == b.n_feats[j] && a.n_feats[i] > 5);
		for (int f = 0; f < a.n_feats[i]; f++)
			same += a.feats[i][f] == b.feats[j][f];
		/* all but the word's own (crossed with the template and alone) */
		CHECK(same == a.n_feats[i] - 2);
	}
	/* a program's own name is a candidate too, with its own features */
	pml_slots_init(&sl, NULL, index_resolve, NULL, on_cand, &c);
	read_tokens(&sl, pg);
	CHECK(c.n == 1 && find(&c, "ping") == 0);
	/* the prior: mkfs.btrfs in the script's text */
	memset(&c, 0, sizeof(c));
	pml_slots_init(&sl, NULL, index_resolve, NULL, on_cand, &c);
	pml_slots_prior(&sl, NULL, "mkfs.btrfs -f /dev/loop0\n");
	CHECK(find(&c, "fs-btrfs") >= 0);
}

/* A model that has learned "the word after type fills rtnl-link-" (weights on the
 * features of the vxlan candidate, none on any word) predicts macsec, which it never saw,
 * and not the ping driver. */
static struct pml_slots_model *model_from(const struct seen *pos, int i,
					  const struct seen *neg, int k)
{
	struct pml_slots_model *m = calloc(1, sizeof(*m));
	uint32_t all[2 * PML_SLOTS_MAX_FEATS];
	float w[2 * PML_SLOTS_MAX_FEATS];
	int n = 0;

	if (!m)
		return NULL;
	for (int f = 0; f < pos->n_feats[i]; f++) {
		all[n] = pos->feats[i][f];
		w[n++] = 0.5f;
	}
	for (int f = 0; f < neg->n_feats[k]; f++) {
		all[n] = neg->feats[k][f];
		w[n++] = -0.5f;
	}
	/* sorted, distinct (a feature in both: summed) */
	for (int x = 0; x < n; x++)
		for (int y = x + 1; y < n; y++)
			if (all[y] < all[x]) {
				uint32_t t = all[x];
				float tw = w[x];

				all[x] = all[y];
				w[x] = w[y];
				all[y] = t;
				w[y] = tw;
			}
	m->idx = malloc(sizeof(all));
	m->w = malloc(sizeof(w));
	if (!m->idx || !m->w) {
		pml_slots_model_free(m);
		return NULL;
	}
	for (int x = 0; x < n; x++) {
		if (m->n && m->idx[m->n - 1] == all[x]) {
			m->w[m->n - 1] += w[x];
			continue;
		}
		m->idx[m->n] = all[x];
		m->w[m->n++] = w[x];
	}
	m->bias = -2;
	m->threshold = 0.5f;
	snprintf(m->kernel_series, sizeof(m->kernel_series), "6.1");
	return m;
}

static void test_policy_unseen_module(void)
{
	static const char *const vx[] = {"exec:ip", "arg:link", "arg:add", "arg:vx#:vx0",
					 "arg:type", "arg:vxlan", NULL};
	static const char *const pg[] = {"exec:ping", "arg:-c", "arg:#:1", NULL};
	struct seen a = {0}, b = {0};
	struct pml_slots sl;
	struct pml_slots_model *m;
	struct pml_policy *p = NULL;
	struct pml_action acts[8];
	int n;

	pml_slots_init(&sl, NULL, index_resolve, NULL, on_cand, &a);
	read_tokens(&sl, vx);
	pml_slots_init(&sl, NULL, index_resolve, NULL, on_cand, &b);
	read_tokens(&sl, pg);
	CHECK(find(&a, "rtnl-link-vxlan") >= 0 && find(&b, "ping") >= 0);
	m = model_from(&a, find(&a, "rtnl-link-vxlan"), &b, find(&b, "ping"));
	CHECK(m != NULL);
	if (!m)
		return;
	struct pml_policy_config cfg = {.idle_seconds = 1,
					.prior_command = "ip link add m0 type macsec",
					.prior_script = "ping -c 1 10.0.0.1\n",
					.resolve_fn = index_resolve, .slots_model = m};

	CHECK(pml_policy_new("slots", &cfg, &p) == 0);
	if (p) {
		bool macsec = false, ping = false;

		n = pml_policy_decide(p, NULL, 0, acts, 8);
		for (int i = 0; i < n; i++) {
			macsec |= acts[i].kind == PML_ACT_LOAD && !strcmp(acts[i].module, "macsec");
			ping |= !strcmp(acts[i].module, "ping");
			CHECK(acts[i].confidence >= m->threshold && acts[i].confidence <= 1);
			CHECK(acts[i].basis == PML_BASIS_SLOTS);
		}
		CHECK(macsec && !ping);
		pml_policy_free(p);
	}
	/* no model: refused with words */
	cfg.slots_model = NULL;
	p = NULL;
	CHECK(pml_policy_new("slots", &cfg, &p) < 0 && !p);
	pml_slots_model_free(m);
}

/* The file: round trip; each damage refused. */
static void test_file(void)
{
	struct pml_slots_model m = {.threshold = 0.7f, .bias = -1.5f, .n = 3};
	uint32_t idx[3] = {5, 77, 1000};
	float w[3] = {0.25f, -1.0f, 2.0f};
	struct pml_slots_model *back = NULL;
	char path[256], bad[300];
	FILE *f;
	long size;
	unsigned char *buf;

	m.idx = idx;
	m.w = w;
	snprintf(m.kernel_series, sizeof(m.kernel_series), "6.1");
	snprintf(path, sizeof(path), "%s/m.pmls", tmpdir);
	CHECK(pml_slots_model_write(path, &m) == 0);
	CHECK(pml_slots_model_read(path, "6.1.0-56-amd64", &back) == 0);
	if (back) {
		uint32_t fx[4] = {5, 77, 1000, 3};

		CHECK(back->n == 3 && back->idx[2] == 1000 && back->w[1] == -1.0f &&
		      back->threshold == 0.7f && back->bias == -1.5f);
		/* the hash index scores as the sorted list does */
		CHECK(back->h_key != NULL);
		CHECK(fabsf(pml_slots_score(back, fx, 4) - pml_slots_score(&m, fx, 4)) < 1e-6f);
		CHECK(fabsf(pml_slots_score(back, fx, 4) - 1.0f / (1.0f + expf(0.25f))) < 1e-5f);
		pml_slots_model_free(back);
		back = NULL;
	}
	CHECK(pml_slots_model_read(path, "6.12.0-1-amd64", &back) == -EXDEV && !back);
	CHECK(pml_slots_model_read("/etc/passwd", NULL, &back) == -EINVAL && !back);
	CHECK(pml_slots_model_read("/nonexistent/m", NULL, &back) == -ENOENT);
	f = fopen(path, "rb");
	CHECK(f != NULL);
	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	buf = malloc((size_t)size);
	CHECK(buf && fread(buf, 1, (size_t)size, f) == (size_t)size);
	fclose(f);
	if (!buf)
		return;
	/* a flipped byte in a weight: the checksum */
	snprintf(bad, sizeof(bad), "%s/bad.pmls", tmpdir);
	buf[size - 6] ^= 0x40;
	f = fopen(bad, "wb");
	fwrite(buf, 1, (size_t)size, f);
	fclose(f);
	CHECK(pml_slots_model_read(bad, NULL, &back) == -EBADMSG && !back);
	buf[size - 6] ^= 0x40;
	/* cut short */
	f = fopen(bad, "wb");
	fwrite(buf, 1, (size_t)size - 5, f);
	fclose(f);
	CHECK(pml_slots_model_read(bad, NULL, &back) < 0 && !back);
	free(buf);
	/* well formed but hostile: NaN weight, threshold 7, indices out of order */
	m.threshold = 7;
	CHECK(pml_slots_model_write(bad, &m) == 0);
	CHECK(pml_slots_model_read(bad, NULL, &back) == -EINVAL && !back);
	m.threshold = 0.7f;
	w[1] = NAN;
	CHECK(pml_slots_model_write(bad, &m) == 0);
	CHECK(pml_slots_model_read(bad, NULL, &back) == -EINVAL && !back);
	w[1] = 1;
	idx[1] = 2000;
	CHECK(pml_slots_model_write(bad, &m) == 0);
	CHECK(pml_slots_model_read(bad, NULL, &back) == -EINVAL && !back);
	unlink(bad);
	unlink(path);
}

static int kmod_resolve(void *data, const char *alias, char (*names)[64], size_t max)
{
	return pml_loader_resolve(data, alias, names, max);
}

/* The alias families against the pinned kernel's own index (libkmod): a command's words
 * fill each family and resolve to the module the kernel would load, none of them a module
 * named in a word itself. Skipped without the kernel tree. */
static void test_real_index(void)
{
	static const struct {
		const char *toks[10];
		const char *module;
	} cases[] = {
		{{"exec:ip", "arg:link", "arg:add", "arg:x", "arg:type", "arg:vxlan"}, "vxlan"},
		{{"exec:ip", "arg:link", "arg:add", "arg:x", "arg:type", "arg:bond"}, "bonding"},
		{{"exec:mount", "arg:-t", "arg:xfs", "argp:/dev:loop#"}, "xfs"},
		{{"exec:mkfs.btrfs", "arg:-f"}, "btrfs"},
		{{"exec:tc", "arg:qdisc", "arg:add", "arg:dev", "arg:x", "arg:root", "arg:netem"},
		 "sch_netem"},
		{{"exec:tc", "arg:filter", "arg:add", "arg:dev", "arg:x", "arg:flower"}, "cls_flower"},
		{{"exec:nft", "arg:add", "arg:rule", "arg:limit"}, "nft_limit"},
		{{"exec:iptables", "arg:-m", "arg:conntrack"}, "xt_conntrack"},
		{{"exec:ipset", "arg:create", "arg:s", "arg:hash.ip"}, "ip_set_hash_ip"},
		{{"exec:ipset", "arg:create", "arg:s", "arg:hash.ip,port"}, "ip_set_hash_ipport"},
		{{"exec:ipset", "arg:create", "arg:s", "arg:bitmap.ip,mac"}, "ip_set_bitmap_ipmac"},
		{{"exec:ipvsadm", "arg:-s", "arg:wrr"}, "ip_vs_wrr"},
		{{"exec:mount", "arg:-o", "arg:iocharset=utf8"}, "nls_utf8"},
		{{"exec:mount", "arg:-o", "arg:codepage=437"}, "nls_cp437"},
		{{"exec:sysctl", "arg:net.ipv4.tcp_congestion_control=bbr"}, "tcp_bbr"},
		{{"exec:mdadm", "arg:--level=raid5"}, "raid456"},
		{{"exec:cryptsetup", "arg:--cipher", "arg:serpent-xts-plain64"}, "serpent_generic"},
		{{"exec:dmsetup", "arg:create", "arg:t", "arg:thin-pool"}, "dm_thin_pool"},
	};
	struct pml_loader *ld = NULL;
	char moddir[4096];

	if (pml_kernel_moddir(moddir, sizeof(moddir)) < 0 ||
	    pml_loader_new_kmod(moddir, &ld) < 0) {
		printf("  slots: real index skipped (no guest kernel tree)\n");
		return;
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct seen c = {0};
		struct pml_slots sl;
		bool found = false;

		pml_slots_init(&sl, NULL, kmod_resolve, ld, on_cand, &c);
		for (int k = 0; k < 10 && cases[i].toks[k]; k++)
			pml_slots_token(&sl, cases[i].toks[k]);
		for (int k = 0; k < c.n; k++)
			found |= !strcmp(c.cands[k][0], cases[i].module);
		if (!found)
			fprintf(stderr, "  slots: %s not a candidate of %s ... (%d candidates)\n",
				cases[i].module, cases[i].toks[0], c.n);
		CHECK(found);
	}
	pml_loader_free(ld);
}

static void quiet(void *data, enum pml_log_level level, const char *fmt, va_list ap)
{
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	pml_set_log_fn(quiet, NULL);
	test_candidates();
	test_policy_unseen_module();
	test_file();
	test_real_index();
	rmdir(tmpdir);
	return unit_done("slots");
}
