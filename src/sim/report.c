/* The replay report page: tables and one SVG timeline per policy (see report.h). Plain
 * HTML and SVG written straight to a stream; every string that comes from a trace or a
 * dataset (command lines, run ids) is escaped. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/report.h"

#define W 1300.0
#define LABEL 180.0
#define RIGHT 20.0
#define TOP 28.0
#define ROW 16.0
#define MEM_H 100.0
#define MB (1024.0 * 1024.0)

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

/* A module name fit for markup as it is (a hostile trace may name anything). */
static const char *clean(const char *s, char out[64])
{
	size_t i = 0;

	for (; s && s[i] && i < 63; i++)
		out[i] = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
				 (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-' ||
				 s[i] == '.' ? s[i] : '?';
	out[i] = '\0';
	return out;
}

/* The module rows: needed modules in need order, then the others by first appearance. */
struct rows {
	char (*name)[64];
	double *first;
	size_t n, cap;
};

static long row_of(const struct rows *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->name[i], name))
			return (long)i;
	return -1;
}

static int row_add(struct rows *r, const char *name, double t)
{
	long i = row_of(r, name);

	if (i >= 0) {
		if (t < r->first[i])
			r->first[i] = t;
		return 0;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 32;
		char(*n)[64] = realloc(r->name, cap * sizeof(*n));
		double *fi;

		if (!n)
			return -ENOMEM;
		r->name = n;
		fi = realloc(r->first, cap * sizeof(*fi));
		if (!fi)
			return -ENOMEM;
		r->first = fi;
		r->cap = cap;
	}
	snprintf(r->name[r->n], 64, "%s", name);
	r->first[r->n++] = t;
	return 0;
}

static int build_rows(const struct pml_sim_report *rep, struct rows *rows, size_t *n_needed)
{
	size_t start;

	memset(rows, 0, sizeof(*rows));
	for (size_t k = 0; k < rep->n_results; k++)
		for (size_t i = 0; i < rep->results[k]->n_needs; i++)
			if (row_add(rows, rep->results[k]->needs[i].module,
				    rep->results[k]->needs[i].t_ms) < 0)
				return -ENOMEM;
	*n_needed = start = rows->n;
	for (size_t k = 0; k < rep->n_results; k++)
		for (size_t i = 0; i < rep->results[k]->n_spans; i++) {
			const struct pml_sim_span *s = &rep->results[k]->spans[i];
			long at = row_of(rows, s->module);

			if (at >= 0 && (size_t)at < start)
				continue;
			if (row_add(rows, s->module, s->t_start_ms) < 0)
				return -ENOMEM;
		}
	/* the others by first appearance (insertion sort: a few hundred at most) */
	for (size_t i = start + 1; i < rows->n; i++)
		for (size_t j = i; j > start && rows->first[j] < rows->first[j - 1]; j--) {
			char tmp[64];
			double t = rows->first[j];

			memcpy(tmp, rows->name[j], 64);
			memcpy(rows->name[j], rows->name[j - 1], 64);
			memcpy(rows->name[j - 1], tmp, 64);
			rows->first[j] = rows->first[j - 1];
			rows->first[j - 1] = t;
		}
	return 0;
}

static double nice_step(double span)
{
	double raw = span / 10, p = pow(10, floor(log10(raw > 0 ? raw : 1)));

	if (raw <= p)
		return p;
	if (raw <= 2 * p)
		return 2 * p;
	if (raw <= 5 * p)
		return 5 * p;
	return 10 * p;
}

struct scale {
	double t0, t1, mem_max;
};

static double sx(const struct scale *sc, double t)
{
	double span = sc->t1 - sc->t0;

	return LABEL + (span > 0 ? (t - sc->t0) / span : 0) * (W - LABEL - RIGHT);
}

static void timeline(FILE *f, const struct pml_sim_result *r, const struct rows *rows,
		     size_t n_needed, const struct scale *sc)
{
	double plot_h = (double)rows->n * ROW;
	double mem_top = TOP + plot_h + 24, h = mem_top + MEM_H + 34;
	double step = nice_step(sc->t1 - sc->t0);

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		   "font-family=\"sans-serif\" font-size=\"11\">\n", W, h);
	/* stripes and labels */
	for (size_t i = 0; i < rows->n; i++) {
		double y = TOP + (double)i * ROW;

		if (i % 2)
			fprintf(f, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\" "
				   "fill=\"#f1f5f9\"/>\n", LABEL, y, W - LABEL - RIGHT, ROW);
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\"%s>", LABEL - 6,
			y + ROW - 4, i < n_needed ? " font-weight=\"bold\"" : " fill=\"#475569\"");
		esc(f, rows->name[i]);
		fputs("</text>\n", f);
	}
	/* time axis */
	for (double t = ceil(sc->t0 / step) * step; t <= sc->t1 + 1e-9; t += step) {
		double x = sx(sc, t);

		fprintf(f, "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e2e8f0\"/>"
			   "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\" fill=\"#475569\">"
			   "%g s</text>\n", x, TOP - 4, x, mem_top + MEM_H, x, TOP - 10, t / 1000);
	}
	/* spans */
	for (size_t i = 0; i < r->n_spans; i++) {
		const struct pml_sim_span *s = &r->spans[i];
		long row = row_of(rows, s->module);
		double y, loaded = s->t_loaded_ms >= 0 ? s->t_loaded_ms : s->t_end_ms;
		const char *color = !s->predicted ? "#64748b" : s->used ? "#2563eb" : "#f59e0b";
		char name[64];

		if (row < 0)
			continue;
		y = TOP + (double)row * ROW + 3;
		if (loaded > s->t_start_ms)
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.0f\" "
				   "fill=\"#cbd5e1\"><title>%s: loading %.1f-%.1f ms</title></rect>\n",
				sx(sc, s->t_start_ms), y, sx(sc, loaded) - sx(sc, s->t_start_ms),
				ROW - 6, clean(s->module, name), s->t_start_ms, loaded);
		if (s->t_end_ms > loaded)
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.0f\" "
				   "fill=\"%s\"><title>%s: loaded %.1f-%.1f ms, %lld bytes (%s)"
				   "</title></rect>\n",
				sx(sc, loaded), y, sx(sc, s->t_end_ms) - sx(sc, loaded), ROW - 6,
				color, clean(s->module, name), loaded, s->t_end_ms,
				(long long)s->bytes,
				!s->predicted ? "loaded on a stall" :
				s->used ? "prefetched, used" : "prefetched, never used");
	}
	/* asks */
	for (size_t i = 0; i < r->n_asks; i++) {
		const struct pml_sim_ask *a = &r->asks[i];
		long row = row_of(rows, a->module);
		double x, y;
		char name[64];

		if (row < 0 || a->verdict == PML_SIM_IGNORED)
			continue;
		x = sx(sc, a->t_ms);
		y = TOP + (double)row * ROW;
		if (a->verdict == PML_SIM_GRANTED)
			fprintf(f, "<path d=\"M%.1f %.1f l-4 -5 h8 z\" fill=\"#0f172a\"><title>"
				   "%s asked for at %.1f ms (confidence %.2f)</title></path>\n",
				x, y + 6, clean(a->module, name), a->t_ms, a->confidence);
		else
			fprintf(f, "<path d=\"M%.1f %.1f l6 6 m0 -6 l-6 6\" stroke=\"#dc2626\" "
				   "stroke-width=\"1.5\"><title>%s asked for at %.1f ms: refused "
				   "(budget)</title></path>\n", x - 3, y + 1, clean(a->module, name),
				a->t_ms);
	}
	/* needs */
	for (size_t i = 0; i < r->n_needs; i++) {
		const struct pml_sim_need *nd = &r->needs[i];
		long row = row_of(rows, nd->module);
		double x, y;
		char name[64];

		if (row < 0)
			continue;
		x = sx(sc, nd->t_ms);
		y = TOP + (double)row * ROW + ROW / 2;
		if (nd->stalled) {
			fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"4\" "
				   "fill=\"#dc2626\"/>", x, y - 2,
				sx(sc, nd->t_ms + nd->stall_ms) - x);
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"#dc2626\">"
				   "<title>need %s (", x, y, clean(nd->module, name));
			esc(f, nd->alias);
			fprintf(f, ") at %.1f ms: stall %.1f ms</title></circle>\n", nd->t_ms,
				nd->stall_ms);
		} else {
			fprintf(f, "<path d=\"M%.1f %.1f l5 5 l-5 5 l-5 -5 z\" fill=\"#16a34a\" "
				   "stroke=\"white\"><title>need %s (", x, y - 5,
				clean(nd->module, name));
			esc(f, nd->alias);
			fprintf(f, ") at %.1f ms: hit", nd->t_ms);
			if (nd->lead_ms >= 0)
				fprintf(f, ", asked for %.1f ms before", nd->lead_ms);
			fputs("</title></path>\n", f);
		}
	}
	/* memory */
	{
		double y0 = mem_top + MEM_H, prev_x = sx(sc, r->start_ms), prev_y = y0;

		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">module memory</text>\n"
			   "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#475569\">"
			   "%.2f MB</text>\n<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
			   "stroke=\"#94a3b8\"/>\n", LABEL - 6, mem_top + MEM_H / 2, LABEL - 6,
			mem_top + 8, sc->mem_max / MB, LABEL, y0, W - RIGHT, y0);
		fputs("<path fill=\"none\" stroke=\"#2563eb\" stroke-width=\"1.5\" d=\"", f);
		fprintf(f, "M%.1f %.1f", prev_x, prev_y);
		for (size_t i = 0; i < r->n_points; i++) {
			double x = sx(sc, r->points[i].t_ms);
			double y = y0 - (double)r->points[i].bytes / sc->mem_max * (MEM_H - 8);

			fprintf(f, " H%.1f V%.1f", x, y);
			prev_y = y;
		}
		fprintf(f, " H%.1f\"/>\n", sx(sc, r->end_ms));
		if (r->budget_mem > 0) {
			double y = y0 - (double)r->budget_mem / sc->mem_max * (MEM_H - 8);

			fprintf(f, "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
				   "stroke=\"#dc2626\" stroke-dasharray=\"6 4\"/><text x=\"%.0f\" "
				   "y=\"%.1f\" text-anchor=\"end\" fill=\"#dc2626\">budget %.2f MB"
				   "</text>\n", LABEL, y, W - RIGHT, y, W - RIGHT, y - 3,
				(double)r->budget_mem / MB);
		}
	}
	fputs("</svg>\n", f);
}

static void run_table(FILE *f, const struct pml_sim_report *rep)
{
	fputs("<table><tr><th>policy</th><th>stalls / needs</th><th>stall time ms</th>"
	      "<th>footprint MB&middot;s</th><th>peak MB</th><th>predicted loads</th>"
	      "<th>wasted</th><th>exposure module&middot;s</th><th>mean lead ms</th></tr>\n", f);
	for (size_t k = 0; k < rep->n_results; k++) {
		const struct pml_sim_metrics *m = &rep->results[k]->m;

		fprintf(f, "<tr><td>%s</td><td>%u / %u</td><td>%.1f</td><td>%.3f</td>"
			   "<td>%.3f</td><td>%u</td><td>%u</td><td>%.2f</td><td>",
			rep->results[k]->policy, m->stalls, m->needs, m->stall_ms, m->byte_s / MB,
			(double)m->peak_bytes / MB, m->predicted_loads, m->wasted_loads,
			m->exposure_s);
		if (m->lead_n)
			fprintf(f, "%.0f", m->lead_sum_ms / m->lead_n);
		else
			fputs("&ndash;", f);
		fputs("</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

static void split_table(FILE *f, const struct pml_sim_report *rep)
{
	fputs("<table><tr><th>policy</th><th>runs</th><th>stall rate</th><th>stalls / needs</th>"
	      "<th>stall time s</th><th>footprint MB&middot;s</th><th>vs oracle</th>"
	      "<th>vs load-all</th><th>mean peak MB</th><th>predicted</th><th>wasted</th>"
	      "<th>exposure module&middot;s</th><th>median lead ms</th></tr>\n", f);
	for (size_t k = 0; k < rep->n_rows; k++) {
		const struct pml_sim_report_row *row = &rep->rows[k];
		struct pml_sim_totals *t = row->totals;
		double lead = pml_sim_totals_median_lead(t);

		fprintf(f, "<tr><td>%s</td><td>%u</td><td>%.3f</td><td>%u / %u</td><td>%.2f</td>"
			   "<td>%.2f</td>", row->policy, t->runs,
			t->m.needs ? (double)t->m.stalls / t->m.needs : 0, t->m.stalls, t->m.needs,
			t->m.stall_ms / 1e3, t->m.byte_s / MB);
		if (row->fp_vs_oracle >= 0)
			fprintf(f, "<td>%.2f</td>", row->fp_vs_oracle);
		else
			fputs("<td>&ndash;</td>", f);
		if (row->fp_vs_load_all >= 0)
			fprintf(f, "<td>%.2f</td>", row->fp_vs_load_all);
		else
			fputs("<td>&ndash;</td>", f);
		fprintf(f, "<td>%.3f</td><td>%u</td><td>%u</td><td>%.1f</td>",
			t->runs ? (double)t->m.peak_bytes / t->runs / MB : 0, t->m.predicted_loads,
			t->m.wasted_loads, t->m.exposure_s);
		if (lead >= 0)
			fprintf(f, "<td>%.0f</td></tr>\n", lead);
		else
			fputs("<td>&ndash;</td></tr>\n", f);
	}
	fputs("</table>\n", f);
}

int pml_sim_report_html(FILE *f, const struct pml_sim_report *rep)
{
	struct rows rows;
	struct scale sc = {0};
	size_t n_needed = 0;
	int r;

	r = build_rows(rep, &rows, &n_needed);
	if (r < 0)
		goto out;
	sc.t0 = 0;
	sc.t1 = 1;
	for (size_t k = 0; k < rep->n_results; k++) {
		const struct pml_sim_result *res = rep->results[k];

		if (k == 0 || res->start_ms < sc.t0)
			sc.t0 = res->start_ms;
		if (k == 0 || res->end_ms > sc.t1)
			sc.t1 = res->end_ms;
		if ((double)res->m.peak_bytes > sc.mem_max)
			sc.mem_max = (double)res->m.peak_bytes;
		if ((double)res->budget_mem > sc.mem_max)
			sc.mem_max = (double)res->budget_mem;
	}
	if (sc.t1 <= sc.t0)
		sc.t1 = sc.t0 + 1;
	sc.mem_max = sc.mem_max > 0 ? sc.mem_max * 1.1 : MB;

	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>", f);
	esc(f, rep->title);
	fputs("</title>\n<style>body{font-family:sans-serif;margin:16px;color:#0f172a}"
	      "table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #cbd5e1;"
	      "padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}"
	      "th{background:#f1f5f9}h2{margin:20px 0 4px}.legend span{margin-right:18px}"
	      ".sw{display:inline-block;width:14px;height:10px;margin-right:4px}"
	      "pre{white-space:pre-wrap;color:#334155}</style>\n</head><body>\n<h1>", f);
	esc(f, rep->title);
	fputs("</h1>\n", f);
	if (rep->rows && rep->n_rows) {
		fputs("<h2>", f);
		esc(f, rep->rows_caption ? rep->rows_caption : "all runs");
		fputs("</h2>\n", f);
		split_table(f, rep);
	}
	fputs("<h2>run ", f);
	esc(f, rep->run_id);
	fputs("</h2>\n<p>", f);
	esc(f, rep->run_about);
	if (rep->command) {
		fputs("<br>command: <code>", f);
		esc(f, rep->command);
		fputs("</code>", f);
	}
	fputs("</p>\n", f);
	run_table(f, rep);
	fputs("<p class=\"legend\">"
	      "<span><i class=\"sw\" style=\"background:#cbd5e1\"></i>loading</span>"
	      "<span><i class=\"sw\" style=\"background:#64748b\"></i>loaded on a stall</span>"
	      "<span><i class=\"sw\" style=\"background:#2563eb\"></i>prefetched, used</span>"
	      "<span><i class=\"sw\" style=\"background:#f59e0b\"></i>prefetched, never used"
	      "</span><span style=\"color:#16a34a\">&#9670; need, hit</span>"
	      "<span style=\"color:#dc2626\">&#9679;&#9473; need, stall (its length)</span>"
	      "<span>&#9660; load asked for</span><span style=\"color:#dc2626\">&#10005; refused "
	      "(budget)</span><span>bold: modules the run needed</span></p>\n", f);
	for (size_t k = 0; k < rep->n_results; k++) {
		const struct pml_sim_metrics *m = &rep->results[k]->m;

		fprintf(f, "<h2 id=\"%s\">%s</h2>\n<p>%u of %u needs stalled (%.1f ms); footprint %.3f "
			   "MB&middot;s, peak %.3f MB; %u predicted loads, %u wasted</p>\n",
			rep->results[k]->policy, rep->results[k]->policy, m->stalls, m->needs,
			m->stall_ms, m->byte_s / MB, (double)m->peak_bytes / MB,
			m->predicted_loads, m->wasted_loads);
		timeline(f, rep->results[k], &rows, n_needed, &sc);
	}
	if (rep->notes) {
		fputs("<h2>notes</h2>\n<pre>", f);
		esc(f, rep->notes);
		fputs("</pre>\n", f);
	}
	fputs("</body></html>\n", f);
	r = 0;
out:
	free(rows.name);
	free(rows.first);
	if (!r && (fflush(f) != 0 || ferror(f)))
		r = -EIO;
	return r;
}
