/* pmld's event loop (pml_agent_run): epoll over the stop descriptor, the tick's timer, the
 * source of kernel events, the load worker's eventfd, the resource API's socket, the
 * prior's signal and the tracer's drain timer; the trace first, then finished loads, then
 * kernel events, then the tick. */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "agent/agent-priv.h"
#include "resource/resource-api.h"
#include "trace/tracer.h"
#include "util/log.h"

/* The tracer's drain timer in the loop. Returns its descriptor, or -1 (logged; the
 * tracer is then dropped: the policy works from needs alone, as markov does). */
static int start_trace_timer(struct pml_agent *a, int ep, uint32_t tag)
{
	struct itimerspec its = {0};
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};
	unsigned ms = a->cfg.trace_ms ? a->cfg.trace_ms : 20;
	int fd;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	its.it_interval.tv_sec = ms / 1000;
	its.it_interval.tv_nsec = (long)(ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	if (fd < 0 || timerfd_settime(fd, 0, &its, NULL) < 0 ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		pml_agent_error(a, -errno, "tracer: timer: %s; the policy sees needs only",
				strerror(errno));
		if (fd >= 0)
			close(fd);
		pml_tracer_free(a->tracer);
		a->tracer = NULL;
		return -1;
	}
	pml_dbg("tracer: drained every %u ms", ms);
	return fd;
}

int pml_agent_run(struct pml_agent *a, struct pml_source *src, int stop_fd)
{
	struct itimerspec its = {0};
	struct epoll_event ev = {0};
	int ep, tfd = -1, trfd = -1, r = 0;
	enum { TAG_STOP, TAG_TIMER, TAG_SOURCE, TAG_WORKER, TAG_SERVER, TAG_TRACE, TAG_PRIOR };

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
	if (a->worker) {
		ev.data.u32 = TAG_WORKER;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, pml_worker_fd(a->worker), &ev) < 0)
			pml_agent_error(a, -errno, "load worker: cannot poll: %s; collecting "
					"every tick", strerror(errno));
	}
	if (a->srv) {
		ev.data.u32 = TAG_SERVER;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, pml_resource_server_fd(a->srv), &ev) < 0)
			pml_agent_error(a, -errno, "resource API: cannot poll: %s",
					strerror(errno));
	}
	if (a->cfg.prior_file && a->cfg.prior_fd >= 0) {
		ev.data.u32 = TAG_PRIOR;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, a->cfg.prior_fd, &ev) < 0)
			pml_agent_error(a, -errno, "prior: cannot poll: %s", strerror(errno));
	}
	pml_agent_attach_source(a, src);
	if (a->cfg.trace_root > 0 && !a->tracer)
		pml_agent_start_tracer(a);
	if (a->tracer)
		trfd = start_trace_timer(a, ep, TAG_TRACE);
	for (;;) {
		struct epoll_event evs[8];
		bool stop = false, tick = false, readable = false, done = false, api = false;
		bool trace = false;
		int n = epoll_wait(ep, evs, 8, -1);
		double since = agent_thread_cpu_ms();

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
			else if (evs[i].data.u32 == TAG_WORKER)
				done = true;
			else if (evs[i].data.u32 == TAG_SERVER)
				api = true;
			else if (evs[i].data.u32 == TAG_TRACE)
				trace = true;
			else if (evs[i].data.u32 == TAG_PRIOR) {
				agent_account(a, PART_TRACE, &since); /* the wake-up, before the prior */
				agent_read_prior(a);
				agent_account(a, PART_PRIOR, &since);
			} else
				readable = true;
		}
		/* The program's behaviour: the records that announce needs come first. */
		if ((trace || stop) && a->tracer) {
			uint64_t expirations;

			if (read(trfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				pml_dbg("timerfd read: %s", strerror(errno));
			agent_drain_trace(a, stop);
			agent_account(a, PART_TRACE, &since);
		}
		/* Finished loads first: the policy and the manager must know what is loaded
		 * before they judge the next event. */
		if (done || tick || stop) {
			pml_agent_collect(a);
			agent_account(a, PART_COLLECT, &since);
		}
		/* Events first, so the policy sees loads before it judges idleness; and on
		 * every tick too, in case a wakeup was lost (6.1's trace_pipe poll). */
		if (src && (readable || tick || stop)) {
			int d = agent_drain_source(a, src);

			if (d < 0) {
				pml_agent_error(a, d, "%s: read failed (%s); continuing without "
						"kernel events", src->ops->name, strerror(-d));
				if (pml_source_fd(src) >= 0)
					epoll_ctl(ep, EPOLL_CTL_DEL, pml_source_fd(src), NULL);
				src = NULL;
				pml_agent_attach_source(a, NULL);
			}
			agent_account(a, PART_EVENTS, &since);
		}
		if (api) {
			pml_resource_server_handle(a->srv);
			agent_account(a, PART_API, &since);
		}
		if (stop)
			break;
		if (tick) {
			uint64_t expirations;

			if (read(tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
				pml_dbg("timerfd read: %s", strerror(errno));
			pml_agent_tick(a);
			agent_account(a, PART_TICK, &since);
		}
		agent_watch_sync(a);
		agent_account(a, PART_EVENTS, &since);
	}
out:
	pml_agent_attach_source(a, NULL);
	if (a->tracer) {
		pml_agent_trace_flush(a); /* the source's last events, read after the trace */
		pml_agent_info(a, "tracer: %llu records of the program told to the policy (%llu "
			       "of them module events from tracefs), %llu dropped, %llu before "
			       "the job's prior (the guest's set-up)",
			       (unsigned long long)a->stats.trace_records,
			       (unsigned long long)a->stats.trace_module_records,
			       (unsigned long long)a->stats.trace_dropped,
			       (unsigned long long)a->stats.trace_before_prior);
		/* (detached by pml_agent_free, after the stop record: under TCG the detach
		 * takes a while, and a guest's run need not wait for it) */
	}
	if (trfd >= 0)
		close(trfd);
	if (tfd >= 0)
		close(tfd);
	close(ep);
	return r;
}
