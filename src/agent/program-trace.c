/* The program's behaviour, from the eBPF tracer (src/trace): started on the process tree
 * (or cgroup) of trace_root, drained on the loop's trace timer a slice at a time, each
 * record told to the policy as PML_POL_TRACE (after the job's prior), an RTM_NEWLINK of a
 * kind a use of its module. The policy decides once per drained batch. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent/agent-priv.h"
#include "model/features.h"
#include "trace/tracer.h"
#include "util/event-log.h"
#include "util/log.h"
#include "util/timeutil.h"

/* The tracer's ring buffer (pml trace record keeps its 16 MiB: it records everything).
 * User space maps the data area twice (a record that wraps is read in one piece), so the
 * ring costs pmld twice its size in RSS: 16 MiB made 32 MiB of pmld's 42 MiB peak. With
 * plain_once (pml_agent_start_tracer) a job's records are few: the vxlan job of
 * BENCHMARKS.md sends ~200 (~10 KB) where it sent 1773 (65 KB), a loop of system calls
 * none; pmld drains every trace_ms (20 ms), and 128 KiB holds ~1300 path or netlink records
 * (a tar of /usr/share and a loop of 20000 open+close in the guest dropped none). */
#define TRACE_RINGBUF_BYTES (128u << 10)
/* One drain of the trace delivers records for at most this long, then the loop decides,
 * collects loads and reads kernel events before it goes on (the trace timer has expired
 * again by then). Unbounded, a drain on a one-CPU guest lasted as long as the job kept
 * producing records: 6063 records in 8.1 s, every prediction decided after the job had
 * ended. */
#define DRAIN_MAX_NS 50000000ull

/* An interface of a kind is made (RTM_NEWLINK with IFLA_INFO_KIND): a use of the module
 * of rtnl-link-KIND, which its interfaces do not pin (no reference, no request when the
 * module is there), so the tick's refcount never shows it. */
static void link_kind_used(struct pml_agent *a, const struct pml_tev_netlink *nl)
{
	char alias[64], names[RESOLVE_MAX][64], how[96];
	bool watching = false;
	int n;

	if (nl->protocol != 0 /* NETLINK_ROUTE */ || nl->nlmsg_type != 16 /* RTM_NEWLINK */ ||
	    !nl->kind[0])
		return;
	for (size_t i = 0; i < a->n_pred && !watching; i++)
		watching = !a->pred[i].used;
	if (!watching)
		return;
	snprintf(alias, sizeof(alias), "rtnl-link-%.*s", PML_TEV_NLKIND_LEN, nl->kind);
	n = pml_loader_resolve(a->ld, alias, names, RESOLVE_MAX);
	snprintf(how, sizeof(how), "RTM_NEWLINK of kind %.*s by pid %u", PML_TEV_NLKIND_LEN,
		 nl->kind, (unsigned)nl->h.pid);
	for (int i = 0; i < n && i < RESOLVE_MAX; i++)
		agent_pred_used(a, names[i], PML_VIA_RTM_NEWLINK, how);
}

void pml_agent_trace(struct pml_agent *a, const struct pml_tev_hdr *rec)
{
	struct pml_pol_event pev = {.kind = PML_POL_TRACE, .t_ns = rec->t_ns, .bytes = -1,
				    .tev = rec};

	/* Before the job's prior, or before the job's start it gives (records drained after
	 * the prior but made before it: guest-init's own set-up), not the program. */
	if (a->cfg.prior_file && (!a->prior_seen || rec->t_ns < a->prior_t_ns)) {
		a->stats.trace_before_prior++;
		return;
	}
	a->stats.trace_records++;
	if (rec->kind == PML_TEV_NETLINK && rec->size >= sizeof(struct pml_tev_netlink))
		link_kind_used(a, (const struct pml_tev_netlink *)rec);
	pml_policy_observe(a->pol, &pev);
}

static int on_trace_record(void *data, const struct pml_tev_hdr *rec)
{
	struct pml_agent *a = data;

	pml_agent_trace(a, rec);
	/* -EAGAIN: stop this poll here (the record is delivered), the rest waits a turn */
	return a->drain_until && pml_now_ns() > a->drain_until ? -EAGAIN : 0;
}

/* Deliver what the tracer has queued, for DRAIN_MAX_NS at most unless all is asked for
 * (at stop); decide once for the batch. */
void agent_drain_trace(struct pml_agent *a, bool all)
{
	uint64_t before = a->stats.trace_records, dropped;
	int n;

	a->drain_until = all ? 0 : pml_now_ns() + DRAIN_MAX_NS;
	n = pml_tracer_poll(a->tracer, 0);
	a->drain_until = 0;
	if (n == -EAGAIN)
		n = (int)(a->stats.trace_records - before); /* more to come: the next turn */
	if (n < 0 && n != -EINTR)
		pml_agent_error(a, n, "tracer: %s", strerror(-n));
	dropped = pml_tracer_dropped(a->tracer);
	if (dropped > a->stats.trace_dropped) {
		pml_agent_error(a, -ENOBUFS, "tracer: the kernel dropped %llu records",
				(unsigned long long)(dropped - a->stats.trace_dropped));
		a->stats.trace_dropped = dropped;
	}
	/* On the module list of the last tick or event: reading it (/proc/modules and each
	 * module's holders in sysfs) 50 times a second cost more CPU than the predictor on a
	 * one-CPU guest, slowing the program's own loads. */
	if (n > 0 && a->worker)
		agent_act_on(a, false, false);
}

int pml_agent_start_tracer(struct pml_agent *a)
{
	struct pml_tracer_config tcfg = {
		.flags = PML_TRACER_NO_SAMPLES | PML_TRACER_NO_FAULTS | PML_TRACER_NO_OBJECTS,
		.root_pid = a->cfg.trace_root,
		.cgroup_id = a->cfg.trace_cgroup,
		.cgroup_level = a->cfg.trace_cgroup_level,
		.ringbuf_bytes = TRACE_RINGBUF_BYTES,
		/* The records only reach the policy's features (a policy that reads the trace:
		 * lstm), which collapse plain system calls: the kernel leaves out what they
		 * would drop (tracer.h). */
		.plain_once = true,
	};
	int r;

	if (a->cfg.trace_root <= 0 || a->tracer)
		return 0;
	pml_features_ubiquitous_mask(tcfg.plain_drop);
	r = pml_tracer_open(&tcfg, on_trace_record, a, &a->tracer);
	if (r < 0) {
		pml_agent_error(a, r, "tracer: cannot follow pid %d: %s; the policy sees needs "
				"only", a->cfg.trace_root, strerror(-r));
		a->tracer = NULL;
		return r;
	}
	if (a->cfg.trace_cgroup)
		pml_agent_info(a, "tracer: following the processes of cgroup %llu",
			       (unsigned long long)a->cfg.trace_cgroup);
	else
		pml_agent_info(a, "tracer: following the process tree of pid %d",
			       a->cfg.trace_root);
	return 0;
}
