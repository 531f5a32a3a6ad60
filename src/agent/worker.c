/* The load worker: one thread, one loader, a job queue in and a result queue out, an
 * eventfd to wake the loop; and a second thread that writes the watch set; see worker.h.
 * One mutex guards the queues and the set; the threads hold it only to move a job or a
 * set, never across a load or a write. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "agent/worker.h"
#include "util/timeutil.h"
#include "util/modname.h"

struct pml_worker {
	struct pml_loader *ld;
	pthread_t thread, watch_thread;
	bool started, watch_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	bool hold;
	int efd;
	uint64_t next_id;
	size_t queue_max;
	struct pml_load_job *jobs; /* ring of queue_max */
	size_t head, n_jobs;
	struct pml_load_job current; /* being loaded */
	bool busy;
	struct pml_load_done *done;  /* array, appended; collected from the front */
	size_t n_done, cap_done;
	/* The watch set (worker.h): what the loop wants, what was last written (its first
	 * n_held names are in the filter), whether they differ, a write in progress. */
	pml_worker_watch_fn watch_fn;
	void *watch_data;
	char (*want)[64];
	size_t n_want, cap_want;
	char (*written)[64];
	size_t n_written, n_held;
	bool watch_dirty;
	bool watching;
	struct pml_worker_watch_stats wstats;
};

static bool in_names(const char (*names)[64], size_t n, const char *module)
{
	for (size_t i = 0; i < n; i++)
		if (pml_module_name_eq(names[i], module))
			return true;
	return false;
}

/* The wanted set has a name the last write was not given. */
static bool watch_adds(const struct pml_worker *w)
{
	for (size_t i = 0; i < w->n_want; i++)
		if (!in_names((const char(*)[64])w->written, w->n_written, w->want[i]))
			return true;
	return false;
}

static bool watch_same(const struct pml_worker *w)
{
	return w->n_want == w->n_written &&
	       (!w->n_want || !memcmp(w->want, w->written, w->n_want * sizeof(*w->want)));
}

/* A write of the watch set is owed now: a name to add at once, held or not (an insert may
 * wait on it, or the module is in already: loaded before the source came); names that
 * only leave it once nothing is being loaded nor held for a miss (the write holds the
 * kernel's event lock an insert takes, for its grace period). */
static bool watch_owed(const struct pml_worker *w)
{
	return w->watch_fn && w->watch_dirty && !w->wstats.err && !w->watching &&
	       (watch_adds(w) || (!w->busy && !w->n_jobs && !w->hold));
}

/* The insert of module waits: the loop watches it and no write done holds it (a write
 * under way may add it or, started before it came back, take it out). A name given to a
 * full filter does not wait: it is in written, not held. */
static bool watch_wait(const struct pml_worker *w, const char *module)
{
	return w->watch_fn && !w->wstats.err &&
	       in_names((const char(*)[64])w->want, w->n_want, module) &&
	       (w->watching || !in_names((const char(*)[64])w->written, w->n_written, module));
}

static double thread_cpu_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
		return 0;
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Write the wanted set through watch_fn. Called with the lock held, which it drops around
 * the call (the kernel's wait); returns with it held. */
static void watch_write_locked(struct pml_worker *w)
{
	size_t n = w->n_want;
	char (*names)[64] = malloc((n ? n : 1) * sizeof(*names));
	uint64_t t0;
	double c0;
	int r;

	if (!names) {
		w->watch_dirty = false; /* no spin: the next change of the set tries again */
		return;
	}
	memcpy(names, w->want, n * sizeof(*names));
	w->watch_dirty = false;
	w->watching = true;
	pthread_mutex_unlock(&w->lock);
	t0 = pml_now_ns();
	c0 = thread_cpu_ms();
	r = w->watch_fn(w->watch_data, (const char(*)[64])names, n);
	c0 = thread_cpu_ms() - c0;
	t0 = pml_now_ns() - t0;
	pthread_mutex_lock(&w->lock);
	w->watching = false;
	w->wstats.writes++;
	w->wstats.ms += (double)t0 / 1e6;
	w->wstats.cpu_ms += c0;
	w->wstats.held = r;
	w->wstats.asked = n;
	free(w->written);
	w->written = names;
	w->n_written = n;
	w->n_held = r < 0 ? 0 : (size_t)r < n ? (size_t)r : n;
	if (r < 0 && !w->wstats.err)
		w->wstats.err = r;
	w->watch_dirty = !watch_same(w); /* the set may have changed during the write */
	pthread_cond_broadcast(&w->cond); /* an insert or pml_worker_set_watch may wait */
}

static void *watch_main(void *data)
{
	struct pml_worker *w = data;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && !watch_owed(w))
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		watch_write_locked(w);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void *worker_main(void *data)
{
	struct pml_worker *w = data;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct pml_load_done d;
		uint64_t one = 1;

		while (!w->stop && (!w->n_jobs || w->hold))
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		w->current = w->jobs[w->head];
		w->head = (w->head + 1) % w->queue_max;
		w->n_jobs--;
		w->busy = true;
		/* Its name in the filter before it can be used: the watch thread started that
		 * write when the job was queued, most often during the insert before. */
		while (!w->stop && watch_wait(w, w->current.module))
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		pthread_mutex_unlock(&w->lock);

		memset(&d, 0, sizeof(d));
		d.job = w->current;
		{
			uint64_t t = pml_now_ns();

			d.wait_ms = t > d.job.t_submit_ns && d.job.t_submit_ns ?
				    (double)(t - d.job.t_submit_ns) / 1e6 : 0;
		}
		d.err = pml_loader_load(w->ld, d.job.module, 0, &d.res);

		pthread_mutex_lock(&w->lock);
		w->busy = false;
		pthread_cond_broadcast(&w->cond); /* idle: a removal may be written now */
		if (w->n_done == w->cap_done) {
			size_t cap = w->cap_done ? 2 * w->cap_done : 16;
			struct pml_load_done *n = realloc(w->done, cap * sizeof(*n));

			if (!n)
				continue; /* the result is lost; the module may still be loaded,
					   * and the next sync of the module list finds it */
			w->done = n;
			w->cap_done = cap;
		}
		w->done[w->n_done++] = d;
		if (write(w->efd, &one, sizeof(one)) < 0) {
			/* the counter cannot overflow at our rates; nothing to do */
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int pml_worker_new(struct pml_loader *ld, size_t queue_max, struct pml_worker **ret)
{
	struct pml_worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w) {
		pml_loader_free(ld);
		return -ENOMEM;
	}
	w->ld = ld;
	w->efd = -1;
	w->queue_max = queue_max ? queue_max : 64;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->jobs = calloc(w->queue_max, sizeof(*w->jobs));
	if (!w->jobs) {
		r = -ENOMEM;
		goto fail;
	}
	w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->efd < 0) {
		r = -errno;
		goto fail;
	}
	r = -pthread_create(&w->thread, NULL, worker_main, w);
	if (r < 0)
		goto fail;
	w->started = true;
	r = -pthread_create(&w->watch_thread, NULL, watch_main, w);
	if (r < 0)
		goto fail;
	w->watch_started = true;
	*ret = w;
	return 0;
fail:
	pml_worker_free(w);
	return r;
}

void pml_worker_free(struct pml_worker *w)
{
	if (!w)
		return;
	if (w->started || w->watch_started) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_broadcast(&w->cond);
		pthread_mutex_unlock(&w->lock);
		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->watch_started)
			pthread_join(w->watch_thread, NULL);
	}
	if (w->efd >= 0)
		close(w->efd);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	pml_loader_free(w->ld);
	free(w->jobs);
	free(w->done);
	free(w->want);
	free(w->written);
	free(w);
}

static bool has_locked(struct pml_worker *w, const char *module)
{
	if (w->busy && pml_module_name_eq(w->current.module, module))
		return true;
	for (size_t i = 0; i < w->n_jobs; i++)
		if (pml_module_name_eq(w->jobs[(w->head + i) % w->queue_max].module, module))
			return true;
	return false;
}

int pml_worker_submit(struct pml_worker *w, struct pml_load_job *job)
{
	int r = 0;

	pthread_mutex_lock(&w->lock);
	if (has_locked(w, job->module)) {
		r = -EEXIST;
	} else if (w->n_jobs == w->queue_max) {
		r = -EAGAIN;
	} else {
		job->id = ++w->next_id;
		w->jobs[(w->head + w->n_jobs) % w->queue_max] = *job;
		w->n_jobs++;
		pthread_cond_broadcast(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

void pml_worker_hold(struct pml_worker *w, bool hold)
{
	pthread_mutex_lock(&w->lock);
	w->hold = hold;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int pml_worker_fd(const struct pml_worker *w)
{
	return w->efd;
}

size_t pml_worker_collect(struct pml_worker *w, struct pml_load_done *out, size_t max)
{
	uint64_t v;
	size_t n;

	pthread_mutex_lock(&w->lock);
	if (read(w->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing signalled; results may still be there from a partial collect */
	}
	n = w->n_done < max ? w->n_done : max;
	if (n) {
		memcpy(out, w->done, n * sizeof(*out));
		memmove(w->done, w->done + n, (w->n_done - n) * sizeof(*w->done));
		w->n_done -= n;
	}
	if (w->n_done) {
		uint64_t one = 1;

		if (write(w->efd, &one, sizeof(one)) < 0) {
			/* see worker_main */
		}
	}
	pthread_mutex_unlock(&w->lock);
	return n;
}

size_t pml_worker_busy(struct pml_worker *w)
{
	size_t n;

	pthread_mutex_lock(&w->lock);
	n = w->n_jobs + (w->busy ? 1 : 0) + w->n_done + (watch_owed(w) || w->watching ? 1 : 0);
	pthread_mutex_unlock(&w->lock);
	return n;
}

bool pml_worker_has(struct pml_worker *w, const char *module)
{
	bool r;

	pthread_mutex_lock(&w->lock);
	r = has_locked(w, module);
	pthread_mutex_unlock(&w->lock);
	return r;
}

void pml_worker_set_watch(struct pml_worker *w, pml_worker_watch_fn fn, void *data)
{
	pthread_mutex_lock(&w->lock);
	while (w->watching)
		pthread_cond_wait(&w->cond, &w->lock);
	w->watch_fn = fn;
	w->watch_data = data;
	w->n_written = 0;
	w->n_held = 0;
	w->wstats.err = 0;
	w->watch_dirty = fn && w->n_want;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

int pml_worker_watch(struct pml_worker *w, const char (*names)[64], size_t n)
{
	int r = 0;

	if (n > 4096)
		n = 4096;
	pthread_mutex_lock(&w->lock);
	if (n > w->cap_want) {
		char (*m)[64] = realloc(w->want, n * sizeof(*m));

		if (!m) {
			r = -ENOMEM;
			goto out;
		}
		w->want = m;
		w->cap_want = n;
	}
	if (n)
		memcpy(w->want, names, n * sizeof(*names));
	w->n_want = n;
	/* Owed when it differs from the last write (a source starts holding none); one
	 * under way is compared again when it ends. */
	w->watch_dirty = w->watching || !watch_same(w);
	if (w->watch_dirty)
		pthread_cond_broadcast(&w->cond);
out:
	pthread_mutex_unlock(&w->lock);
	return r;
}

void pml_worker_watch_stats(struct pml_worker *w, struct pml_worker_watch_stats *ret)
{
	pthread_mutex_lock(&w->lock);
	*ret = w->wstats;
	pthread_mutex_unlock(&w->lock);
}
