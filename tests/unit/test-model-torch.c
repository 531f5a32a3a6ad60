/* The LSTM's second test layer: forward outputs and every parameter gradient against golden
 * tensors computed by torch (tests/model/lstm_ref.py) on the same weights, input and
 * entering state. The golden files are committed under tests/fixtures/model/, so this test
 * needs no torch; tests/model/check-torch.sh regenerates them with the installed torch and
 * runs this binary on the fresh files (PML_MODEL_GOLDEN_DIR) when torch is present. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model/lstm.h"
#include "unit.h"

struct golden_tensor {
	char name[32];
	uint32_t dtype; /* 0 float32, 1 int32 */
	size_t n;
	void *data;
};

struct golden {
	int count;
	struct golden_tensor t[64];
};

static int read_u32(FILE *f, uint32_t *v)
{
	return fread(v, 4, 1, f) == 1 ? 0 : -1;
}

static int golden_load(const char *path, struct golden *g)
{
	FILE *f = fopen(path, "rb");
	char magic[8];
	uint32_t count;

	memset(g, 0, sizeof(*g));
	if (!f)
		return -1;
	if (fread(magic, 8, 1, f) != 1 || memcmp(magic, "PMLGOLD1", 8) || read_u32(f, &count) ||
	    count > 64)
		goto fail;
	for (uint32_t i = 0; i < count; i++) {
		struct golden_tensor *t = &g->t[i];
		uint32_t len, ndim, dim;

		if (read_u32(f, &len) || len >= sizeof(t->name) || fread(t->name, 1, len, f) != len ||
		    read_u32(f, &t->dtype) || read_u32(f, &ndim) || ndim > 4)
			goto fail;
		t->n = 1;
		for (uint32_t d = 0; d < ndim; d++) {
			if (read_u32(f, &dim))
				goto fail;
			t->n *= dim;
		}
		t->data = malloc(t->n * 4 + 1);
		if (!t->data || fread(t->data, 4, t->n, f) != t->n)
			goto fail;
		g->count++;
	}
	fclose(f);
	return 0;
fail:
	fclose(f);
	return -1;
}

static void golden_free(struct golden *g)
{
	for (int i = 0; i < g->count; i++)
		free(g->t[i].data);
}

static const struct golden_tensor *golden_get(const struct golden *g, const char *name)
{
	for (int i = 0; i < g->count; i++)
		if (!strcmp(g->t[i].name, name))
			return &g->t[i];
	fprintf(stderr, "golden tensor %s missing\n", name);
	return NULL;
}

/* Compare n floats; print the max difference; pass when every |a-b| <= atol + rtol |b|. */
static int check_tensor(const float *a, const float *b, size_t n, const char *name)
{
	const double atol = 2e-6, rtol = 1e-4;
	double maxd = 0;
	int ok = 1;

	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - b[i]);

		if (d > maxd)
			maxd = d;
		if (!(d <= atol + rtol * fabs(b[i])))
			ok = 0;
	}
	printf("  %-8s n=%-4zu max |c - torch| = %.3e %s\n", name, n, maxd, ok ? "ok" : "FAIL");
	return ok;
}

static void compare(const struct golden *g, const char *cname, const float *c, size_t n)
{
	const struct golden_tensor *t = golden_get(g, cname);

	CHECK(t && t->n == n);
	if (t && t->n == n)
		CHECK(check_tensor(c, t->data, n, cname));
}

static void run_golden(const char *path)
{
	static const char *pnames[PML_LSTM_NTENSORS] = {
		"emb", "wih0", "whh0", "b0", "wih1", "whh1", "b1", "wout", "bout",
	};
	struct golden g;
	const struct golden_tensor *cfgt, *tt;
	struct pml_lstm_config cfg;
	struct pml_lstm *m;
	int B, T, L, H, M;
	size_t off = 0;
	double loss;
	char dname[16];

	if (golden_load(path, &g) < 0) {
		printf("SKIP %s: golden file missing or unreadable (regenerate with "
		       "tests/model/check-torch.sh --update)\n", path);
		golden_free(&g);
		return;
	}
	printf("%s:\n", path);
	cfgt = golden_get(&g, "config");
	CHECK(cfgt && cfgt->n == 7);
	if (!cfgt || cfgt->n != 7)
		goto out;
	{
		const int32_t *c = cfgt->data;

		cfg = (struct pml_lstm_config){.vocab = c[0], .embed = c[1], .hidden = c[2],
					       .layers = c[3], .modules = c[4]};
		B = c[5], T = c[6];
	}
	L = cfg.layers, H = cfg.hidden, M = cfg.modules;
	m = pml_lstm_new(&cfg);
	CHECK(m != NULL);
	if (!m)
		goto out;
	for (int i = 0; i < PML_LSTM_NTENSORS; i++) {
		const struct golden_tensor *p;

		if (!m->tensor_size[i])
			continue;
		p = golden_get(&g, pnames[i]);
		CHECK(p && p->n == m->tensor_size[i]);
		if (p && p->n == m->tensor_size[i])
			memcpy(m->params_mem + off, p->data, p->n * sizeof(float));
		off += m->tensor_size[i];
	}
	tt = golden_get(&g, "tokens");
	CHECK(tt && tt->n == (size_t)B * T);
	if (!tt || tt->n != (size_t)B * T)
		goto out_model;
	/* a first forward sizes the state buffers; then load torch's h0, c0 [L, B, H] */
	CHECK(pml_lstm_forward(m, tt->data, NULL, NULL, B, T, NULL) == 0);
	memcpy(m->h0, golden_get(&g, "h0")->data, sizeof(float) * L * B * H);
	memcpy(m->c0, golden_get(&g, "c0")->data, sizeof(float) * L * B * H);
	CHECK(pml_lstm_forward(m, tt->data, golden_get(&g, "targets")->data,
			       golden_get(&g, "mask")->data, B, T, &loss) == 0);
	pml_lstm_zero_grad(m);
	CHECK(pml_lstm_backward(m) == 0);
	{
		float l = (float)loss;

		compare(&g, "loss", &l, 1);
	}
	compare(&g, "probs", m->probs, (size_t)B * T * M);
	compare(&g, "h_top", m->h[L - 1], (size_t)B * T * H);
	/* torch's final state: carry it into h0/c0 and compare */
	pml_lstm_carry_state(m);
	compare(&g, "hT", m->h0, (size_t)L * B * H);
	compare(&g, "cT", m->c0, (size_t)L * B * H);
	off = 0;
	for (int i = 0; i < PML_LSTM_NTENSORS; i++) {
		if (!m->tensor_size[i])
			continue;
		snprintf(dname, sizeof(dname), "d_%s", pnames[i]);
		compare(&g, dname, m->grads_mem + off, m->tensor_size[i]);
		off += m->tensor_size[i];
	}
out_model:
	pml_lstm_free(m);
out:
	golden_free(&g);
}

int main(void)
{
	const char *dir = getenv("PML_MODEL_GOLDEN_DIR");
	const char *fix = getenv("PML_TEST_FIXTURES");
	char path[4096];

	for (int l = 1; l <= 2; l++) {
		if (dir)
			snprintf(path, sizeof(path), "%s/lstm-golden-l%d.bin", dir, l);
		else
			snprintf(path, sizeof(path), "%s/model/lstm-golden-l%d.bin",
				 fix ? fix : "tests/fixtures", l);
		run_golden(path);
	}
	return unit_done("model-torch");
}
