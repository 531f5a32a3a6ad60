/* Staging a job's two disks; see stage.h. Packing is done by spawning tar and cp: these
 * are the host's own files and the user's, not the guest's. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"
#include "util/log.h"
#include "vm/results.h"
#include "vm/stage.h"

int pml_vm_spawn_quiet(char *const *argv)
{
	int r = pml_spawn_wait(argv, -1, 0);

	if (r != 0)
		pml_err("%s failed (%s%d)", argv[0], r < 0 ? "error " : "exit status ", r);
	return r == 0 ? 0 : r < 0 ? r : -EIO;
}

uint64_t pml_vm_hash(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

int pml_vm_hash_file(uint64_t *h, const char *path)
{
	unsigned char buf[65536];
	uint64_t len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		*h = pml_vm_hash(*h, buf, (size_t)n);
		len += (uint64_t)n;
	}
	close(fd);
	if (n < 0)
		return -EIO;
	*h = pml_vm_hash(*h, &len, sizeof(len));
	return 0;
}

/* The job's settings file, sourced by guest-init: only values we produced or checked
 * (letters, digits and the characters of extra; paths add '/' and '+'). */
static bool safe_chars(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!strchr(extra, *s) && !((*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static bool shell_safe(const char *s)
{
	return safe_chars(s, "-_.");
}

/* The script a command runs, when it is one: "sh X", "bash X" (options skipped), or X
 * itself when it ends in .sh, after any "env NAME=VALUE". Relative names are in /work.
 * NULL otherwise. */
static const char *prior_script(char *const *argv)
{
	static char path[1100];
	const char *x = NULL, *base;

	/* env NAME=VALUE ... CMD: the command is after them */
	while (argv[0] && (!strcmp(argv[0], "env") || !strcmp(argv[0], "/usr/bin/env") ||
			   (strchr(argv[0], '=') && argv[0][0] != '=')))
		argv++;
	if (!argv[0])
		return NULL;
	base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	if (!strcmp(base, "sh") || !strcmp(base, "bash") || !strcmp(base, "dash")) {
		for (size_t i = 1; argv[i]; i++)
			if (argv[i][0] != '-') {
				x = argv[i];
				break;
			} else if (!strcmp(argv[i], "-c")) {
				return NULL;
			}
	} else if (strlen(argv[0]) > 3 && !strcmp(argv[0] + strlen(argv[0]) - 3, ".sh")) {
		x = argv[0];
	}
	if (!x || strlen(x) > 1000)
		return NULL;
	snprintf(path, sizeof(path), "%s%s", x[0] == '/' ? "" : "/work/", x);
	return path;
}

/* The template's settings (sourced by guest-init before pmld starts) to f. */
static int write_tmpl_env(FILE *f, const struct pml_vm_job *job)
{
	if (!safe_chars(job->policy, "-_.+") || (job->budget_mem && !shell_safe(job->budget_mem)))
		return -EINVAL;
	fprintf(f, "POLICY=%s\n", job->policy);
	if (job->idle_seconds > 0)
		fprintf(f, "IDLE=%.3f\n", job->idle_seconds);
	if (job->break_pmld)
		fprintf(f, "PMLD_TEST_BREAK=1\n");
	if (job->model)
		fprintf(f, "PMLD_MODEL=/job/pmld.model\n");
	if (job->slots_model)
		fprintf(f, "PMLD_SLOTS_MODEL=/job/pmld.slots\n");
	if (job->threshold > 0)
		fprintf(f, "PMLD_THRESHOLD=%.4f\n", job->threshold);
	if (job->budget_mem)
		fprintf(f, "PMLD_BUDGET=%s\n", job->budget_mem);
	if (job->budget_cpu > 0)
		fprintf(f, "PMLD_BUDGET_CPU=%.3f\n", job->budget_cpu);
	if (job->horizon_ms > 0)
		fprintf(f, "PMLD_HORIZON=%.1f\n", job->horizon_ms);
	/* A policy that reads the program's behaviour gets the tracer on everything started
	 * after pmld (pid 1's later children); the prior comes with the job. */
	if (pml_policy_reads_trace(job->policy))
		fprintf(f, "PMLD_TRACE_ROOT=1\n");
	return ferror(f) ? -EIO : 0;
}

/* The run's settings (sourced by guest-init once the job is there). */
static int write_run_env(const char *path, const struct pml_vm_job *job)
{
	const char *script = prior_script(job->argv);
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	fprintf(f, "SETTLE=%u\nTIMEOUT=%u\nOUT_CAP=%llu\n",
		(unsigned)(job->settle_seconds + 0.999), job->timeout_s,
		(unsigned long long)PML_RESULTS_STDIO_MAX);
	if (job->fallback)
		fprintf(f, "FALLBACK=1\n");
	if (job->trace)
		fprintf(f, "TRACE=1\n");
	if (job->kill_pmld_after > 0)
		fprintf(f, "PMLD_KILL_AFTER=%.3f\n", job->kill_pmld_after);
	if (script && safe_chars(script, "-_./+"))
		fprintf(f, "PRIOR_SCRIPT=%s\n", script);
	return fclose(f) == 0 ? 0 : -EIO;
}

static int write_argv(const char *path, char *const *argv)
{
	FILE *f = fopen(path, "we");

	if (!f)
		return -errno;
	for (size_t i = 0; argv[i]; i++)
		fwrite(argv[i], 1, strlen(argv[i]) + 1, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

/* tar of the --copy items: a directory's contents land in /work, a file as /work/NAME. */
static int make_work_tar(const struct pml_vm_job *job, const char *tar_path)
{
	char *argv[4 + 3 * PML_VM_MAX_COPY + 1];
	char dirs[PML_VM_MAX_COPY][4096], bases[PML_VM_MAX_COPY][1024];
	size_t n = 0;
	struct stat st;

	argv[n++] = "tar";
	argv[n++] = "-cf";
	argv[n++] = (char *)tar_path;
	for (size_t i = 0; i < job->n_copy; i++) {
		const char *p = job->copy[i];
		char *slash;

		if (stat(p, &st) < 0) {
			pml_err("--copy %s: %s", p, strerror(errno));
			return -errno;
		}
		if (!realpath(p, dirs[i]))
			return -errno;
		if (S_ISDIR(st.st_mode)) {
			snprintf(bases[i], sizeof(bases[i]), ".");
		} else {
			slash = strrchr(dirs[i], '/');
			snprintf(bases[i], sizeof(bases[i]), "%s", slash + 1);
			if (slash == dirs[i])
				slash[1] = '\0';
			else
				*slash = '\0';
		}
		argv[n++] = "-C";
		argv[n++] = dirs[i];
		argv[n++] = bases[i];
	}
	argv[n] = NULL;
	return pml_vm_spawn_quiet(argv);
}

static const char *const bins[] = {"pml", "pmld", "pml-modprobe", "pml-guest"};

int pml_vm_template_key(const struct pml_vm_job *job, char *key, size_t key_size)
{
	uint64_t h = PML_VM_HASH_INIT;
	char path[4400], *env = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&env, &len);
	int r;

	if (!f)
		return -ENOMEM;
	r = write_tmpl_env(f, job);
	fclose(f);
	if (r == 0)
		h = pml_vm_hash(h, env, len);
	free(env);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", job->bin_dir, bins[i]);
		r = pml_vm_hash_file(&h, path);
		if (r < 0) {
			pml_err("%s: %s (run make)", path, strerror(-r));
			return r;
		}
	}
	snprintf(path, sizeof(path), "%s/guest-init", job->guest_dir);
	r = pml_vm_hash_file(&h, path);
	h = pml_vm_hash(h, "model", 6);
	if (!r && job->model)
		r = pml_vm_hash_file(&h, job->model);
	h = pml_vm_hash(h, "slots", 6);
	if (!r && job->slots_model)
		r = pml_vm_hash_file(&h, job->slots_model);
	h = pml_vm_hash(h, "policy", 7);
	if (!r && job->policy_file)
		r = pml_vm_hash_file(&h, job->policy_file);
	if (r < 0) {
		pml_err("cannot read what the guest is made of: %s", strerror(-r));
		return r;
	}
	snprintf(key, key_size, "%016llx", (unsigned long long)h);
	return 0;
}

int pml_vm_stage_template(const struct pml_vm_job *job, const char *dir, const char *tar_path)
{
	char path[4400], src[4400];
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/bin", dir);
	if (mkdir(dir, 0755) < 0 || mkdir(path, 0755) < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/env", dir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	r = write_tmpl_env(f, job);
	if (fclose(f) != 0 && !r)
		r = -EIO;
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(bins) / sizeof(bins[0]); i++) {
		snprintf(src, sizeof(src), "%s/%s", job->bin_dir, bins[i]);
		if (access(src, X_OK) < 0) {
			pml_err("%s is missing: run make", src);
			return -ENOENT;
		}
		snprintf(path, sizeof(path), "%s/bin/%s", dir, bins[i]);
		r = pml_vm_spawn_quiet((char *[]){"cp", src, path, NULL});
		if (r < 0)
			return r;
	}
	snprintf(src, sizeof(src), "%s/guest-init", job->guest_dir);
	snprintf(path, sizeof(path), "%s/guest-init", dir);
	r = pml_vm_spawn_quiet((char *[]){"cp", src, path, NULL});
	if (r < 0)
		return r;
	if (job->model) {
		snprintf(path, sizeof(path), "%s/pmld.model", dir);
		r = pml_vm_spawn_quiet((char *[]){"cp", (char *)job->model, path, NULL});
		if (r < 0)
			return r;
	}
	if (job->slots_model) {
		snprintf(path, sizeof(path), "%s/pmld.slots", dir);
		r = pml_vm_spawn_quiet((char *[]){"cp", (char *)job->slots_model, path, NULL});
		if (r < 0)
			return r;
	}
	if (job->policy_file) {
		snprintf(path, sizeof(path), "%s/policy.conf", dir);
		r = pml_vm_spawn_quiet((char *[]){"cp", (char *)job->policy_file, path, NULL});
		if (r < 0)
			return r;
	}
	return pml_vm_spawn_quiet((char *[]){"tar", "-cf", (char *)tar_path, "-C", (char *)dir,
					     ".", NULL});
}

int pml_vm_stage_run(const struct pml_vm_job *job, const char *dir, const char *tar_path,
		     uint64_t *ret_bytes)
{
	char path[4400];
	struct stat st;
	FILE *f;
	int r;

	if (mkdir(dir, 0755) < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/cmd", dir);
	r = write_argv(path, job->argv);
	if (r < 0)
		return r;
	/* the command line as one line of text: the lstm policy's prior */
	snprintf(path, sizeof(path), "%s/cmdline", dir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	for (size_t i = 0; job->argv[i]; i++)
		fprintf(f, "%s%s", i ? " " : "", job->argv[i]);
	if (fclose(f) != 0)
		return -EIO;
	/* the same as shell words: guest-init sources it ("set -- 'a' 'b'") and runs the
	 * command without xargs or another shell (each exec costs tens of ms under TCG) */
	snprintf(path, sizeof(path), "%s/cmdset", dir);
	f = fopen(path, "we");
	if (!f)
		return -errno;
	fputs("set --", f);
	for (size_t i = 0; job->argv[i]; i++) {
		fputs(" '", f);
		for (const char *c = job->argv[i]; *c; c++)
			if (*c == '\'')
				fputs("'\\''", f);
			else
				fputc(*c, f);
		fputc('\'', f);
	}
	fputc('\n', f);
	if (fclose(f) != 0)
		return -EIO;
	snprintf(path, sizeof(path), "%s/jobenv", dir);
	r = write_run_env(path, job);
	if (r < 0)
		return r;
	if (job->n_copy) {
		snprintf(path, sizeof(path), "%s/work.tar", dir);
		r = make_work_tar(job, path);
		if (r < 0)
			return r;
	}
	r = pml_vm_spawn_quiet((char *[]){"tar", "-cf", (char *)tar_path, "-C", (char *)dir, ".",
					  NULL});
	if (r < 0)
		return r;
	if (stat(tar_path, &st) < 0)
		return -errno;
	*ret_bytes = (uint64_t)st.st_size;
	return 0;
}
