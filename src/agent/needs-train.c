/* The needs model's trainer over decision logs; see needs-train.h. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/needs-train.h"
#include "run/run-report.h"
#include "util/log.h"

int pml_needs_train_log(struct pml_needs_model *m, const char *arg)
{
	char path[PATH_MAX];
	struct pml_report *rep;
	struct stat st;
	const char **mods;
	uint64_t *t;
	size_t n = 0, total;
	int r;

	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(path, sizeof(path), "%s/events.jsonl", arg);
	else
		snprintf(path, sizeof(path), "%s", arg);
	r = pml_report_load(path, &rep);
	if (r < 0)
		return r;
	/* Not one record read (another log version, or not a log): say why, not "0 needs". */
	if (!pml_report_summary(rep)->records && pml_report_summary(rep)->malformed) {
		for (size_t i = 0; i < pml_report_n_warnings(rep); i++)
			pml_err("%s: %s", path, pml_report_warning(rep, i)->text);
		pml_report_free(rep);
		return -EBADMSG;
	}
	total = pml_report_n_events(rep);
	mods = calloc(total ? total : 1, sizeof(*mods));
	t = calloc(total ? total : 1, sizeof(*t));
	if (!mods || !t) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < total; i++) {
		const struct pml_report_event *e = pml_report_event(rep, i);

		/* Costs from the actors' records (the kernel's carry no time). */
		if (e->kind == PML_EV_LOAD && e->module && (e->bytes >= 0 || e->ms >= 0) &&
		    e->source && strcmp(e->source, "tracefs"))
			pml_needs_model_add_cost(m, e->module, e->bytes, e->ms);
		if (e->kind != PML_EV_NEED || !e->module || !e->result ||
		    (strcmp(e->result, "loaded") && strcmp(e->result, "present")))
			continue;
		mods[n] = e->module;
		t[n++] = e->t_ns;
	}
	r = pml_needs_model_add_run(m, mods, t, n);
	if (r >= 0)
		r = (int)n;
out:
	free(mods);
	free(t);
	pml_report_free(rep);
	return r;
}
