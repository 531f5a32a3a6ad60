/* Totals over many replayed runs of one policy (sim.h: struct pml_sim_totals): the
 * metrics summed, and the lead times kept for their median. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

int pml_sim_totals_add(struct pml_sim_totals *tot, const struct pml_sim_result *r)
{
	struct pml_sim_metrics *a = &tot->m;
	const struct pml_sim_metrics *b = &r->m;

	tot->runs++;
	a->needs += b->needs;
	a->stalls += b->stalls;
	a->empty_requests += b->empty_requests;
	a->stall_ms += b->stall_ms;
	a->byte_s += b->byte_s;
	a->peak_bytes += b->peak_bytes;
	if (b->peak_bytes > tot->max_peak)
		tot->max_peak = b->peak_bytes;
	a->predicted_loads += b->predicted_loads;
	a->prefetched += b->prefetched;
	a->wasted_loads += b->wasted_loads;
	a->miss_loads += b->miss_loads;
	a->reloads += b->reloads;
	a->asks += b->asks;
	a->refused += b->refused;
	a->evictions += b->evictions;
	a->unloads += b->unloads;
	a->unload_busy += b->unload_busy;
	a->exposure_s += b->exposure_s;
	a->fp_loading_bs += b->fp_loading_bs;
	a->fp_in_use_bs += b->fp_in_use_bs;
	a->fp_idle_bs += b->fp_idle_bs;
	a->fp_early_bs += b->fp_early_bs;
	a->fp_wasted_bs += b->fp_wasted_bs;
	a->lead_n += b->lead_n;
	a->lead_sum_ms += b->lead_sum_ms;
	a->duration_s += b->duration_s;
	a->recorded_stall_ms += b->recorded_stall_ms;
	for (size_t i = 0; i < r->n_needs; i++) {
		if (r->needs[i].lead_ms < 0)
			continue;
		if (tot->n_leads == tot->cap_leads) {
			size_t cap = tot->cap_leads ? 2 * tot->cap_leads : 64;
			double *l = realloc(tot->leads, cap * sizeof(*l));

			if (!l)
				return -ENOMEM;
			tot->leads = l;
			tot->cap_leads = cap;
		}
		tot->leads[tot->n_leads++] = r->needs[i].lead_ms;
	}
	return 0;
}

void pml_sim_totals_release(struct pml_sim_totals *tot)
{
	free(tot->leads);
	memset(tot, 0, sizeof(*tot));
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

double pml_sim_totals_median_lead(struct pml_sim_totals *tot)
{
	if (!tot->n_leads)
		return -1;
	qsort(tot->leads, tot->n_leads, sizeof(double), cmp_double);
	if (tot->n_leads % 2)
		return tot->leads[tot->n_leads / 2];
	return (tot->leads[tot->n_leads / 2 - 1] + tot->leads[tot->n_leads / 2]) / 2;
}
