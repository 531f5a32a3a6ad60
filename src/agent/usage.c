/* What pmld costs: its CPU (the process's, the main thread's per part of the loop, the
 * load worker's), its RSS and its peak, and the stop record that gives them with the
 * agent's counters. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent-priv.h"
#include "util/event-log.h"
#include "util/log.h"

static const char *const part_names[PART_N] = {"the trace", "the prior", "kernel events",
					       "finished loads", "ticks", "the resource API"};

/* This process's CPU time so far, ms; -1 when unknown. */
double agent_self_cpu_ms(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return -1;
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* The calling thread's CPU time so far, ms. */
double agent_thread_cpu_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Add the main thread's CPU since *since to a part (once the job started) and move
 * *since to now. */
void agent_account(struct pml_agent *a, enum loop_part part, double *since)
{
	double t = agent_thread_cpu_ms();

	if (a->prior_seen || !a->cfg.prior_file)
		a->part_ms[part] += t - *since;
	*since = t;
}

/* CPU time of this process's threads other than the main one (the load worker), ms from
 * their schedstat; 0 when there are none, -1 when unknown. */
double agent_other_threads_cpu_ms(void)
{
	char path[64], line[128];
	double sum = 0;
	struct dirent *de;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		unsigned long long ns;
		FILE *f;

		if (de->d_name[0] == '.' || atoi(de->d_name) == (int)getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%.20s/schedstat", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(line, sizeof(line), f) && sscanf(line, "%llu", &ns) == 1)
			sum += (double)ns / 1e6;
		fclose(f);
	}
	closedir(d);
	return sum;
}

/* RssAnon and RssFile of /proc/self/status, KiB (-1 when unknown). */
static void rss_parts(int64_t *ret_anon, int64_t *ret_file)
{
	char line[128];
	long long kib;
	FILE *f = fopen("/proc/self/status", "re");

	*ret_anon = *ret_file = -1;
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "RssAnon: %lld", &kib) == 1)
			*ret_anon = kib;
		else if (sscanf(line, "RssFile: %lld", &kib) == 1)
			*ret_file = kib;
	}
	if (f)
		fclose(f);
}

/* Reset the kernel's peak RSS of this process (/proc/self/clear_refs, 5), so that the
 * stop record's getrusage peak is the job's. Returns the peak before, bytes, or -1 when
 * it could not be reset (the stop record then gives the lifetime peak, as before). */
int64_t agent_reset_peak_rss(void)
{
	struct rusage ru;
	int fd;
	bool ok;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return -1;
	fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
	ok = fd >= 0 && write(fd, "5", 1) == 1;
	if (fd >= 0)
		close(fd);
	return ok ? (int64_t)ru.ru_maxrss * 1024 : -1;
}

int pml_agent_stop(struct pml_agent *a)
{
	struct pml_event_rec rec;
	struct rusage ru;
	char reason[1000], job[128] = "", peak[160] = "", parts[256] = "", wrote[120] = "";
	double cpu_ms = -1, worker_ms;
	int64_t rss = -1, anon, file;
	int r;

	cpu_ms = agent_self_cpu_ms();
	worker_ms = a->worker ? agent_other_threads_cpu_ms() : -1;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		rss = (int64_t)ru.ru_maxrss * 1024;
	/* In a guest restored from a snapshot, what pmld did before its job was paid once,
	 * in the template: the record's ms is the CPU since the job started (its prior). */
	if (a->prior_seen && cpu_ms >= 0 && a->cpu_at_prior_ms >= 0) {
		/* the load worker's part: the kernel inserting prefetched modules, work that a
		 * modprobe process does for a need under reactive */
		if (worker_ms >= 0 && a->worker_at_prior_ms >= 0)
			snprintf(job, sizeof(job), " (%.1f ms since the job started, %.1f ms of it "
				 "the load worker's)", cpu_ms - a->cpu_at_prior_ms,
				 worker_ms - a->worker_at_prior_ms);
		else
			snprintf(job, sizeof(job), " (%.1f ms since the job started)",
				 cpu_ms - a->cpu_at_prior_ms);
	}
	/* Likewise the peak RSS (reset at the prior: pml_agent_set_prior); and what is
	 * resident at the end, pmld's own memory apart from the mapped files (its binary, the
	 * libraries, the model file, libkmod's indexes: page cache, shared). */
	rss_parts(&anon, &file);
	if (a->hwm_before_job >= 0 && rss >= 0)
		snprintf(peak, sizeof(peak), " since the job started (%lld KiB since pmld started)",
			 (long long)((rss > a->hwm_before_job ? rss : a->hwm_before_job) / 1024));
	if (anon >= 0 && file >= 0)
		snprintf(peak + strlen(peak), sizeof(peak) - strlen(peak),
			 ", %lld KiB anonymous and %lld KiB file-backed at the end", (long long)anon,
			 (long long)file);
	/* With a worker the loop only hands the set over; its thread waits the kernel out. */
	if (a->worker) {
		struct pml_worker_watch_stats ws;

		pml_worker_watch_stats(a->worker, &ws);
		snprintf(wrote, sizeof(wrote), ", by the load worker into the filter %llu times "
			 "(%.1f ms, %.1f ms CPU)", (unsigned long long)ws.writes, ws.ms, ws.cpu_ms);
	}
	for (int p = 0, n = 0; p < PART_N && n >= 0 && (size_t)n < sizeof(parts); p++)
		n += snprintf(parts + n, sizeof(parts) - (size_t)n, "%s %s %.1f ms",
			      p ? "," : "; the main thread's", part_names[p], a->part_ms[p]);
	snprintf(reason, sizeof(reason),
		 "stop: cpu %.1f ms%s%s, max RSS %lld KiB%s; %llu events, %llu ticks, %llu unloaded, "
		 "%llu refused, %llu failed; %llu predictions, %llu refused by the manager, "
		 "%llu prefetched, %llu used, %llu load failures, %llu evictions; %llu "
		 "references seen, %llu interfaces made, the watch set written %llu times (%.1f ms, "
		 "%.1f ms CPU of the main loop)%s",
		 cpu_ms, job, parts, (long long)(rss / 1024), peak,
		 (unsigned long long)a->stats.events, (unsigned long long)a->stats.ticks,
		 (unsigned long long)a->stats.unloads, (unsigned long long)a->stats.unload_busy,
		 (unsigned long long)a->stats.unload_failed,
		 (unsigned long long)a->stats.predictions, (unsigned long long)a->stats.refused,
		 (unsigned long long)a->stats.prefetched, (unsigned long long)a->stats.used,
		 (unsigned long long)a->stats.load_failed,
		 (unsigned long long)a->stats.evictions, (unsigned long long)a->stats.gets,
		 (unsigned long long)a->stats.netdevs,
		 (unsigned long long)a->stats.watch_writes, a->watch_ms, a->watch_cpu_ms, wrote);
	pml_event_rec_init(&rec, PML_EV_STOP);
	rec.reason = reason;
	rec.ms = job[0] ? cpu_ms - a->cpu_at_prior_ms : cpu_ms;
	rec.bytes = rss;
	/* The worker's part, counted from where ms is (none when only its total is known). */
	if (worker_ms >= 0 && !job[0])
		rec.worker_ms = worker_ms;
	else if (worker_ms >= 0 && a->worker_at_prior_ms >= 0)
		rec.worker_ms = worker_ms - a->worker_at_prior_ms;
	r = agent_append(a, &rec);
	pml_info("%s", reason);
	if (fdatasync(a->log_fd) < 0 && errno != EINVAL && errno != EROFS && !r)
		r = -errno;
	return r;
}
