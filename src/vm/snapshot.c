/* Ready snapshots; see snapshot.h for the layout. Measured here (QEMU 7.2, TCG, 1 GiB):
 * a template's RAM file holds ~140 MB of touched pages, its state stream ~70 kB, and a
 * clone runs its first command ~0.5 s after QEMU starts, against 5-20 s for a cold boot. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "util/log.h"
#include "util/outdir.h"
#include "vm/paths.h"
#include "vm/qmp.h"
#include "vm/snapshot.h"
#include "vm/stage.h"
#include "vm/vm.h"

#define META_MAX 4096
/* How long a template may take from QEMU's start to guest-init's "ready" (TCG, busy). */
#define BUILD_BOOT_S 240
#define QMP_MS 10000
#define MIGRATE_MS 120000

int pml_snapshot_root(char *buf, size_t size)
{
	char cache[4096];
	int r = pml_cache_dir(cache, sizeof(cache));

	if (r < 0)
		return r;
	if (snprintf(buf, size, "%s/snapshots", cache) >= (int)size)
		return -ENAMETOOLONG;
	return 0;
}

/* Which QEMU this is, once per process: its binary's path, size and change time (a stat,
 * not `--version`: that exec cost ~50 ms of every restore). A new QEMU, a new key. */
static const char *qemu_version(void)
{
	static char id[512];
	const char *path = getenv("PATH");

	if (id[0])
		return id;
	snprintf(id, sizeof(id), "unknown");
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		char bin[4200];
		struct stat st;

		snprintf(bin, sizeof(bin), "%.*s/qemu-system-x86_64", (int)n, p);
		if (n && stat(bin, &st) == 0 && S_ISREG(st.st_mode)) {
			snprintf(id, sizeof(id), "%.400s %lld %lld.%09ld", bin, (long long)st.st_size,
				 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
			break;
		}
		p += n + (p[n] == ':');
	}
	return id;
}

int pml_snapshot_key(const char *tmpl_key, const char *image_dir, unsigned mem_mb,
		     unsigned cpus, bool kvm, char *key, size_t key_size)
{
	uint64_t h = PML_VM_HASH_INIT;
	const char *image = strrchr(image_dir, '/');
	char fields[512];
	int n;

	n = snprintf(fields, sizeof(fields), "v%d|%s|%s|%s|%u|%u|%d", PML_SNAPSHOT_VERSION,
		     tmpl_key, image ? image + 1 : image_dir, qemu_version(), mem_mb, cpus, kvm);
	if (n >= (int)sizeof(fields))
		return -ENAMETOOLONG;
	h = pml_vm_hash(h, fields, (size_t)n);
	snprintf(key, key_size, "%016" PRIx64, h);
	return 0;
}

/* CRC-32 and size of a file. 0 or -errno. */
static int file_crc(const char *path, uint32_t *crc, uint64_t *bytes)
{
	unsigned char buf[65536];
	uLong c = crc32(0, Z_NULL, 0);
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	*bytes = 0;
	if (fd < 0)
		return -errno;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		c = crc32(c, buf, (uInt)n);
		*bytes += (uint64_t)n;
	}
	close(fd);
	if (n < 0)
		return -EIO;
	*crc = (uint32_t)c;
	return 0;
}

static const char *const checked[] = {"state", "root.qcow2", "tmpl.tar"};
#define N_CHECKED (sizeof(checked) / sizeof(checked[0]))

/* The meta file: lines "name value", the last "crc32 X" over every byte before it. */
static int write_meta(const char *dir, const char *key, const char *policy, unsigned mem_mb,
		      unsigned cpus, bool kvm)
{
	char path[4400], tmp[4400], text[META_MAX];
	size_t n = 0;
	FILE *f;

	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "pml-snapshot %d\nkey %s\npolicy %s\nmem_mb %u\ncpus %u\nkvm %d\n"
			      "qemu %s\ncreated %lld\n",
			      PML_SNAPSHOT_VERSION, key, policy, mem_mb, cpus, kvm, qemu_version(),
			      (long long)time(NULL));
	for (size_t i = 0; i < N_CHECKED; i++) {
		uint32_t crc;
		uint64_t bytes;
		int r;

		snprintf(path, sizeof(path), "%s/%s", dir, checked[i]);
		r = file_crc(path, &crc, &bytes);
		if (r < 0)
			return r;
		n += (size_t)snprintf(text + n, sizeof(text) - n, "file %s %" PRIu64 " %08x\n",
				      checked[i], bytes, crc);
	}
	if (n >= sizeof(text) - 32)
		return -ENAMETOOLONG;
	n += (size_t)snprintf(text + n, sizeof(text) - n, "crc32 %08lx\n",
			      crc32(crc32(0, Z_NULL, 0), (const Bytef *)text, (uInt)n));
	snprintf(path, sizeof(path), "%s/meta", dir);
	snprintf(tmp, sizeof(tmp), "%s/meta.tmp", dir);
	f = fopen(tmp, "wxe");
	if (!f)
		return -errno;
	if (fwrite(text, 1, n, f) != n || fclose(f) != 0)
		return -EIO;
	return rename(tmp, path) < 0 ? -errno : 0;
}

/* Read and check the meta file's own checksum; text gets it NUL-terminated. */
static int read_meta(const char *dir, char *text, size_t size, char *why, size_t why_size)
{
	char path[4200], *crc_line;
	unsigned long want;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/meta", dir);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, why_size, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? -ENOENT : -EBADMSG;
	}
	n = read(fd, text, size - 1);
	close(fd);
	if (n < 0) {
		snprintf(why, why_size, "%s: %s", path, strerror(errno));
		return -EBADMSG;
	}
	text[n] = '\0';
	if (strncmp(text, "pml-snapshot ", 13)) {
		snprintf(why, why_size, "%s: not a pml snapshot (bad magic)", path);
		return -EBADMSG;
	}
	if (atoi(text + 13) != PML_SNAPSHOT_VERSION) {
		snprintf(why, why_size, "%s: version %d, this pml makes version %d", path,
			 atoi(text + 13), PML_SNAPSHOT_VERSION);
		return -ESTALE;
	}
	crc_line = strstr(text, "\ncrc32 ");
	if (!crc_line || sscanf(crc_line + 7, "%8lx", &want) != 1 ||
	    crc32(crc32(0, Z_NULL, 0), (const Bytef *)text, (uInt)(crc_line + 1 - text)) != want) {
		snprintf(why, why_size, "%s: checksum mismatch (damaged)", path);
		return -EBADMSG;
	}
	crc_line[1] = '\0';
	return 0;
}

/* The value of "name value" in meta text, into out. */
static bool meta_get(const char *text, const char *name, char *out, size_t size)
{
	size_t k = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, k) && p[k] == ' ') {
			size_t len = strcspn(p + k + 1, "\n");

			if (len >= size)
				return false;
			memcpy(out, p + k + 1, len);
			out[len] = '\0';
			return true;
		}
	return false;
}

int pml_snapshot_verify(const char *dir, const char *key, unsigned mem_mb, char *why,
			size_t why_size)
{
	char text[META_MAX], val[256], path[4200];
	struct stat st;
	int r;

	why[0] = '\0';
	r = read_meta(dir, text, sizeof(text), why, why_size);
	if (r < 0)
		return r;
	if (!meta_get(text, "key", val, sizeof(val)) || strcmp(val, key)) {
		snprintf(why, why_size, "%s: made for another key", dir);
		return -ESTALE;
	}
	if (!meta_get(text, "qemu", val, sizeof(val)) || strcmp(val, qemu_version())) {
		snprintf(why, why_size, "%s: made by another QEMU (%s)", dir, val);
		return -ESTALE;
	}
	snprintf(path, sizeof(path), "%s/ram", dir);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size != (uint64_t)mem_mb << 20) {
		snprintf(why, why_size, "%s: missing or of the wrong size", path);
		return -EBADMSG;
	}
	for (size_t i = 0; i < N_CHECKED; i++) {
		char want[128], got[128];
		uint32_t crc;
		uint64_t bytes;
		const char *p;

		snprintf(want, sizeof(want), "file %s ", checked[i]);
		p = strstr(text, want);
		snprintf(path, sizeof(path), "%s/%s", dir, checked[i]);
		if (!p || file_crc(path, &crc, &bytes) < 0) {
			snprintf(why, why_size, "%s: missing", path);
			return -EBADMSG;
		}
		snprintf(got, sizeof(got), "file %s %" PRIu64 " %08x\n", checked[i], bytes, crc);
		if (strncmp(p, got, strlen(got))) {
			snprintf(why, why_size, "%s: size or checksum differs from when it was "
				 "saved (damaged or truncated)", path);
			return -EBADMSG;
		}
	}
	return 0;
}

static int make_sparse(const char *path, uint64_t bytes)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int r;

	if (fd < 0)
		return -errno;
	r = ftruncate(fd, (off_t)bytes) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* "exec:cat > 'PATH'" or "exec:cat 'PATH'" (refused for a path holding a quote). */
static int exec_uri(char *buf, size_t size, const char *verb, const char *path)
{
	if (strchr(path, '\'') || strchr(path, '\\') || strchr(path, '"'))
		return -EINVAL;
	return snprintf(buf, size, "{\"execute\":\"%s\",\"arguments\":{\"uri\":\"exec:cat %s'%s'\"}}",
			verb, !strcmp(verb, "migrate") ? "> " : "", path) < (int)size
		       ? 0
		       : -ENAMETOOLONG;
}

static const char ignore_shared[] =
	"{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":"
	"[{\"capability\":\"x-ignore-shared\",\"state\":true}]}}";

/* A snapshot's files (see snapshot.h) under dir, and the QEMU settings both a template
 * (writes them: shared RAM, the root overlay in place) and a clone (reads them: private
 * RAM, the overlay under snapshot=on, waiting for its state) take from them. */
struct snap_files {
	char root[4400], ram[4400], tmpl[4400], state[4400];
};

static void snap_spec(struct pml_qemu_spec *spec, struct snap_files *f, const char *dir,
		      bool template, const char *qmp_socket)
{
	snprintf(f->root, sizeof(f->root), "%s/root.qcow2", dir);
	snprintf(f->ram, sizeof(f->ram), "%s/ram", dir);
	snprintf(f->tmpl, sizeof(f->tmpl), "%s/tmpl.tar", dir);
	snprintf(f->state, sizeof(f->state), "%s/state", dir);
	spec->root_qcow2 = f->root;
	spec->root_writable = template;
	spec->tmpl_disk = f->tmpl;
	spec->ram_file = f->ram;
	spec->ram_shared = template;
	spec->qmp_socket = qmp_socket;
	spec->incoming = !template;
	spec->wait_for_job = true;
}

int pml_snapshot_build(const struct pml_qemu_spec *spec0, const char *tmpl_tar,
		       const char *key, const char *policy, const char *dir, char *why,
		       size_t why_size)
{
	char tmp[4200], run[4400], out[4400], qmps[4400];
	char cmd[4800], console[4400], err[256] = "";
	struct pml_qemu_spec spec = *spec0;
	struct snap_files f;
	struct pml_qemu q = {.pid = 0};
	struct pml_qmp *qmp = NULL;
	int r;

	why[0] = '\0';
	if (pml_outdir_tmp_name(dir, tmp, sizeof(tmp)) < 0 || mkdir(tmp, 0700) < 0) {
		snprintf(why, why_size, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	snprintf(run, sizeof(run), "%s/run.placeholder", tmp);
	snprintf(out, sizeof(out), "%s/out.placeholder", tmp);
	snprintf(qmps, sizeof(qmps), "%s/qmp.sock", tmp);
	snprintf(console, sizeof(console), "%s/console.log", tmp);
	snap_spec(&spec, &f, tmp, true, qmps);
	spec.run_disk = run;
	spec.out_disk = out;
	r = pml_copy_file(tmpl_tar, f.tmpl, 1ull << 32) < 0 ? -EIO : 0;
	if (!r) {
		char backing[4400];

		snprintf(backing, sizeof(backing), "%s/rootfs.ext4", spec.image_dir);
		r = pml_vm_spawn_quiet((char *[]){"qemu-img", "create", "-q", "-f", "qcow2", "-F",
						  "raw", "-b", backing, f.root, NULL});
	}
	if (!r)
		r = make_sparse(f.ram, (uint64_t)(spec.mem_mb ? spec.mem_mb : 1024) << 20);
	if (!r)
		r = make_sparse(run, PML_QEMU_RUN_DISK_BYTES);
	if (!r)
		r = make_sparse(out, PML_QEMU_OUT_DISK_BYTES);
	if (r < 0) {
		snprintf(why, why_size, "cannot prepare the template's files in %s: %s", tmp,
			 strerror(-r));
		goto fail;
	}
	r = pml_qemu_start(&spec, console, &q);
	if (r < 0) {
		snprintf(why, why_size, "cannot start QEMU: %s", strerror(-r));
		goto fail;
	}
	r = pml_qemu_watch(&q, BUILD_BOOT_S, 0, true);
	if (r != 0 || !q.ready) {
		snprintf(why, why_size, r == -EINTR ? "stopped by a signal"
			 : r == -ETIMEDOUT ? "the template did not get ready in time (console: %s)"
					   : "the template stopped before it was ready (console: %s)",
			 console);
		r = r < 0 ? r : -EIO;
		goto fail;
	}
	/* guest-init says whether pmld came up: a guest without it is not worth keeping */
	if (q.pmld_failed) {
		snprintf(why, why_size, "pmld did not start in the template");
		r = -EAGAIN;
		goto fail;
	}
	r = pml_qmp_connect(qmps, QMP_MS, &qmp);
	if (!r)
		r = pml_qmp_execute(qmp, "{\"execute\":\"stop\"}", QMP_MS, NULL, 0, err, sizeof(err));
	if (!r)
		r = pml_qmp_execute(qmp, ignore_shared, QMP_MS, NULL, 0, err, sizeof(err));
	if (!r)
		r = exec_uri(cmd, sizeof(cmd), "migrate", f.state);
	if (!r)
		r = pml_qmp_execute(qmp, cmd, QMP_MS, NULL, 0, err, sizeof(err));
	if (!r)
		r = pml_qmp_wait_migration(qmp, MIGRATE_MS, err, sizeof(err));
	if (r < 0) {
		snprintf(why, why_size, "saving the template failed: %s", err[0] ? err :
			 strerror(-r));
		goto fail;
	}
	pml_qmp_execute(qmp, "{\"execute\":\"quit\"}", QMP_MS, NULL, 0, NULL, 0);
	pml_qmp_close(qmp);
	qmp = NULL;
	pml_qemu_finish(&q, 10000);
	unlink(run);
	unlink(out);
	unlink(qmps);
	r = write_meta(tmp, key, policy, spec.mem_mb ? spec.mem_mb : 1024,
		       spec.cpus ? spec.cpus : 1, spec.kvm);
	if (r < 0) {
		snprintf(why, why_size, "cannot write %s/meta: %s", tmp, strerror(-r));
		goto fail;
	}
	if (rename(tmp, dir) < 0) {
		r = errno == EEXIST || errno == ENOTEMPTY ? -EEXIST : -errno;
		snprintf(why, why_size, "%s: %s", dir, strerror(errno));
		pml_outdir_remove(tmp);
		return r;
	}
	return 0;
fail:
	pml_qmp_close(qmp);
	if (q.pid > 0 || q.log_fd >= 0)
		pml_qemu_finish(&q, 0);
	pml_outdir_remove(tmp);
	return r;
}

int pml_snapshot_start_clone(const char *dir, const struct pml_qemu_spec *spec0,
			     const char *qmp_socket, const char *console_log, const char *line,
			     struct pml_qemu *q, char *why, size_t why_size)
{
	char meta[4400], cmd[4800], err[256] = "";
	struct pml_qemu_spec spec = *spec0;
	struct pml_qmp *qmp = NULL;
	struct snap_files f;
	int r;

	snap_spec(&spec, &f, dir, false, qmp_socket);
	r = exec_uri(cmd, sizeof(cmd), "migrate-incoming", f.state);
	if (r < 0) {
		snprintf(why, why_size, "%s: a path pml cannot pass to QEMU", f.state);
		return r;
	}
	r = pml_qemu_start(&spec, console_log, q);
	if (r < 0) {
		snprintf(why, why_size, "cannot start QEMU: %s", strerror(-r));
		return r;
	}
	snprintf(meta, sizeof(meta), "%s/meta", dir);
	utimensat(AT_FDCWD, meta, NULL, 0); /* its last use, for pml_snapshot_prune() */
	r = pml_qmp_connect(qmp_socket, QMP_MS, &qmp);
	if (!r)
		r = pml_qmp_execute(qmp, ignore_shared, QMP_MS, NULL, 0, err, sizeof(err));
	if (!r)
		r = pml_qmp_execute(qmp, cmd, QMP_MS, NULL, 0, err, sizeof(err));
	if (!r)
		r = pml_qmp_wait_status(qmp, "paused", QMP_MS);
	if (!r)
		r = pml_qmp_execute(qmp, "{\"execute\":\"cont\"}", QMP_MS, NULL, 0, err,
				    sizeof(err));
	pml_qmp_close(qmp);
	if (!r)
		r = pml_qemu_send_line(q, line);
	if (r < 0) {
		snprintf(why, why_size, "restoring %s failed: %s", dir,
			 err[0] ? err : r == -EPIPE ? "QEMU exited (see its console log)"
						    : strerror(-r));
		pml_qemu_finish(q, 0);
		return r;
	}
	return 0;
}

/* Blocks a directory's files use (sparse files count what they hold). */
static uint64_t disk_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t sum = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct stat st;

		if (e->d_name[0] != '.' && fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			sum += (uint64_t)st.st_blocks * 512;
	}
	closedir(d);
	return sum;
}

int pml_snapshot_list(struct pml_snapshot_info *out, size_t max)
{
	char root[4096], dir[4400], text[META_MAX], val[64], why[256];
	struct dirent *e;
	size_t n = 0;
	DIR *d;
	int r = pml_snapshot_root(root, sizeof(root));

	if (r < 0)
		return r;
	d = opendir(root);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		struct pml_snapshot_info info = {0};

		if (e->d_name[0] == '.' || strstr(e->d_name, ".tmp.") || strstr(e->d_name, ".failed") ||
		    strlen(e->d_name) >= sizeof(info.key))
			continue;
		snprintf(dir, sizeof(dir), "%s/%s", root, e->d_name);
		memcpy(info.key, e->d_name, strlen(e->d_name) + 1);
		info.valid = read_meta(dir, text, sizeof(text), why, sizeof(why)) == 0;
		if (info.valid) {
			if (meta_get(text, "policy", val, sizeof(val)))
				snprintf(info.policy, sizeof(info.policy), "%s", val);
			if (meta_get(text, "mem_mb", val, sizeof(val)))
				info.mem_mb = (unsigned)strtoul(val, NULL, 10);
			if (meta_get(text, "cpus", val, sizeof(val)))
				info.cpus = (unsigned)strtoul(val, NULL, 10);
			if (meta_get(text, "kvm", val, sizeof(val)))
				info.kvm = val[0] == '1';
			if (meta_get(text, "created", val, sizeof(val)))
				info.created = strtoll(val, NULL, 10);
		}
		info.disk_bytes = disk_bytes(dir);
		if (n < max)
			out[n] = info;
		n++;
	}
	closedir(d);
	return (int)n;
}

int pml_snapshot_remove(const char *key)
{
	char root[4096], dir[4400];
	struct stat st;
	int r;

	if (!key[0] || strchr(key, '/') || !strcmp(key, ".") || !strcmp(key, ".."))
		return -EINVAL;
	r = pml_snapshot_root(root, sizeof(root));
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/%s.failed", root, key);
	r = unlink(dir) == 0 ? 0 : -ENOENT; /* a failed build's marker (snapshot.h) */
	snprintf(dir, sizeof(dir), "%s/%s", root, key);
	if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return r;
	pml_outdir_remove(dir);
	return 0;
}

int pml_snapshot_prune(size_t keep, const char *except)
{
	struct pml_snapshot_info *v = calloc(256, sizeof(*v));
	char root[4096], meta[4400];
	time_t *used;
	int n, removed = 0;

	if (!v)
		return -ENOMEM;
	n = pml_snapshot_list(v, 256);
	used = n > 0 ? calloc((size_t)n, sizeof(*used)) : NULL;
	if (n <= 0 || !used || pml_snapshot_root(root, sizeof(root)) < 0) {
		free(v);
		free(used);
		return n < 0 ? n : 0;
	}
	if (n > 256)
		n = 256;
	/* last use: the meta file's mtime, touched at every restore */
	for (int i = 0; i < n; i++) {
		struct stat st;

		snprintf(meta, sizeof(meta), "%s/%s/meta", root, v[i].key);
		used[i] = stat(meta, &st) == 0 ? st.st_mtime : 0;
	}
	while ((size_t)(n - removed) > keep) {
		int oldest = -1;

		for (int i = 0; i < n; i++)
			if (v[i].key[0] && (!except || strcmp(v[i].key, except)) &&
			    (oldest < 0 || used[i] < used[oldest]))
				oldest = i;
		if (oldest < 0)
			break;
		pml_info("removing snapshot %s, the least recently used of %d (at most %zu kept)",
			 v[oldest].key, n - removed, keep);
		pml_snapshot_remove(v[oldest].key);
		v[oldest].key[0] = '\0';
		removed++;
	}
	free(v);
	free(used);
	return removed;
}
