/* pml-modprobe: the modprobe shim. /proc/sys/kernel/modprobe points at it (in the guest:
 * /usr/sbin/pml-modprobe), so the kernel runs it as `pml-modprobe -q -- ALIAS` for every
 * request_module(); programs may run it as modprobe too. It needs nothing but files: the
 * module tree, the policy file and the decision log; pmld need not be running.
 *
 *   PML_POLICY     policy file (default /etc/pml/policy.conf; missing = allow all)
 *   PML_EVENT_LOG  decision log (default /run/pml/events.jsonl)
 *   PML_MODDIR     module tree (default /lib/modules/`uname -r`)
 *   PML_SHIM_DRY_RUN=1  plan, insert nothing (tests on a host without modules)
 *
 * The logic lives in src/loader/shim.c; this file wires it to the process: file
 * descriptors, environment, messages in modprobe's words, exit codes like modprobe's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader/shim.h"
#include "loader/policy-file.h"
#include "util/event-log.h"
#include "util/log.h"
#include "util/timeutil.h"

/* The real modprobe, for the forms the shim does not serve: a diverted original first,
 * then kmod itself (it acts as modprobe when argv[0] says so). */
static const char *const real_modprobe[] = {"/sbin/modprobe.kmod", "/usr/sbin/modprobe.kmod",
					    "/usr/bin/kmod", "/bin/kmod"};

static int exec_real(int argc, char **argv)
{
	char **args = calloc((size_t)argc + 1, sizeof(*args));

	if (!args)
		return 1;
	for (int i = 1; i < argc; i++)
		args[i] = argv[i];
	args[0] = "modprobe";
	for (size_t i = 0; i < sizeof(real_modprobe) / sizeof(real_modprobe[0]); i++)
		if (access(real_modprobe[i], X_OK) == 0)
			execv(real_modprobe[i], args);
	fprintf(stderr, "pml-modprobe: cannot run the real modprobe (tried /sbin/modprobe.kmod, "
			"/usr/bin/kmod): %s\n", strerror(errno));
	free(args);
	return 1;
}

/* The kernel's usermode helper may start us with fds 0-2 closed: without this, the log
 * file would open as fd 2 and messages would land in it. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int nfd = open("/dev/null", O_RDWR);

		if (nfd >= 0 && nfd != fd) {
			dup2(nfd, fd);
			close(nfd);
		}
	}
}

static int open_event_log(void)
{
	const char *path = getenv("PML_EVENT_LOG");
	int fd;

	if (!path || !*path) {
		path = PML_SHIM_EVENT_LOG_DEFAULT;
		mkdir("/run/pml", 0755); /* may exist; failure shows at open */
	}
	fd = pml_event_log_open(path);
	if (fd < 0)
		pml_dbg("decision log %s: %s (not logging)", path, strerror(-fd));
	return fd;
}

static void read_comm(int pid, char *buf, size_t size)
{
	char path[64];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)size, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

static void say_result(const struct pml_shim_args *a, const char *name, int r,
		       const struct pml_shim_outcome *o)
{
	if (r == 0) {
		if (a->verbose)
			fprintf(stderr, "pml-modprobe: %s: %s (%s), %.1f ms\n", name, o->result,
				o->module, o->ms);
		return;
	}
	if (a->quiet)
		return;
	if (r == -ENOENT)
		fprintf(stderr, "modprobe: FATAL: Module %s not found.\n", name);
	else if (r == -EPERM)
		fprintf(stderr, "modprobe: FATAL: Module %s refused: %s\n", name, o->reason);
	else
		fprintf(stderr, "modprobe: ERROR: could not insert '%s': %s\n", name,
			o->reason[0] ? o->reason : strerror(-r));
}

static void say_remove(const struct pml_shim_args *a, const char *name, int r)
{
	if (r == 0 || a->quiet)
		return;
	if (r == -ENOENT)
		fprintf(stderr, "modprobe: FATAL: Module %s is not currently loaded.\n", name);
	else if (r == -EBUSY || r == -EAGAIN)
		fprintf(stderr, "modprobe: FATAL: Module %s is in use.\n", name);
	else if (r == -EPERM)
		fprintf(stderr, "modprobe: FATAL: Module %s is built in or pinned by the policy.\n",
			name);
	else
		fprintf(stderr, "modprobe: FATAL: Module %s: %s\n", name, strerror(-r));
}

int main(int argc, char **argv)
{
	uint64_t t_start = pml_now_ns();
	struct pml_policy_file *policy = NULL;
	struct pml_loader *ld = NULL;
	struct pml_shim_args args;
	struct pml_shim_env env = {.log_fd = -1, .t_start_ns = t_start};
	const char *policy_path, *dry;
	char msg[512], comm[32];
	int r, status = 0;

	ensure_std_fds();
	pml_shim_parse_args(argc, argv, &args);
	if (args.mode == PML_SHIM_EXEC)
		return exec_real(argc, argv);
	if (!args.quiet)
		pml_set_log_fn(pml_log_stderr, "pml-modprobe");
	pml_set_log_level(args.verbose ? PML_LOG_INFO : PML_LOG_WARNING);

	env.log_fd = open_event_log();
	env.source = args.mode == PML_SHIM_KERNEL ? "shim" : "shim-user";
	if (args.mode != PML_SHIM_KERNEL) {
		env.pid = (int)getppid();
		read_comm(env.pid, comm, sizeof(comm));
		env.comm = comm[0] ? comm : NULL;
	}
	dry = getenv("PML_SHIM_DRY_RUN");
	if (dry && !strcmp(dry, "1"))
		env.load_flags = PML_LOAD_DRY_RUN | PML_LOAD_PLAN_ALL;

	/* The policy: missing allows all; unparsable allows all too (never block the
	 * system on a typo), and says so in the log. */
	policy_path = getenv("PML_POLICY");
	if (!policy_path || !*policy_path)
		policy_path = PML_POLICY_FILE_DEFAULT;
	r = pml_policy_file_load_msg(policy_path, &policy, msg, sizeof(msg));
	if (r < 0 && r != -ENOENT) {
		struct pml_event_rec rec;
		char why[600];

		snprintf(why, sizeof(why), "policy ignored, allowing all: %s", msg);
		pml_warn("%s", why);
		pml_event_rec_init(&rec, PML_EV_ERROR);
		rec.t_ns = pml_now_ns();
		rec.reason = why;
		rec.source = env.source;
		rec.err = r;
		if (env.log_fd >= 0)
			pml_event_log_append(env.log_fd, &rec);
		policy = NULL;
	}
	env.policy = policy;

	r = pml_loader_new_kmod(getenv("PML_MODDIR"), &ld);
	if (r < 0) {
		/* No index, no tree: the real modprobe may still manage; the need goes
		 * unlogged rather than the system losing its modules. */
		pml_warn("cannot open the module tree: %s; running the real modprobe",
			 strerror(-r));
		if (env.log_fd >= 0)
			close(env.log_fd);
		pml_policy_file_free(policy);
		return exec_real(argc, argv);
	}
	env.ld = ld;

	for (size_t i = 0; i < args.n_names; i++) {
		if (args.mode == PML_SHIM_REMOVE) {
			r = pml_shim_remove(&env, args.names[i], NULL);
			say_remove(&args, args.names[i], r);
		} else {
			struct pml_shim_outcome o;

			r = pml_shim_serve(&env, args.names[i], &o);
			say_result(&args, args.names[i], r, &o);
		}
		if (r < 0)
			status = pml_shim_exit_status(r);
	}

	pml_loader_free(ld);
	pml_policy_file_free(policy);
	if (env.log_fd >= 0)
		close(env.log_fd);
	return status;
}
