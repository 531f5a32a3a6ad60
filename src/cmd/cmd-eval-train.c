/* pml eval: what the training split gives the policies that learn from it. load-all
 * preloads every module any training run needed, static those of the run's own family
 * (most often needed first), markov runs a needs model counted from the training runs'
 * traces (or read from --markov-model; --save-markov writes the counted one). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd-eval.h"
#include "cmd/commands.h"
#include "dataset/needs.h"
#include "policy/needs-model.h"
#include "sim/catalog.h"
#include "util/safepath.h"

static int count_module(struct eval_training *tr, const char *family, const char *name)
{
	for (size_t i = 0; i < tr->n; i++)
		if (!strcmp(tr->v[i].family, family) && !strcmp(tr->v[i].name, name)) {
			tr->v[i].runs++;
			return 0;
		}
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? 2 * tr->cap : 128;
		struct eval_modcount *n = realloc(tr->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		tr->v = n;
		tr->cap = cap;
	}
	memset(&tr->v[tr->n], 0, sizeof(tr->v[0]));
	snprintf(tr->v[tr->n].name, sizeof(tr->v[0].name), "%s", name);
	snprintf(tr->v[tr->n].family, sizeof(tr->v[0].family), "%s", family);
	tr->v[tr->n++].runs = 1;
	return 0;
}

static int by_runs(const void *x, const void *y)
{
	const struct eval_modcount *a = x, *b = y;

	if (a->runs != b->runs)
		return a->runs > b->runs ? -1 : 1;
	return strcmp(a->name, b->name);
}

const char **eval_module_list(const struct eval_training *tr, const char *family,
			      size_t *ret_n)
{
	const char **v = calloc(tr->n + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return NULL;
	for (size_t i = 0; i < tr->n; i++)
		if (!strcmp(tr->v[i].family, family))
			v[n++] = tr->v[i].name;
	*ret_n = n;
	return v;
}

/* A training run's needs (from its trace) into markov's model, with their costs from
 * cat. 0 (a trace that cannot be read is said and left out) or -ENOMEM. */
static int count_needs(const struct pml_dataset *ds, const struct pml_ds_run *run,
		       struct pml_sim_catalog *cat, struct pml_needs_model *markov)
{
	char path[4300];
	struct pml_needs needs;
	const char **names;
	uint64_t *times;
	size_t k = 0;
	int r;

	if (!run->trace[0])
		return 0;
	/* below the dataset, through no link (the manifest is not trusted) */
	snprintf(path, sizeof(path), "%s/%s", ds->dir, run->trace);
	r = pml_dataset_trace_open(ds, run);
	if (r >= 0)
		r = pml_needs_from_fd(r, path, &needs);
	else
		pml_needs_init(&needs);
	if (r < 0 && r != -ENODATA && r != -EBADMSG) {
		pml_needs_release(&needs);
		fprintf(stderr, "pml: eval: %s: %s (left out of markov's model)\n", path,
			pml_beneath_strerror(r));
		return 0;
	}
	names = calloc(needs.n + 1, sizeof(*names));
	times = calloc(needs.n + 1, sizeof(*times));
	if (!names || !times) {
		free(names);
		free(times);
		pml_needs_release(&needs);
		return -ENOMEM;
	}
	for (size_t j = 0; j < needs.n; j++) {
		const struct pml_sim_mod *m;

		if (!needs.v[j].module[0])
			continue;
		names[k] = needs.v[j].module;
		times[k++] = needs.v[j].t_ns;
		m = pml_sim_catalog_get(cat, needs.v[j].module);
		if (m)
			pml_needs_model_add_cost(markov, m->name, m->bytes, m->load_ms);
	}
	r = pml_needs_model_add_run(markov, names, times, k);
	free(names);
	free(times);
	pml_needs_release(&needs);
	return r == -ENOMEM ? r : 0;
}

/* Count the training runs: modules per family and overall; markov's needs model from
 * their traces when wanted. Returns the number of training runs or -ENOMEM. */
static int learn(const struct pml_dataset *ds, struct pml_sim_catalog *cat, bool markov,
		 struct eval_training *tr)
{
	size_t n_train = 0;
	int r;

	if (markov) {
		r = pml_needs_model_new(0, -1, &tr->markov);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < ds->n_runs; i++) {
		const struct pml_ds_run *run = &ds->runs[i];
		char mods[sizeof(run->modules)], *save = NULL, *tok;

		if (run->split != PML_SPLIT_TRAIN || run->state != PML_RUN_OK)
			continue;
		n_train++;
		snprintf(mods, sizeof(mods), "%s", run->modules);
		for (tok = strtok_r(mods, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			if (count_module(tr, "", tok) < 0 || count_module(tr, run->family, tok) < 0)
				return -ENOMEM;
		}
		if (markov && count_needs(ds, run, cat, tr->markov) < 0)
			return -ENOMEM;
	}
	qsort(tr->v, tr->n, sizeof(tr->v[0]), by_runs);
	return (int)n_train;
}

int eval_learn(const struct eval_opts *o, struct eval *ev)
{
	struct eval_training *tr = &ev->tr;
	bool markov = eval_pol_index(ev, "markov") >= 0;
	int r;

	r = learn(ev->ds, ev->cat, o->save_markov || (markov && !o->markov_model), tr);
	if (r < 0)
		return eval_fail(r);
	if (r == 0 && !o->json)
		fprintf(stderr, "pml: eval: %s: no training runs: load-all, static and markov have "
				"nothing to learn from\n", o->dataset);
	if (o->save_markov) {
		r = pml_needs_model_save(tr->markov, o->save_markov);
		if (r < 0) {
			fprintf(stderr, "pml: eval: --save-markov %s: %s\n", o->save_markov,
				strerror(-r));
			return PML_EXIT_FAIL;
		}
		if (!o->json)
			fprintf(stderr, "pml: eval: wrote %s: the needs model of %zu training runs "
					"(%zu modules, %zu pairs)\n", o->save_markov,
				pml_needs_model_runs(tr->markov), pml_needs_model_modules(tr->markov),
				pml_needs_model_pairs(tr->markov));
	}
	if (o->markov_model && markov) {
		char why[256];

		pml_needs_model_free(tr->markov); /* the one counted for --save-markov */
		tr->markov = NULL;
		r = pml_needs_model_load(o->markov_model, &tr->markov, why, sizeof(why));
		if (r < 0) {
			fprintf(stderr, "pml: eval: %s: %s\n", o->markov_model, why);
			return PML_EXIT_FAIL;
		}
	}
	tr->all = eval_module_list(tr, "", &tr->n_all);
	if (!tr->all)
		return eval_fail(-ENOMEM);
	return PML_EXIT_OK;
}

void eval_training_release(struct eval_training *tr)
{
	free(tr->all);
	free(tr->v);
	pml_needs_model_free(tr->markov);
}
