/* The run report's printers: text for people, JSON for programs (run-report.h). They only
 * format what analysis counted, escaping every guest string. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/run-report-priv.h"
#include "util/json.h"

/* --- text --- */

/* A double as int64_t, clamped (no conversion out of range). */
static int64_t clamp_i64(double v)
{
	if (!(v > -9.2e18))
		return v != v ? 0 : INT64_MIN;
	if (v >= 9.2e18)
		return INT64_MAX;
	return (int64_t)llround(v);
}

static const char *human_bytes(int64_t b, char *buf, size_t size)
{
	if (b < 0)
		snprintf(buf, size, "-");
	else if (b < 1024)
		snprintf(buf, size, "%lld B", (long long)b);
	else if (b < 1024 * 1024)
		snprintf(buf, size, "%.1f KiB", (double)b / 1024);
	else
		snprintf(buf, size, "%.1f MiB", (double)b / (1024 * 1024));
	return buf;
}

static double rel_s(const struct pml_report *rep, uint64_t t)
{
	return t >= rep->sum.t_start_ns ? (double)(t - rep->sum.t_start_ns) / 1e9
					: -(double)(rep->sum.t_start_ns - t) / 1e9;
}

/* Room for a guest string rendered by pml_text_escape(): 4 bytes per byte at most. */
#define ESC_SIZE(n) (4 * (n) + 1)
#define WHY_SIZE 1536 /* result, alias, reason, comm, errno: their caps fit */

static const char *esc(const char *s, char *buf, size_t size)
{
	pml_text_escape(s, buf, size);
	return buf;
}

/* "by basis: model 4 (1 wasted), names 3 (0 wasted)", when any prefetch said its basis */
static void print_by_basis(FILE *f, const struct pml_report_summary *s)
{
	bool any = false;

	for (int b = PML_BASIS_NONE + 1; b < PML_BASIS__COUNT; b++) {
		if (!s->predicted_by[b])
			continue;
		fprintf(f, "%s%s %zu (%zu wasted)", any ? ", " : "  by basis: ",
			pml_event_basis_name(b), s->predicted_by[b], s->wasted_by[b]);
		any = true;
	}
	if (any)
		fputc('\n', f);
}

void pml_report_print_text(const struct pml_report *rep, FILE *f)
{
	const struct pml_report_summary *s = &rep->sum;
	double dur = (double)(s->t_end_ns - s->t_start_ns) / 1e9;
	char b1[32], b2[32], b3[32];
	char *what = malloc(ESC_SIZE(PML_EVENT_MAX_ALIAS));
	char *why = malloc(WHY_SIZE), *ewhy = malloc(ESC_SIZE(WHY_SIZE));
	size_t shown = 0;

	if (!what || !why || !ewhy)
		goto out;
	fprintf(f, "base: %zu modules, %s", s->base_modules,
		human_bytes(s->base_bytes, b1, sizeof(b1)));
	for (size_t i = 0, k = 0; i < rep->n; i++) {
		const struct pml_report_event *e = &rep->ev[i];

		if (e->kind != PML_EV_BASE || e->duplicate || !e->module)
			continue;
		fprintf(f, "%s%s", k++ ? ", " : ": ",
			esc(e->module, what, ESC_SIZE(PML_EVENT_MAX_ALIAS)));
	}
	fprintf(f, "\n\n%9s  %-8s %-24s %10s %9s  %s\n", "time s", "event", "module", "bytes",
		"ms", "reason");
	for (size_t i = 0; i < rep->n; i++) {
		const struct pml_report_event *e = &rep->ev[i];
		char ms[32];
		size_t len;

		if (e->duplicate || e->kind == PML_EV_BASE || e->kind == PML_EV_REQUEST)
			continue;
		esc(e->module ? e->module : e->alias ? e->alias : "-", what,
		    ESC_SIZE(PML_EVENT_MAX_ALIAS));
		/* The raw parts first, escaped as one line after. */
		why[0] = '\0';
		if (e->result)
			snprintf(why, WHY_SIZE, "%s", e->result);
		/* A need's alias goes with the result, so the module column stays aligned. */
		len = strlen(why);
		if (e->kind == PML_EV_NEED && e->alias && e->module && strcmp(e->alias, e->module))
			snprintf(why + len, WHY_SIZE - len, "%sfor %s", len ? " " : "", e->alias);
		len = strlen(why);
		if (e->reason)
			snprintf(why + len, WHY_SIZE - len, "%s%s", len ? ": " : "", e->reason);
		len = strlen(why);
		if (e->pid > 0)
			snprintf(why + len, WHY_SIZE - len, "%s[%s %d]", len ? " " : "",
				 e->comm ? e->comm : "?", e->pid);
		len = strlen(why);
		if (e->err)
			snprintf(why + len, WHY_SIZE - len, "%s(%s)", len ? " " : "",
				 strerror(-e->err));
		if (e->ms >= 0)
			snprintf(ms, sizeof(ms), "%.1f", e->ms);
		else
			snprintf(ms, sizeof(ms), "-");
		fprintf(f, "%9.3f  %-8s %-24s %10s %9s  %s\n", rel_s(rep, e->t_ns),
			pml_event_kind_name(e->kind), what, human_bytes(e->bytes, b1, sizeof(b1)),
			ms, esc(why, ewhy, ESC_SIZE(WHY_SIZE)));
		shown++;
	}
	if (!shown)
		fprintf(f, "%9s  (no module was loaded, unloaded or needed)\n", "");
	fprintf(f, "\nloads: %zu, unloads: %zu", s->loads, s->unloads);
	if (s->fails)
		fprintf(f, ", failed operations: %zu", s->fails);
	fprintf(f, "\nneeds: %zu (stalls %zu, already present %zu, no module %zu, denied %zu",
		s->needs, s->stalls, s->present, s->no_module, s->denied);
	if (s->need_errors)
		fprintf(f, ", errors %zu", s->need_errors);
	fprintf(f, ")\nstall time: %.1f ms total, %.1f ms max\n", s->stall_ms, s->stall_max_ms);
	if (s->predicted_loads)
		fprintf(f, "prefetches: %zu loaded by prediction, %zu wasted (never used), "
			   "%.1f module-seconds loaded before use (%.0f KiB.s of prefetches "
			   "then used, %.0f never used)\n",
			s->predicted_loads, s->wasted, s->prefetch_exposure_s,
			s->prefetch_early_byte_s / 1024, s->prefetch_unused_byte_s / 1024);
	print_by_basis(f, s);
	fprintf(f, "module memory (non-base): peak %s, average %s over %.2f s, %s at end\n",
		human_bytes(s->peak_bytes, b1, sizeof(b1)),
		human_bytes(clamp_i64(s->avg_bytes), b2, sizeof(b2)), dur,
		human_bytes(s->end_bytes, b3, sizeof(b3)));
	if (s->agent_cpu_ms >= 0)
		fprintf(f, "agent: %.1f ms CPU, max RSS %s\n", s->agent_cpu_ms,
			human_bytes(s->agent_maxrss_bytes, b1, sizeof(b1)));
	if (s->malformed || s->duplicates || s->dropped) {
		fprintf(f, "log: %zu records, %zu malformed lines skipped, %zu duplicates",
			s->records, s->malformed, s->duplicates);
		if (s->dropped)
			fprintf(f, ", %zu dropped past the report's limits", s->dropped);
		fputc('\n', f);
	}
	if (rep->n_warn) {
		char *etext = malloc(ESC_SIZE(PML_REPORT_MAX_WARNING_TEXT));

		fprintf(f, "\nwarnings:\n");
		for (size_t i = 0; etext && i < rep->n_warn; i++)
			fprintf(f, "warning: %s: %s\n", rep->warn[i].code,
				esc(rep->warn[i].text, etext,
				    ESC_SIZE(PML_REPORT_MAX_WARNING_TEXT)));
		free(etext);
	}
out:
	free(what);
	free(why);
	free(ewhy);
}

/* --- JSON --- */

/* A figure that is an integer when it fits, a number otherwise. */
static void json_round(struct pml_json *j, const char *key, double v)
{
	if (isfinite(v) && fabs(v) < 0x1p62)
		pml_json_int(j, key, (int64_t)llround(v));
	else
		pml_json_double(j, key, v);
}

static void json_event(struct pml_json *j, const struct pml_report_event *e)
{
	pml_json_obj_begin(j, NULL);
	pml_json_int(j, "t_ns", (int64_t)e->t_ns);
	pml_json_str(j, "event", pml_event_kind_name(e->kind));
	if (e->module)
		pml_json_str(j, "module", e->module);
	if (e->alias)
		pml_json_str(j, "alias", e->alias);
	if (e->result)
		pml_json_str(j, "result", e->result);
	if (e->cause)
		pml_json_str(j, "cause", pml_event_cause_name(e->cause));
	if (e->for_module)
		pml_json_str(j, "for", e->for_module);
	if (e->basis)
		pml_json_str(j, "basis", pml_event_basis_name(e->basis));
	if (e->verdict)
		pml_json_str(j, "verdict", pml_event_verdict_name(e->verdict));
	if (e->refusal)
		pml_json_str(j, "refusal", e->refusal);
	if (e->priority >= 0)
		pml_json_double(j, "priority", e->priority);
	if (e->via)
		pml_json_str(j, "via", pml_event_via_name(e->via));
	if (e->policy)
		pml_json_str(j, "policy", e->policy);
	if (e->bytes >= 0)
		pml_json_int(j, "bytes", e->bytes);
	if (e->ms >= 0)
		pml_json_double(j, "ms", e->ms);
	if (e->worker_ms >= 0)
		pml_json_double(j, "worker_ms", e->worker_ms);
	if (e->confidence >= 0)
		pml_json_double(j, "confidence", e->confidence);
	if (e->pid > 0)
		pml_json_int(j, "pid", e->pid);
	if (e->comm)
		pml_json_str(j, "comm", e->comm);
	if (e->err)
		pml_json_int(j, "errno", -e->err);
	if (e->reason)
		pml_json_str(j, "reason", e->reason);
	if (e->source)
		pml_json_str(j, "source", e->source);
	if (e->duplicate)
		pml_json_bool(j, "duplicate", true);
	pml_json_obj_end(j);
}

static void json_changes(struct pml_json *j, const struct pml_report *rep, const char *key,
			 enum pml_event_kind kind)
{
	pml_json_arr_begin(j, key);
	for (size_t i = 0; i < rep->n; i++) {
		const struct pml_report_event *e = &rep->ev[i];

		if (e->kind != kind || e->duplicate || !e->module)
			continue;
		pml_json_obj_begin(j, NULL);
		pml_json_str(j, "module", e->module);
		pml_json_int(j, "t_ns", (int64_t)e->t_ns);
		if (e->bytes >= 0)
			pml_json_int(j, "bytes", e->bytes);
		if (e->ms >= 0)
			pml_json_double(j, "ms", e->ms);
		if (e->cause)
			pml_json_str(j, "cause", pml_event_cause_name(e->cause));
		if (e->reason)
			pml_json_str(j, "reason", e->reason);
		if (e->source)
			pml_json_str(j, "source", e->source);
		pml_json_obj_end(j);
	}
	pml_json_arr_end(j);
}

static void json_extra(struct pml_json *j, const struct pml_report_kv *kv)
{
	char *enc;

	switch (kv->type) {
	case PML_KV_BYTES:
		if (!kv->value || pml_utf8_valid(kv->value, kv->len)) {
			pml_json_strn(j, kv->key, kv->value, kv->len);
			break;
		}
		pml_json_base64(j, kv->key, kv->value, kv->len);
		if (asprintf(&enc, "%s_encoding", kv->key) >= 0) {
			pml_json_str(j, enc, "base64");
			free(enc);
		}
		break;
	case PML_KV_BOOL:
		if (kv->value && (!strcmp(kv->value, "true") || !strcmp(kv->value, "false")))
			pml_json_bool(j, kv->key, kv->value[0] == 't');
		else
			pml_json_null(j, kv->key);
		break;
	case PML_KV_RAW_NUMBER:
		pml_json_raw_number(j, kv->key, kv->value);
		break;
	case PML_KV_STRING:
	default:
		pml_json_str(j, kv->key, kv->value);
		break;
	}
}

void pml_report_print_json(const struct pml_report *rep, FILE *f, int exit_status,
			   const struct pml_report_kv *extra, bool pretty)
{
	const struct pml_report_summary *s = &rep->sum;
	struct pml_json j;

	pml_json_init(&j, f, pretty);
	pml_json_obj_begin(&j, NULL);
	pml_json_obj_begin(&j, "base");
	pml_json_arr_begin(&j, "modules");
	for (size_t i = 0; i < rep->n; i++)
		if (rep->ev[i].kind == PML_EV_BASE && !rep->ev[i].duplicate && rep->ev[i].module)
			pml_json_str(&j, NULL, rep->ev[i].module);
	pml_json_arr_end(&j);
	pml_json_int(&j, "count", (int64_t)s->base_modules);
	pml_json_int(&j, "bytes", s->base_bytes);
	pml_json_obj_end(&j);

	pml_json_arr_begin(&j, "events");
	for (size_t i = 0; i < rep->n; i++)
		json_event(&j, &rep->ev[i]);
	pml_json_arr_end(&j);
	json_changes(&j, rep, "loads", PML_EV_LOAD);
	json_changes(&j, rep, "unloads", PML_EV_UNLOAD);

	pml_json_obj_begin(&j, "summary");
	pml_json_int(&j, "loads", (int64_t)s->loads);
	pml_json_int(&j, "unloads", (int64_t)s->unloads);
	pml_json_int(&j, "fails", (int64_t)s->fails);
	pml_json_int(&j, "requests", (int64_t)s->requests);
	pml_json_int(&j, "needs", (int64_t)s->needs);
	pml_json_int(&j, "stalls", (int64_t)s->stalls);
	pml_json_double(&j, "stall_ms", s->stall_ms);
	pml_json_double(&j, "stall_max_ms", s->stall_max_ms);
	pml_json_int(&j, "present", (int64_t)s->present);
	pml_json_int(&j, "no_module", (int64_t)s->no_module);
	pml_json_int(&j, "denied", (int64_t)s->denied);
	pml_json_int(&j, "need_errors", (int64_t)s->need_errors);
	pml_json_int(&j, "predicted_loads", (int64_t)s->predicted_loads);
	pml_json_int(&j, "wasted", (int64_t)s->wasted);
	for (int b = PML_BASIS_NONE + 1; b < PML_BASIS__COUNT; b++) {
		char key[32];

		snprintf(key, sizeof(key), "%s_prefetches", pml_event_basis_name(b));
		pml_json_int(&j, key, (int64_t)s->predicted_by[b]);
		snprintf(key, sizeof(key), "%s_wasted", pml_event_basis_name(b));
		pml_json_int(&j, key, (int64_t)s->wasted_by[b]);
	}
	pml_json_double(&j, "prefetch_exposure_s", round(s->prefetch_exposure_s * 1e3) / 1e3);
	json_round(&j, "prefetch_early_byte_s", s->prefetch_early_byte_s);
	json_round(&j, "prefetch_unused_byte_s", s->prefetch_unused_byte_s);
	pml_json_int(&j, "peak_bytes", s->peak_bytes);
	json_round(&j, "avg_bytes", s->avg_bytes);
	json_round(&j, "byte_seconds", s->byte_seconds);
	pml_json_int(&j, "end_bytes", s->end_bytes);
	pml_json_int(&j, "t_start_ns", (int64_t)s->t_start_ns);
	pml_json_int(&j, "t_end_ns", (int64_t)s->t_end_ns);
	pml_json_double(&j, "duration_s", (double)(s->t_end_ns - s->t_start_ns) / 1e9);
	if (s->agent_cpu_ms >= 0)
		pml_json_double(&j, "agent_cpu_ms", s->agent_cpu_ms);
	else
		pml_json_null(&j, "agent_cpu_ms");
	if (s->agent_maxrss_bytes >= 0)
		pml_json_int(&j, "agent_maxrss_bytes", s->agent_maxrss_bytes);
	else
		pml_json_null(&j, "agent_maxrss_bytes");
	pml_json_int(&j, "records", (int64_t)s->records);
	pml_json_int(&j, "malformed", (int64_t)s->malformed);
	pml_json_int(&j, "duplicates", (int64_t)s->duplicates);
	pml_json_int(&j, "dropped", (int64_t)s->dropped);
	pml_json_obj_end(&j);

	pml_json_arr_begin(&j, "warnings");
	for (size_t i = 0; i < rep->n_warn; i++) {
		pml_json_obj_begin(&j, NULL);
		pml_json_str(&j, "code", rep->warn[i].code);
		pml_json_str(&j, "text", rep->warn[i].text);
		pml_json_obj_end(&j);
	}
	pml_json_arr_end(&j);

	pml_json_int(&j, "exit_status", exit_status);
	for (size_t i = 0; extra && extra[i].key; i++)
		json_extra(&j, &extra[i]);
	pml_json_obj_end(&j);
	if (!pretty)
		fputc('\n', f);
}
