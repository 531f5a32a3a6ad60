/* The load worker: one thread, one loader, a job queue in and a result queue out, an
 * eventfd to wake the loop; see worker.h. One mutex guards both queues; the thread holds
 * it only to move a job, never across a load. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent/worker.h"
#include "util/timeutil.h"
#include "util/modname.h"

struct pml_worker {
	struct pml_loader *ld;
	pthread_t thread;
	bool started;
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
};

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
	if (w->started) {
		pthread_mutex_lock(&w->lock);
		w->stop = true;
		pthread_cond_signal(&w->cond);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	if (w->efd >= 0)
		close(w->efd);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	pml_loader_free(w->ld);
	free(w->jobs);
	free(w->done);
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
		pthread_cond_signal(&w->cond);
	}
	pthread_mutex_unlock(&w->lock);
	return r;
}

void pml_worker_hold(struct pml_worker *w, bool hold)
{
	pthread_mutex_lock(&w->lock);
	w->hold = hold;
	pthread_cond_signal(&w->cond);
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
	n = w->n_jobs + (w->busy ? 1 : 0) + w->n_done;
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
