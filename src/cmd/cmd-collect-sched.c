/* pml collect's scheduler: the queue of runs into boots. A boot is one guest running a
 * batch of up to --per-boot runs (workloads/run-scenario --reset puts the base set back
 * between them); up to --jobs boots run at once, each a child process in its own process
 * group with its QEMU. A batch takes the scenarios seen to leave modules behind ("sticky")
 * last and at most one of them, since such a run ends its boot. When a boot ends, each of
 * its runs is recorded (cmd-collect.c) or goes back to the queue: a run the guest never
 * started because a sticky one stopped the boot goes back as it was, any other counts a
 * try. ^C or SIGTERM kills the running boots' process groups; their runs are not done. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd/cmd-collect.h"
#include "cmd/commands.h"
#include "dataset/dataset.h"
#include "util/log.h"
#include "util/timeutil.h"
#include "vm/vm.h"

#define RUN_TIMEOUT_MAX 180 /* a run's limit in the guest, whatever its header asks */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

/* Take up to per_boot runs from the queue, sticky scenarios last and at most one of them
 * (it may end the boot). */
static size_t take_batch(struct collect *c, struct pending *out)
{
	size_t k = 0, rest = 0;
	bool have_sticky = false;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->n_queue && k < c->per_boot; i++) {
			struct pending *p = &c->queue[i];
			bool st;

			if (!p->sc)
				continue;
			st = c->sticky[p->sc - c->scen.v];
			if (st != (pass == 1))
				continue;
			if (st && have_sticky)
				continue;
			have_sticky |= st;
			out[k++] = *p;
			p->sc = NULL;
		}
	}
	for (size_t i = 0; i < c->n_queue; i++)
		if (c->queue[i].sc)
			c->queue[rest++] = c->queue[i];
	c->n_queue = rest;
	return k;
}

static int start_boot(struct collect *c, struct boot *b)
{
	char list[PATH_MAX + 16], stage_list[PATH_MAX + 16], timeout[16];
	unsigned tmax = 0, tsum = 0;
	struct pml_vm_job job = {0};
	FILE *f;

	snprintf(b->run_dir, sizeof(b->run_dir), "/tmp/pml-boot.XXXXXX");
	if (!mkdtemp(b->run_dir))
		return -errno;
	snprintf(list, sizeof(list), "%s/runs", b->run_dir);
	mkdir(list, 0755);
	snprintf(stage_list, sizeof(stage_list), "%s/runs/runs.txt", b->run_dir);
	f = fopen(stage_list, "we");
	if (!f)
		return -errno;
	for (size_t i = 0; i < b->n; i++) {
		const struct pending *p = &b->runs[i];
		char id[128], tf[128];
		unsigned t = p->sc->timeout_s < RUN_TIMEOUT_MAX ? p->sc->timeout_s : RUN_TIMEOUT_MAX;

		pml_dataset_run_id(p->sc->name, p->index, id, sizeof(id));
		pml_dataset_run_file(p->sc->name, p->index, ".trace", tf, sizeof(tf));
		fprintf(f, "%s %s.sh %" PRIu32 " %s\n", id, p->sc->name,
			pml_dataset_run_seed(c->ds, p->sc->name, p->index), tf);
		tmax = t > tmax ? t : tmax;
		tsum += t;
	}
	if (fclose(f) != 0)
		return -EIO;
	snprintf(timeout, sizeof(timeout), "%u", tmax);
	char *argv[] = {"sh", "./run-scenario", "--reset", "--stop-on-sticky", "--timeout", timeout,
			"--list", "runs.txt", "--trace-dir", "/work/out/traces", "--tracer",
			"/job/bin/pml", NULL};

	job.image_dir = c->tb.image_dir;
	job.argv = argv;
	job.copy[0] = c->stage;
	job.copy[1] = stage_list;
	job.n_copy = 2;
	job.policy = "reactive";
	job.bin_dir = c->tb.bin_dir;
	job.guest_dir = c->tb.guest_dir;
	job.run_dir = b->run_dir;
	/* every run at its limit would be tsum; a hung guest should not cost that much */
	job.timeout_s = tsum < 600 + 40 * b->n ? tsum : 600 + 40 * (unsigned)b->n;
	job.mem_mb = c->memory_mb;
	job.accel = PML_ACCEL_TCG;
	b->number = ++c->boots;
	b->t0 = (double)pml_now_ns() / 1e9;
	fflush(NULL);
	b->pid = fork();
	if (b->pid < 0)
		return -errno;
	if (b->pid == 0) {
		struct pml_vm_result res;

		/* Its own process group (a terminal's ^C reaches the parent alone), and QEMU
		 * in one of its own (qemu.c): the parent's SIGTERM makes pml_vm_run() stop the
		 * guest and remove its scratch, as pml run does on a signal; a SIGKILL to this
		 * group would leave QEMU running. */
		setpgid(0, 0);
		pml_vm_catch_signals();
		_exit(pml_vm_run(&job, &res) == 0 ? 0 : 1);
	}
	return 0;
}

static int finish_boot(struct collect *c, struct boot *b, int wstatus)
{
	char result_dir[PATH_MAX + 16], path[PATH_MAX + 32];
	struct run_out *outs = calloc(b->n, sizeof(*outs));
	bool boot_ok = WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0, stopped = false;
	size_t recorded = 0, requeued = 0;
	double wall = (double)pml_now_ns() / 1e9 - b->t0;
	int r = 0;

	if (!outs)
		return -ENOMEM;
	snprintf(result_dir, sizeof(result_dir), "%s/result", b->run_dir);
	for (size_t i = 0; i < b->n; i++)
		pml_dataset_run_id(b->runs[i].sc->name, b->runs[i].index, outs[i].id,
				   sizeof(outs[i].id));
	/* ids are at most 80 + 5 characters: scenario names are bounded by scenario.h */
	snprintf(path, sizeof(path), "%s/stdout", result_dir);
	collect_parse_stdout(path, outs, b->n);
	for (size_t i = 0; i < b->n; i++)
		stopped |= outs[i].stopped;
	for (size_t i = 0; i < b->n; i++) {
		struct pending *p = &b->runs[i];
		bool excused = boot_ok && stopped && !outs[i].started;
		int k = collect_record_run(c, b, p, &outs[i], result_dir, excused);

		if (k < 0) {
			r = k;
			break;
		}
		if (k == 0) {
			if (!excused)
				p->tries++;
			c->queue[c->n_queue++] = *p;
			requeued++;
		} else {
			recorded++;
		}
	}
	for (size_t i = 0; i < b->n; i++)
		free(outs[i].out);
	free(outs);
	if (!boot_ok) {
		char dst[PATH_MAX + 64], src[PATH_MAX + 32];

		snprintf(dst, sizeof(dst), "%s/logs/boot-%04" PRIu32 ".console", c->ds->dir,
			 b->number);
		snprintf(src, sizeof(src), "%s/console.log", b->run_dir);
		pml_spawn_wait((char *[]){"cp", src, dst, NULL}, -1, 0);
		pml_warn("boot %" PRIu32 " failed (console kept in %s)", b->number, dst);
	}
	pml_spawn_wait((char *[]){"rm", "-rf", b->run_dir, NULL}, -1, 0);
	if (!r) {
		r = pml_dataset_save(c->ds);
		if (r < 0)
			pml_err("%s/%s: cannot write: %s", c->ds->dir, PML_DATASET_MANIFEST,
				strerror(-r));
	}
	c->busy_s += wall;
	c->runs_timed += recorded;
	if (!c->quiet) {
		size_t done = c->done_ok + c->done_failed + c->done_lost;
		double el = (double)pml_now_ns() / 1e9 - c->t_start;

		fprintf(stderr,
			"pml: collect: boot %" PRIu32 ": %zu runs recorded, %zu requeued in %.0f s; "
			"%zu/%zu done (%zu ok, %zu failed, %zu lost), %.0f s elapsed",
			b->number, recorded, requeued, wall, done, c->total, c->done_ok,
			c->done_failed, c->done_lost, el);
		if (c->runs_timed && c->total > done) {
			double per = el / (double)c->runs_timed;

			fprintf(stderr, ", ETA %.0f min", per * (double)(c->total - done) / 60);
		}
		fputc('\n', stderr);
	}
	free(b->runs);
	b->runs = NULL;
	b->pid = 0;
	return r;
}

int collect_boots(struct collect *c, bool *ret_interrupted)
{
	struct boot boots[MAX_JOBS] = {0};
	int r, rc;

	{
		struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: wake waitpid */

		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	c->t_start = (double)pml_now_ns() / 1e9;
	rc = PML_EXIT_OK;
	for (;;) {
		int running = 0, wstatus;
		pid_t pid;

		for (int j = 0; j < c->jobs && !interrupted; j++) {
			if (boots[j].pid || !c->n_queue)
				continue;
			boots[j].runs = calloc(c->per_boot, sizeof(struct pending));
			if (!boots[j].runs) {
				rc = PML_EXIT_FAIL;
				break;
			}
			boots[j].n = take_batch(c, boots[j].runs);
			r = start_boot(c, &boots[j]);
			if (r < 0) {
				fprintf(stderr, "pml: collect: cannot start a guest: %s\n",
					strerror(-r));
				for (size_t i = 0; i < boots[j].n; i++)
					c->queue[c->n_queue++] = boots[j].runs[i];
				free(boots[j].runs);
				boots[j].runs = NULL;
				boots[j].pid = 0;
				rc = PML_EXIT_FAIL;
				break;
			}
		}
		for (int j = 0; j < c->jobs; j++)
			running += boots[j].pid != 0;
		if (!running)
			break;
		pid = waitpid(-1, &wstatus, 0);
		if (pid < 0 && errno == EINTR && interrupted) {
			/* each boot stops its guest and ends (waited for below) */
			for (int j = 0; j < c->jobs; j++)
				if (boots[j].pid)
					kill(boots[j].pid, SIGTERM);
			continue;
		}
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int j = 0; j < c->jobs; j++) {
			if (boots[j].pid != pid)
				continue;
			/* Its QEMU, if the child died before it (a signal to the child alone):
			 * the group outlives its leader while a member lives. */
			kill(-pid, SIGKILL);
			if (interrupted)
				wstatus = 1 << 8; /* a boot cut short by ^C: its runs were not done */
			if (finish_boot(c, &boots[j], wstatus) < 0)
				rc = PML_EXIT_FAIL;
		}
	}
	*ret_interrupted = interrupted;
	return rc;
}
