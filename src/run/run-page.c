/* pml run's report page; see run-page.h. Plain HTML and SVG written straight to a stream.
 * A module's row holds its spans (load to unload, or to the end), coloured by why it was
 * loaded and whether it was used (a need of it while loaded, or pmld's used record,
 * as the report counts them); needs are marks on the row (a red dot with its stall
 * time, a green diamond when the module was already there). */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "run/run-page.h"

#define W 1200.0
#define LABEL 170.0
#define RIGHT 20.0
#define TOP 30.0
#define ROW 16.0
#define MAX_ROWS 160

/* Text from the guest, for markup: escaped, control characters dropped. */
static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '<')
			fputs("&lt;", f);
		else if (c == '>')
			fputs("&gt;", f);
		else if (c == '&')
			fputs("&amp;", f);
		else if (c == '"')
			fputs("&quot;", f);
		else if (c >= 0x20 && c != 0x7f)
			fputc(c, f);
	}
}

struct row {
	const char *module;
	double need_t; /* first need, s (HUGE_VAL: none) */
	double first_t;
};

static bool is_pmld(const struct pml_report_event *e)
{
	return e->source && !strcmp(e->source, "pmld");
}

/* The module a policy predicted (its dependencies loaded along are not). */
static bool is_prefetch(const struct pml_report_event *e)
{
	return e->kind == PML_EV_LOAD && e->cause == PML_CAUSE_PREFETCH && is_pmld(e);
}

static long row_of(const struct row *rows, size_t n, const char *m)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].module, m))
			return (long)i;
	return -1;
}

static int by_need(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->need_t != y->need_t)
		return x->need_t < y->need_t ? -1 : 1;
	return x->first_t < y->first_t ? -1 : x->first_t > y->first_t;
}

/* The non-base modules of a run that were loaded, unloaded or needed: needed ones first
 * in need order, then the others by first appearance; at most MAX_ROWS. */
static size_t collect_rows(const struct pml_report *rep, double t0, struct row *rows)
{
	size_t n = 0;

	for (size_t i = 0; i < pml_report_n_events(rep); i++) {
		const struct pml_report_event *e = pml_report_event(rep, i);
		double t = ((double)e->t_ns - t0) / 1e9;
		long r;

		if (!e->module || e->duplicate || (e->kind != PML_EV_LOAD &&
		    e->kind != PML_EV_UNLOAD && e->kind != PML_EV_NEED))
			continue;
		r = row_of(rows, n, e->module);
		if (r < 0) {
			if (n == MAX_ROWS)
				continue;
			rows[n] = (struct row){e->module, HUGE_VAL, t};
			r = (long)n++;
		}
		if (e->kind == PML_EV_NEED && rows[r].need_t == HUGE_VAL)
			rows[r].need_t = t;
	}
	qsort(rows, n, sizeof(*rows), by_need);
	return n;
}

static double sx(double t, double t1)
{
	return LABEL + (t1 > 0 ? t / t1 : 0) * (W - LABEL - RIGHT);
}

static void timeline(FILE *f, const struct pml_run_page_run *run, double span)
{
	const struct pml_report_summary *s = pml_report_summary(run->rep);
	double t0 = (double)s->t_start_ns, step;
	struct row *rows = calloc(MAX_ROWS, sizeof(*rows));
	double *open_t = calloc(MAX_ROWS, sizeof(*open_t));
	const struct pml_report_event **open_e = calloc(MAX_ROWS, sizeof(*open_e));
	bool *used = calloc(MAX_ROWS, sizeof(*used));
	size_t n;

	if (!rows || !open_t || !open_e || !used) {
		free(rows);
		free(open_t);
		free(open_e);
		free(used);
		return;
	}
	n = collect_rows(run->rep, t0, rows);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "font-family=\"sans-serif\" font-size=\"11\">\n", W,
		TOP + (double)(n ? n : 1) * ROW + 12);
	for (size_t i = 0; i < n; i++) {
		double y = TOP + (double)i * ROW;

		if (i % 2)
			fprintf(f, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" "
				   "fill=\"#f1f5f9\"/>\n", LABEL, y, W - LABEL - RIGHT, ROW);
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\"%s>", LABEL - 6,
			y + ROW - 4, rows[i].need_t < HUGE_VAL ? " font-weight=\"bold\""
							       : " fill=\"#64748b\"");
		esc(f, rows[i].module);
		fputs("</text>\n", f);
		open_t[i] = -1;
	}
	if (!n)
		fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"#64748b\">no module was loaded, "
			   "unloaded or needed</text>\n", LABEL, TOP + 12);
	step = span > 20 ? 5 : span > 8 ? 2 : span > 4 ? 1 : span > 2 ? 0.5 : 0.25;
	for (double t = 0; t <= span + 1e-9; t += step) {
		double x = sx(t, span);

		fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e2e8f0\"/>"
			   "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#64748b\">"
			   "%g s</text>\n", x, TOP - 4, x, TOP + (double)n * ROW, x, TOP - 10, t);
	}
	/* Spans close at an unload or the end; a prefetch counts as used when a need of its
	 * module comes while it is loaded. */
	for (size_t i = 0; i <= pml_report_n_events(run->rep); i++) {
		const struct pml_report_event *e = pml_report_event(run->rep, i);
		bool end = !e;
		double t = e ? ((double)e->t_ns - t0) / 1e9 : span;

		for (size_t k = 0; k < n; k++) {
			const struct pml_report_event *l = open_e[k];
			bool closes = end || (e->kind == PML_EV_UNLOAD && !e->duplicate && e->module &&
					      !strcmp(e->module, rows[k].module));
			double x0, x1, y = TOP + (double)k * ROW + 3;
			bool pre;

			if (!l || !closes)
				continue;
			pre = is_prefetch(l);
			x0 = sx(open_t[k] > 0 ? open_t[k] : 0, span);
			x1 = sx(t < span ? t : span, span);
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.0f\" "
				   "fill=\"%s\"><title>", x0, y, x1 > x0 ? x1 - x0 : 0.5, ROW - 6,
				!pre ? "#94a3b8" : used[k] ? "#2563eb" : "#f59e0b");
			esc(f, rows[k].module);
			fprintf(f, ": loaded at %.3f s (%s%s", open_t[k],
				!pre ? "on a need" : used[k] ? "prefetched, used" :
				"prefetched, never used", l->ms >= 0 ? ", " : "");
			if (l->ms >= 0)
				fprintf(f, "%.1f ms to load", l->ms);
			if (l->confidence >= 0)
				fprintf(f, ", confidence %.2f", l->confidence);
			fputs(")", f);
			if (l->reason) {
				fputs(": ", f);
				esc(f, l->reason);
			}
			if (!end) {
				fprintf(f, "; unloaded at %.3f s", t);
				if (e->reason) {
					fputs(": ", f);
					esc(f, e->reason);
				}
			}
			fputs("</title></rect>\n", f);
			if (!end)
				fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
					   "stroke=\"#0f172a\" stroke-width=\"2\"/>\n", x1, y - 2, x1,
					y + ROW - 4);
			open_e[k] = NULL;
		}
		if (end)
			break;
		if (!e->module || e->duplicate)
			continue;
		long r = row_of(rows, n, e->module);

		if (r < 0)
			continue;
		/* pmld's used record: a prefetched module in use before any need reached the
		 * kernel (there is none when the module is already there) */
		if (e->kind == PML_EV_USED && is_pmld(e) && open_e[r])
			used[r] = true;
		if (e->kind == PML_EV_LOAD && !open_e[r]) {
			open_e[r] = e;
			open_t[r] = t;
			used[r] = false;
		} else if (e->kind == PML_EV_NEED) {
			double x = sx(t > 0 ? t : 0, span), y = TOP + (double)r * ROW + ROW / 2;
			bool stall = e->result && !strcmp(e->result, "loaded");

			if (open_e[r])
				used[r] = true;
			if (stall)
				fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"#dc2626\">"
					   "<title>", x, y);
			else
				fprintf(f, "<path d=\"M%.1f %.1f l5 5 l-5 5 l-5 -5 z\" fill=\"#16a34a\" "
					   "stroke=\"white\"><title>", x, y - 5);
			fprintf(f, "need of ");
			esc(f, e->module);
			if (e->alias) {
				fputs(" (", f);
				esc(f, e->alias);
				fputs(")", f);
			}
			fprintf(f, " at %.3f s: ", t);
			if (stall)
				fprintf(f, "a stall of %.1f ms", e->ms >= 0 ? e->ms : 0);
			else
				esc(f, e->result ? e->result : "served");
			if (e->comm) {
				fputs(" [", f);
				esc(f, e->comm);
				fputs("]", f);
			}
			fputs(stall ? "</title></circle>\n" : "</title></path>\n", f);
		}
	}
	fputs("</svg>\n", f);
	free(rows);
	free(open_t);
	free(open_e);
	free(used);
}

static void totals(FILE *f, const struct pml_run_page_run *runs, size_t n)
{
	static const char *const head[] = {"", "boot", "start &rarr; command s", "wall s",
					   "needs", "stalls", "stall ms", "prefetched",
					   "never used", "peak KiB", "module KiB&middot;s",
					   "pmld CPU ms"};

	fputs("<table><tr>", f);
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		fprintf(f, "<th>%s</th>", head[i]);
	fputs("</tr>\n", f);
	for (size_t i = 0; i < n; i++) {
		const struct pml_report_summary *s = pml_report_summary(runs[i].rep);

		fputs("<tr><td>", f);
		esc(f, runs[i].label);
		fputs("</td><td>", f);
		esc(f, runs[i].boot ? runs[i].boot : "-");
		if (runs[i].start_to_cmd_s >= 0)
			fprintf(f, "</td><td>%.2f", runs[i].start_to_cmd_s);
		else
			fputs("</td><td>-", f);
		if (runs[i].wall_s >= 0)
			fprintf(f, "</td><td>%.2f", runs[i].wall_s);
		else
			fputs("</td><td>-", f);
		fprintf(f, "</td><td>%zu</td><td>%zu</td><td>%.1f</td><td>%zu</td><td>%zu</td>"
			   "<td>%.0f</td><td>%.0f</td>", s->needs, s->stalls, s->stall_ms,
			s->predicted_loads, s->wasted, (double)s->peak_bytes / 1024,
			s->byte_seconds / 1024);
		if (s->agent_cpu_ms >= 0)
			fprintf(f, "<td>%.0f</td>", s->agent_cpu_ms);
		else
			fputs("<td>-</td>", f);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

int pml_run_page_html(FILE *f, const char *command, const struct pml_run_page_run *runs,
		      size_t n)
{
	double span = 0;

	for (size_t i = 0; i < n; i++) {
		const struct pml_report_summary *s = pml_report_summary(runs[i].rep);
		double d = (double)(s->t_end_ns - s->t_start_ns) / 1e9;

		if (d > span)
			span = d;
	}
	if (span <= 0)
		span = 1;
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>pml run</title>\n"
	      "<style>body{font-family:sans-serif;margin:24px;color:#0f172a}"
	      "table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #cbd5e1;"
	      "padding:3px 8px;text-align:right}td:first-child{text-align:left}"
	      "code{background:#f1f5f9;padding:1px 4px}.key span{display:inline-block;"
	      "width:12px;height:10px;margin:0 4px 0 14px}</style></head><body>\n"
	      "<h1>pml run</h1>\n", f);
	if (command) {
		fputs("<p>command: <code>", f);
		esc(f, command);
		fputs("</code></p>\n", f);
	}
	totals(f, runs, n);
	fputs("<p class=\"key\"><span style=\"background:#94a3b8\"></span>loaded on a need"
	      "<span style=\"background:#2563eb\"></span>prefetched, used"
	      "<span style=\"background:#f59e0b\"></span>prefetched, never used"
	      "<span style=\"background:#dc2626;border-radius:6px\"></span>a need that stalled"
	      "<span style=\"background:#16a34a\"></span>a need already met"
	      " &mdash; hover for the reason, the confidence and the times</p>\n", f);
	for (size_t i = 0; i < n; i++) {
		fputs("<h2>", f);
		esc(f, runs[i].label);
		fputs("</h2>\n", f);
		timeline(f, &runs[i], span);
	}
	fputs("</body></html>\n", f);
	return ferror(f) ? -EIO : 0;
}
