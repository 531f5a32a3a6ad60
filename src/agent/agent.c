/* pmld's logic: base set, kernel events to records, the idle-check tick and the event loop;
 * see agent.h. The loop is single-threaded: today's policies only unload, which never sits
 * on a program's critical path (the shim serves every miss on its own), so a slow unload
 * delays the next tick, nothing else. The asynchronous load worker of issue 7 joins here. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent/agent.h"
#include "util/event-log.h"
#include "util/log.h"

#define MODS_MAX 4096
#define ACTIONS_MAX 64
#define EVENTS_BATCH 64

struct pml_agent {
	struct pml_agent_config cfg;
	struct pml_loader *ld;
	struct pml_policy *pol;
	int log_fd;
	struct pml_loaded *mods; /* the latest module set */
	size_t n_mods;
	struct pml_agent_stats stats;
	uint64_t lost_logged, malformed_logged;
	bool list_failing; /* said once, not every tick */
};

static uint64_t now(const struct pml_agent *a)
{
	return pml_clock_now(a->cfg.clock);
}

static int append(struct pml_agent *a, struct pml_event_rec *rec)
{
	int r;

	if (!rec->t_ns)
		rec->t_ns = now(a);
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

static void vinfo(struct pml_agent *a, int err, const char *prefix, const char *fmt,
		  va_list ap)
{
	struct pml_event_rec rec;
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err)
		pml_err("%s", msg);
	else
		pml_info("%s", msg);
	pml_event_rec_init(&rec, PML_EV_INFO);
	rec.err = err;
	{
		char reason[600];

		snprintf(reason, sizeof(reason), "%s%s", prefix, msg);
		rec.reason = reason;
		append(a, &rec);
	}
}

void pml_agent_error(struct pml_agent *a, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vinfo(a, err ? err : -EIO, "error: ", fmt, ap);
	va_end(ap);
}

void pml_agent_info(struct pml_agent *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vinfo(a, 0, "", fmt, ap);
	va_end(ap);
}

const struct pml_agent_stats *pml_agent_stats(const struct pml_agent *a)
{
	return &a->stats;
}

int pml_agent_new(const struct pml_agent_config *cfg, struct pml_loader *ld,
		  struct pml_agent **ret)
{
	struct pml_policy_config pcfg = {0};
	struct pml_agent *a;
	int r;

	if (!cfg || !cfg->log_path || !ld || cfg->idle_seconds < 0)
		return -EINVAL;
	if (!pml_policy_find(cfg->policy ? cfg->policy : "reactive"))
		return -ENOENT;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	if (!a->cfg.policy)
		a->cfg.policy = "reactive";
	if (!a->cfg.tick_ms)
		a->cfg.tick_ms = 250;
	if (a->cfg.idle_seconds == 0)
		a->cfg.idle_seconds = 5.0;
	a->ld = ld;
	a->log_fd = -1;
	a->mods = calloc(MODS_MAX, sizeof(*a->mods));
	if (!a->mods) {
		r = -ENOMEM;
		goto fail;
	}
	pcfg.idle_seconds = a->cfg.idle_seconds;
	pcfg.pinned_fn = cfg->pinned_fn;
	pcfg.pinned_data = cfg->pinned_data;
	pcfg.clock = cfg->clock;
	r = pml_policy_new(a->cfg.policy, &pcfg, &a->pol);
	if (r < 0)
		goto fail;
	r = pml_event_log_open(cfg->log_path);
	if (r < 0)
		goto fail;
	a->log_fd = r;
	*ret = a;
	return 0;
fail:
	pml_agent_free(a);
	return r;
}

void pml_agent_free(struct pml_agent *a)
{
	if (!a)
		return;
	if (a->log_fd >= 0)
		close(a->log_fd);
	pml_policy_free(a->pol);
	free(a->mods);
	free(a);
}

/* Read the module set into a->mods. Returns the count or -errno. */
static int refresh(struct pml_agent *a)
{
	int n = pml_loader_list_loaded(a->ld, a->mods, MODS_MAX);

	if (n < 0)
		return n;
	a->n_mods = (size_t)n < MODS_MAX ? (size_t)n : MODS_MAX;
	return (int)a->n_mods;
}

static const struct pml_loaded *find_mod(const struct pml_agent *a, const char *name)
{
	char want[64], have[64];

	if (pml_module_name_normalize(name, want) < 0)
		return NULL;
	for (size_t i = 0; i < a->n_mods; i++)
		if (!pml_module_name_normalize(a->mods[i].name, have) && !strcmp(want, have))
			return &a->mods[i];
	return NULL;
}

static int write_base_file(const char *path, const struct pml_loaded *mods, size_t n)
{
	char tmp[4096];
	FILE *f;
	int r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	/* Oldest first: /proc/modules lists the newest first. */
	for (size_t i = n; i-- > 0;)
		fprintf(f, "%s %lld\n", mods[i].name, (long long)mods[i].bytes);
	if (fflush(f) != 0 || ferror(f))
		r = -errno ? -errno : -EIO;
	if (fclose(f) != 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int pml_agent_start(struct pml_agent *a)
{
	uint64_t t = now(a);
	int64_t total = 0;
	int n, r;

	if (a->pol->ops == &pml_policy_idle_unload)
		pml_agent_info(a, "start: pmld %d, policy %s (idle %.1f s), tick %u ms, "
			       "loader %s", (int)getpid(), a->pol->ops->name,
			       a->cfg.idle_seconds, a->cfg.tick_ms, pml_loader_backend(a->ld));
	else
		pml_agent_info(a, "start: pmld %d, policy %s, loader %s", (int)getpid(),
			       a->pol->ops->name, pml_loader_backend(a->ld));
	n = refresh(a);
	if (n < 0) {
		pml_agent_error(a, n, "cannot list the loaded modules (/proc/modules): %s",
				strerror(-n));
		return n;
	}
	/* Oldest first, as they were loaded. */
	for (size_t i = a->n_mods; i-- > 0;) {
		const struct pml_loaded *m = &a->mods[i];
		struct pml_event_rec rec;
		struct pml_pol_event pev = {.kind = PML_POL_BASE, .t_ns = t, .module = m->name,
					    .bytes = m->bytes};

		pml_event_rec_init(&rec, PML_EV_BASE);
		rec.t_ns = t;
		rec.module = m->name;
		rec.bytes = m->bytes;
		append(a, &rec);
		pml_policy_observe(a->pol, &pev);
		total += m->bytes > 0 ? m->bytes : 0;
	}
	r = pml_loader_keep_loaded(a->ld);
	if (r < 0)
		pml_agent_error(a, r, "cannot keep the base set in the loader: %s", strerror(-r));
	if (a->cfg.base_file) {
		r = write_base_file(a->cfg.base_file, a->mods, a->n_mods);
		if (r < 0)
			pml_agent_error(a, r, "%s: cannot write the base set: %s",
					a->cfg.base_file, strerror(-r));
	}
	pml_info("base set: %d modules, %lld bytes", n, (long long)total);
	return n;
}

int pml_agent_handle(struct pml_agent *a, const struct pml_kevent *ev)
{
	struct pml_pol_event pev = {.t_ns = ev->t_ns, .bytes = -1};
	struct pml_event_rec rec;

	a->stats.events++;
	switch (ev->kind) {
	case PML_KEV_REQUEST:
		pml_event_rec_init(&rec, PML_EV_REQUEST);
		rec.alias = ev->name;
		rec.pid = ev->pid;
		rec.comm = ev->comm[0] ? ev->comm : NULL;
		pev.kind = PML_POL_REQUEST;
		pev.alias = ev->name;
		break;
	case PML_KEV_LOAD: {
		const struct pml_loaded *m;

		pml_event_rec_init(&rec, PML_EV_LOAD);
		rec.module = ev->name;
		/* The size is in /proc/modules from the tracepoint on. */
		if (refresh(a) >= 0 && (m = find_mod(a, ev->name)))
			rec.bytes = m->bytes;
		pev.kind = PML_POL_LOAD;
		pev.module = ev->name;
		pev.bytes = rec.bytes;
		break;
	}
	case PML_KEV_FREE:
		pml_event_rec_init(&rec, PML_EV_UNLOAD);
		rec.module = ev->name;
		pev.kind = PML_POL_UNLOAD;
		pev.module = ev->name;
		break;
	default:
		return 0;
	}
	rec.t_ns = ev->t_ns ? ev->t_ns : now(a);
	rec.source = "tracefs";
	if (ev->kind != PML_KEV_REQUEST)
		rec.pid = ev->pid, rec.comm = ev->comm[0] ? ev->comm : NULL;
	pml_policy_observe(a->pol, &pev);
	return append(a, &rec);
}

static void log_unload(struct pml_agent *a, const struct pml_action *act,
		       const struct pml_mod_op *op, int64_t bytes)
{
	struct pml_event_rec rec;
	char reason[160];

	pml_event_rec_init(&rec, op->err ? PML_EV_FAIL : PML_EV_UNLOAD);
	rec.module = op->name;
	rec.bytes = op->bytes >= 0 ? op->bytes : bytes;
	rec.ms = op->ms;
	rec.err = op->err;
	if (strcmp(op->name, act->module))
		snprintf(reason, sizeof(reason), "%s%s (unused dependency of %s)",
			 op->err ? "unload: " : "", act->reason, act->module);
	else
		snprintf(reason, sizeof(reason), "%s%s", op->err ? "unload: " : "", act->reason);
	rec.reason = reason;
	append(a, &rec);
}

static int do_unload(struct pml_agent *a, const struct pml_action *act)
{
	struct pml_op_result res = {0};
	struct pml_pol_event pev = {.kind = PML_POL_BUSY, .module = act->module, .bytes = -1};
	unsigned flags = PML_UNLOAD_DEPS;
	int removed = 0, r;

	/* The loader keeps the base set itself; pins by rule (the policy file's globs) it does
	 * not know, so a dependency it would take along is checked here first. */
	if (a->cfg.pinned_fn &&
	    pml_loader_unload(a->ld, act->module, flags | PML_UNLOAD_DRY_RUN, &res) == 0) {
		for (size_t i = 1; i < res.n && i < PML_MOD_OP_MAX; i++)
			if (pml_policy_is_protected(a->pol, res.mods[i].name)) {
				pml_dbg("unload %s: dependency %s is pinned, leaving all its "
					"dependencies", act->module, res.mods[i].name);
				flags = 0;
				break;
			}
	}
	r = pml_loader_unload(a->ld, act->module, flags, &res);
	pev.t_ns = now(a);
	if (r == -EBUSY || r == -EAGAIN || r == -EPERM) {
		/* Not yet (in use again) or not ours to remove: the policy waits T again. */
		a->stats.unload_busy++;
		pml_dbg("unload %s: %s, later", act->module, strerror(-r));
		pml_policy_observe(a->pol, &pev);
		return 0;
	}
	if (r == -ENOENT) {
		pev.kind = PML_POL_UNLOAD; /* gone by other hands */
		pml_policy_observe(a->pol, &pev);
		return 0;
	}
	for (size_t i = 0; i < res.n && i < PML_MOD_OP_MAX; i++) {
		const struct pml_mod_op *op = &res.mods[i];
		const struct pml_loaded *m = find_mod(a, op->name);

		if (!op->done && !op->err)
			continue;
		if (op->err == -EBUSY || op->err == -EAGAIN) {
			/* The kernel refused: a reference appeared since the check. */
			a->stats.unload_busy++;
			continue;
		}
		log_unload(a, act, op, m ? m->bytes : -1);
		if (op->err) {
			a->stats.unload_failed++;
			continue;
		}
		removed++;
		a->stats.unloads++;
		pev.kind = PML_POL_UNLOAD;
		pev.module = op->name;
		pml_policy_observe(a->pol, &pev);
	}
	if (r < 0 && !res.n) {
		struct pml_event_rec rec;
		char reason[160];

		a->stats.unload_failed++;
		pml_event_rec_init(&rec, PML_EV_FAIL);
		rec.module = act->module;
		rec.err = r;
		snprintf(reason, sizeof(reason), "unload: %s", act->reason);
		rec.reason = reason;
		append(a, &rec);
		pml_err("unload %s: %s", act->module, strerror(-r));
	}
	if (r < 0) {
		pev.kind = PML_POL_BUSY; /* retry after T, not every tick */
		pev.module = act->module;
		pml_policy_observe(a->pol, &pev);
	}
	return removed;
}

int pml_agent_tick(struct pml_agent *a)
{
	struct pml_action acts[ACTIONS_MAX];
	int n, removed = 0;

	a->stats.ticks++;
	if (!a->pol->ops->decide)
		return 0;
	n = refresh(a);
	if (n < 0) {
		if (!a->list_failing)
			pml_agent_error(a, n, "cannot list the loaded modules (/proc/modules): "
					"%s; no idle checks until it can", strerror(-n));
		a->list_failing = true;
		return n;
	}
	if (a->list_failing)
		pml_agent_info(a, "the module list reads again");
	a->list_failing = false;
	n = pml_policy_decide(a->pol, a->mods, a->n_mods, acts, ACTIONS_MAX);
	if (n < 0) {
		pml_agent_error(a, n, "policy %s: %s", a->pol->ops->name, strerror(-n));
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (acts[i].kind == PML_ACT_UNLOAD)
			removed += do_unload(a, &acts[i]);
		/* No policy here loads; issue 7's worker takes PML_ACT_LOAD. */
	}
	return removed;
}

/* Drain the source. Returns 0, or -errno when it failed (the caller drops it). */
static int drain(struct pml_agent *a, struct pml_source *src)
{
	struct pml_kevent evs[EVENTS_BATCH];
	int n;

	do {
		n = pml_source_read(src, evs, EVENTS_BATCH);
		if (n < 0)
			return n;
		for (int i = 0; i < n; i++)
			pml_agent_handle(a, &evs[i]);
	} while (n == EVENTS_BATCH);
	if (src->lost > a->lost_logged) {
		pml_agent_error(a, -ENOBUFS, "%s: the kernel dropped %llu events",
				src->ops->name, (unsigned long long)(src->lost - a->lost_logged));
		a->lost_logged = src->lost;
	}
	if (src->malformed > a->malformed_logged) {
		pml_agent_error(a, -EBADMSG, "%s: %llu lines could not be parsed",
				src->ops->name,
				(unsigned long long)(src->malformed - a->malformed_logged));
		a->malformed_logged = src->malformed;
	}
	return 0;
}

int pml_agent_run(struct pml_agent *a, struct pml_source *src, int stop_fd)
{
	struct itimerspec its = {0};
	struct epoll_event ev = {0};
	int ep, tfd = -1, r = 0;
	enum { TAG_STOP, TAG_TIMER, TAG_SOURCE };

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		r = -errno;
		pml_agent_error(a, r, "epoll_create1: %s", strerror(-r));
		return r;
	}
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0) {
		r = -errno;
		pml_agent_error(a, r, "timerfd_create: %s", strerror(-r));
		goto out;
	}
	its.it_interval.tv_sec = a->cfg.tick_ms / 1000;
	its.it_interval.tv_nsec = (long)(a->cfg.tick_ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	if (timerfd_settime(tfd, 0, &its, NULL) < 0) {
		r = -errno;
		pml_agent_error(a, r, "timerfd_settime: %s", strerror(-r));
		goto out;
	}
	ev.events = EPOLLIN;
	ev.data.u32 = TAG_STOP;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, stop_fd, &ev) < 0) {
		r = -errno;
		pml_agent_error(a, r, "epoll_ctl(stop fd %d): %s", stop_fd, strerror(-r));
		goto out;
	}
	ev.data.u32 = TAG_TIMER;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev) < 0) {
		r = -errno;
		pml_agent_error(a, r, "epoll_ctl(timerfd): %s", strerror(-r));
		goto out;
	}
	if (src && pml_source_fd(src) >= 0) {
		ev.data.u32 = TAG_SOURCE;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, pml_source_fd(src), &ev) < 0) {
			pml_agent_error(a, -errno, "%s: cannot poll: %s; reading it every tick",
					src->ops->name, strerror(errno));
		}
	}
	for (;;) {
		struct epoll_event evs[4];
		bool stop = false, tick = false, readable = false;
		int n = epoll_wait(ep, evs, 4, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			pml_agent_error(a, r, "epoll_wait: %s", strerror(-r));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == TAG_STOP)
				stop = true;
			else if (evs[i].data.u32 == TAG_TIMER)
				tick = true;
			else
				readable = true;
		}
		/* Events first, so the policy sees loads before it judges idleness; and on
		 * every tick too, in case a wakeup was lost (6.1's trace_pipe poll). */
		if (src && (readable || tick || stop)) {
			int d = drain(a, src);

			if (d < 0) {
				pml_agent_error(a, d, "%s: read failed (%s); continuing without "
						"kernel events", src->ops->name, strerror(-d));
				if (pml_source_fd(src) >= 0)
					epoll_ctl(ep, EPOLL_CTL_DEL, pml_source_fd(src), NULL);
				src = NULL;
			}
		}
		if (stop)
			break;
		if (tick) {
			uint64_t expirations;

			if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				pml_dbg("timerfd read: %s", strerror(errno));
			pml_agent_tick(a);
		}
	}
out:
	if (tfd >= 0)
		close(tfd);
	close(ep);
	return r;
}

int pml_agent_stop(struct pml_agent *a)
{
	struct pml_event_rec rec;
	struct rusage ru;
	char reason[256];
	double cpu_ms = -1;
	int64_t rss = -1;
	int r;

	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
			 (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
		rss = (int64_t)ru.ru_maxrss * 1024;
	}
	snprintf(reason, sizeof(reason),
		 "stop: cpu %.1f ms, max RSS %lld KiB, %llu events, %llu ticks, %llu unloaded, "
		 "%llu refused, %llu failed", cpu_ms, (long long)(rss / 1024),
		 (unsigned long long)a->stats.events, (unsigned long long)a->stats.ticks,
		 (unsigned long long)a->stats.unloads, (unsigned long long)a->stats.unload_busy,
		 (unsigned long long)a->stats.unload_failed);
	pml_event_rec_init(&rec, PML_EV_INFO);
	rec.reason = reason;
	rec.ms = cpu_ms;
	rec.bytes = rss;
	r = append(a, &rec);
	pml_info("%s", reason);
	if (fdatasync(a->log_fd) < 0 && errno != EINVAL && errno != EROFS && !r)
		r = -errno;
	return r;
}
