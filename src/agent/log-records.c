/* pmld's writing of the decision log (util/event-log.h): every record the agent makes goes
 * through agent_append (its time and source filled in when unset, a failure to write said
 * once and counted), and here are the records that are not one idea's own: info and error
 * records (pml_agent_info, pml_agent_error), the start record, an unload or its failure,
 * and the resource manager's decision on a load. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent-priv.h"
#include "resource/resource.h"
#include "util/event-log.h"
#include "util/log.h"

int agent_append(struct pml_agent *a, struct pml_event_rec *rec)
{
	int r;

	if (!rec->t_ns)
		rec->t_ns = agent_now(a);
	if (!rec->source)
		rec->source = "pmld";
	r = pml_event_log_append(a->log_fd, rec);
	if (r < 0) {
		/* Said once per kind of trouble would be nicer; the log is what failed. */
		if (!a->stats.log_errors)
			pml_err("%s: cannot append to the decision log: %s", a->cfg.log_path,
				strerror(-r));
		a->stats.log_errors++;
	}
	return r;
}

/* An info, error or start record (kind) with the words fmt makes; prefix goes before them
 * in the record's reason only ("error: "). */
static void vinfo(struct pml_agent *a, enum pml_event_kind kind, int err, const char *prefix,
		  const char *fmt, va_list ap)
{
	struct pml_event_rec rec;
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		pml_err("%s", msg);
	else
		pml_info("%s", msg);
	pml_event_rec_init(&rec, kind);
	rec.err = err;
	if (kind == PML_EV_START)
		rec.policy = a->pol->ops->name;
	{
		char reason[600];

		snprintf(reason, sizeof(reason), "%s%s", prefix, msg);
		rec.reason = reason;
		agent_append(a, &rec);
	}
}

void pml_agent_error(struct pml_agent *a, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vinfo(a, PML_EV_ERROR, err ? err : -EIO, "error: ", fmt, ap);
	va_end(ap);
}

void pml_agent_info(struct pml_agent *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vinfo(a, PML_EV_INFO, 0, "", fmt, ap);
	va_end(ap);
}

/* pmld's start record: its words, and the policy as a field. */
__attribute__((format(printf, 2, 3))) void agent_start_info(struct pml_agent *a,
							    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vinfo(a, PML_EV_START, 0, "", fmt, ap);
	va_end(ap);
}

/* cause: the unload's (policy, evict); a dependency taken along is one of its own. */
void agent_log_unload(struct pml_agent *a, const struct pml_action *act,
		      enum pml_event_cause cause, const struct pml_mod_op *op, int64_t bytes)
{
	struct pml_event_rec rec;
	char reason[256];

	pml_event_rec_init(&rec, op->err ? PML_EV_FAIL : PML_EV_UNLOAD);
	rec.module = op->name;
	rec.cause = strcmp(op->name, act->module) ? PML_CAUSE_DEPENDENCY : cause;
	rec.bytes = op->bytes >= 0 ? op->bytes : bytes;
	rec.ms = op->ms;
	rec.err = op->err;
	if (strcmp(op->name, act->module))
		snprintf(reason, sizeof(reason), "%s%s (unused dependency of %s)",
			 op->err ? "unload: " : "", act->reason, act->module);
	else
		snprintf(reason, sizeof(reason), "%s%s", op->err ? "unload: " : "", act->reason);
	rec.reason = reason;
	agent_append(a, &rec);
}

/* Log a resource decision: every grant, refusal and eviction plan is a record. */
void agent_log_decision(struct pml_agent *a, const char *module, const char *why,
			double confidence, const struct pml_res_decision *d)
{
	struct pml_event_rec rec;
	char reason[400];
	const char *word = d->verdict == PML_RES_REFUSE ? "refuse" :
			   d->verdict == PML_RES_GRANT_AFTER_EVICT ? "grant after evicting" :
			   "grant";

	pml_event_rec_init(&rec, PML_EV_RESOURCE);
	rec.module = module;
	rec.confidence = confidence;
	rec.bytes = d->bytes;
	rec.priority = d->priority;
	rec.verdict = d->verdict == PML_RES_REFUSE	     ? PML_VERDICT_REFUSE
		      : d->verdict == PML_RES_GRANT_AFTER_EVICT ? PML_VERDICT_EVICT
								: PML_VERDICT_GRANT;
	if (d->verdict == PML_RES_REFUSE)
		rec.refusal = pml_res_refusal_name(d->refusal);
	if (d->verdict == PML_RES_REFUSE)
		snprintf(reason, sizeof(reason), "resource: refuse %s (%s, priority %.3f): %s; %s",
			 module, pml_res_refusal_name(d->refusal), d->priority, d->reason, why);
	else
		snprintf(reason, sizeof(reason), "resource: %s %s%s (priority %.3f): %s; %s", word,
			 module, d->present ? " (already there)" : "", d->priority, d->reason,
			 why);
	rec.reason = reason;
	agent_append(a, &rec);
}
