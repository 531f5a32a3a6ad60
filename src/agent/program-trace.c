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

static void tell(struct pml_agent *a, const struct pml_tev_hdr *rec)
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

/* Tell the queued module records made before t_ns, oldest first (the source gives its
 * events in time order). A tracer's record of the same time goes first: a system call's
 * record is made at its entry, the request it causes later. */
static void tell_queued(struct pml_agent *a, uint64_t t_ns)
{
	while (a->n_modq && a->modq[0].h.t_ns < t_ns) {
		struct pml_tev_module rec = a->modq[0];
		uint64_t before = a->stats.trace_records;

		memmove(&a->modq[0], &a->modq[1], --a->n_modq * sizeof(a->modq[0]));
		tell(a, &rec.h);
		a->stats.trace_module_records += a->stats.trace_records - before;
	}
}

/* A request, load or free of the source as the record the tracer would have made of it
 * (tracer.h's PML_TRACER_NO_MODULES): queued until the tracer's records made before it
 * are told, so the policy sees the two streams in time order, as one tracer gave them. */
void agent_queue_module_record(struct pml_agent *a, const struct pml_kevent *ev)
{
	struct pml_tev_module *rec;

	if (!a->cfg.module_records_from_source)
		return;
	if (a->n_modq == MODQ_MAX)
		tell_queued(a, a->modq[0].h.t_ns + 1); /* full: the oldest waits no more */
	rec = &a->modq[a->n_modq++];
	memset(rec, 0, sizeof(*rec));
	rec->h.t_ns = ev->t_ns ? ev->t_ns : agent_now(a);
	rec->h.pid = rec->h.tid = ev->pid > 0 ? (uint32_t)ev->pid : 0;
	rec->h.kind = ev->kind == PML_KEV_REQUEST ? PML_TEV_MOD_REQUEST
		      : ev->kind == PML_KEV_LOAD  ? PML_TEV_MOD_LOAD
						  : PML_TEV_MOD_FREE;
	rec->h.size = sizeof(*rec);
	rec->h.nr = -1;
	rec->arg = ev->kind == PML_KEV_REQUEST && ev->wait;
	/* cut where the tracer's bpf_probe_read_kernel_str cuts it */
	memcpy(rec->name, ev->name, strnlen(ev->name, sizeof(rec->name) - 1));
}

void pml_agent_trace(struct pml_agent *a, const struct pml_tev_hdr *rec)
{
	tell_queued(a, rec->t_ns);
	tell(a, rec);
}

void pml_agent_trace_flush(struct pml_agent *a)
{
	tell_queued(a, UINT64_MAX);
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
	if (n < 0 && n != -EINTR && n != -EAGAIN)
		pml_agent_error(a, n, "tracer: %s", strerror(-n));
	if (n != -EAGAIN) /* the ring is empty (-EAGAIN: more to come, the next turn) */
		pml_agent_trace_flush(a);
	n = (int)(a->stats.trace_records - before);
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
	const char *from;
	int r;

	if (a->cfg.trace_root <= 0 || a->tracer)
		return 0;
	pml_features_ubiquitous_mask(tcfg.plain_drop);
	/* Module events once: the source's (its typed events, and the records made of them
	 * here), the tracer none; without a source, the tracer's. */
	if (a->cfg.module_records_from_source && !a->src)
		a->cfg.module_records_from_source = false;
	if (a->cfg.module_records_from_source)
		tcfg.flags |= PML_TRACER_NO_MODULES;
	r = pml_tracer_open(&tcfg, on_trace_record, a, &a->tracer);
	if (r < 0) {
		pml_agent_error(a, r, "tracer: cannot follow pid %d: %s; the policy sees needs "
				"only", a->cfg.trace_root, strerror(-r));
		a->tracer = NULL;
		a->cfg.module_records_from_source = false;
		return r;
	}
	from = a->cfg.module_records_from_source ? ", module events from tracefs" : "";
	if (a->cfg.trace_cgroup)
		pml_agent_info(a, "tracer: following the processes of cgroup %llu%s",
			       (unsigned long long)a->cfg.trace_cgroup, from);
	else
		pml_agent_info(a, "tracer: following the process tree of pid %d%s",
			       a->cfg.trace_root, from);
	return 0;
}
