/* What comes back from the guest.
 *
 * Threat model. The guest runs the user's code as root in its VM, and that code can do
 * anything the VM can: rewrite guest-init, replace tar, write any bytes it likes onto the
 * output disk. So everything on out.img is attacker-chosen: names, types, modes, owners,
 * link targets, sizes, header fields, and whether the archive ends at all. The host, on
 * the other hand, unpacks as the user running pml (often root, for QEMU and the caches),
 * into a run directory next to its caches. An unpacker that trusts the archive hands the
 * guest the host: symlinks followed out of the result directory, setuid-root binaries and
 * device nodes created, a FIFO that blocks the reader forever, a 2 GiB stdout or a million
 * files. This file is the one place where those bytes are read; everything above it sees
 * only regular files of bounded size, directories and inward symlinks under a directory it
 * made itself, plus the counts in struct pml_results.
 *
 * The rules:
 * - The disk is read with libarchive in this process (no tar(1)), tar formats only and no
 *   compression filter (no decompression bomb), through our own read callbacks, which also
 *   stop everything once PML_RESULTS_SECONDS_MAX have passed.
 * - Top level: only the names the guest writes (the table below), only from regular-file
 *   entries, each once, each opened O_CREAT|O_EXCL|O_NOFOLLOW in the fresh DEST and capped;
 *   bytes past the cap are dropped and the file marked truncated. Modes and owners in the
 *   archive are ignored (files are 0644, owned by whoever runs pml).
 * - work-out.tar is never written to disk: it is read as a nested archive straight from the
 *   outer entry's data and extracted into DEST/out by hand rather than by
 *   archive_write_disk, which works relative to the process's current directory (a chdir
 *   in a library) and would still leave symlink targets, devices and modes to check. Kept:
 *   regular files (mode & 0755, plus 0600 so the host can read them), directories
 *   (mode & 0755 | 0700 so extraction can go on inside), and symlinks whose target cannot
 *   leave out/ (below). Refused: hard links, devices, FIFOs, sockets, absolute paths, any
 *   ".." component, control characters, paths over PML_RESULTS_PATH_MAX bytes or
 *   PML_RESULTS_DEPTH_MAX components, a second entry for a path, and any path whose
 *   directories are not real directories. Every directory is opened with
 *   O_NOFOLLOW|O_DIRECTORY from out/ down, so nothing is ever written through a link.
 *   setuid/setgid/sticky bits are dropped and counted; ownership is never applied.
 * - A symlink is kept when its target is relative and of the form "../../a/b": some ".."
 *   first (no more than the link's own depth below out/), then only names. A lexical check
 *   alone is not enough: with out/a/b/l -> ../.. (out/ itself), a link m -> a/b/l/../../..
 *   stays inside lexically but resolves three levels above out/, because ".." after a
 *   symlink follows the link. With ".." allowed only first, every link resolves inside
 *   out/ by induction: it climbs real directories (the link's own, which this code made)
 *   and then descends through names, each a real entry or a link that resolves inside.
 * - Caps, all named in results.h: bytes per top-level file, bytes and entries of out/,
 *   entries of the outer archive, path length and depth, wall time. The data is streamed
 *   through one 64 KiB buffer: memory does not grow with what the guest sends.
 * - A damaged archive (cut, garbage, bad checksums, a header claiming more than the disk
 *   holds) keeps what was read before the damage and sets archive_damaged; it is not an
 *   error, since a crashed guest leaves exactly that.
 *
 * The limits (results.h) are sized to what an honest guest sends, with room: status,
 * start, end and the markers are a number and a newline (4 KiB: guest-init reserves
 * "space" as a 4 KiB file); /proc/modules of the whole ~4000-module tree is ~200 KiB
 * (1 MiB for modules.end, base.txt and pmld.out); 16 MiB of stdout and stderr is
 * guest-init's OUT_CAP, which sends one byte more so that the cut shows here; a decision
 * log record is ~150 bytes (64 MiB: ~400k records); trace.bin is a traced run's eBPF
 * record (512 MiB); /work/out holds a collect boot's traces, tens to hundreds of files
 * (1 GiB, 10000 entries, paths of 1024 bytes and 32 levels); the guest writes ~17
 * top-level entries (256). 30 s is several times what writing all of that takes from the
 * page cache: past it the guest is making the host work, and what was read is kept. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/log.h"
#include "util/timeutil.h"
#include "vm/results.h"

#define BUF_SIZE (64u << 10)

static const struct {
	const char *name;
	uint64_t cap;
} known[PML_RESULTS__N] = {
	[PML_RESULTS_STATUS] = {"status", PML_RESULTS_SMALL_MAX},
	[PML_RESULTS_START] = {"start", PML_RESULTS_SMALL_MAX},
	[PML_RESULTS_END] = {"end", PML_RESULTS_SMALL_MAX},
	[PML_RESULTS_STDOUT] = {"stdout", PML_RESULTS_STDIO_MAX},
	[PML_RESULTS_STDERR] = {"stderr", PML_RESULTS_STDIO_MAX},
	[PML_RESULTS_EVENTS] = {"events.jsonl", PML_RESULTS_EVENTS_MAX},
	[PML_RESULTS_BASE] = {"base.txt", PML_RESULTS_TEXT_MAX},
	[PML_RESULTS_PMLD_OUT] = {"pmld.out", PML_RESULTS_TEXT_MAX},
	[PML_RESULTS_PMLD_STATUS] = {"pmld.status", PML_RESULTS_SMALL_MAX},
	[PML_RESULTS_MODULES_END] = {"modules.end", PML_RESULTS_TEXT_MAX},
	[PML_RESULTS_TRACE] = {"trace.bin", PML_RESULTS_TRACE_MAX},
	[PML_RESULTS_PMLD_START] = {"pmld.start", PML_RESULTS_SMALL_MAX},
	[PML_RESULTS_TIMED_OUT] = {"timed-out", PML_RESULTS_SMALL_MAX},
	[PML_RESULTS_WATCHDOG] = {"watchdog", PML_RESULTS_SMALL_MAX},
	[PML_RESULTS_SPACE] = {"space", PML_RESULTS_SMALL_MAX},
};

#define WORK_OUT_NAME "work-out.tar"

const char *pml_results_name(enum pml_results_name n)
{
	return (unsigned)n < PML_RESULTS__N ? known[n].name : NULL;
}

uint64_t pml_results_cap(enum pml_results_name n)
{
	return (unsigned)n < PML_RESULTS__N ? known[n].cap : 0;
}

struct unpack {
	struct pml_results res;
	int disk_fd, dest_fd, out_fd;
	off_t disk_size;
	uint64_t deadline_ns;
	struct archive *outer;
	char *disk_buf;	  /* the outer archive's read buffer */
	char *nested_buf; /* the inner archive's, filled from the outer entry */
	char *data_buf;	  /* entry data on its way to a file */
	int host_err;	  /* the first host-side failure (negative errno); stops everything */
};

static bool past_deadline(struct unpack *u)
{
	if (!u->res.timed_out && pml_now_ns() > u->deadline_ns)
		u->res.timed_out = true;
	return u->res.timed_out;
}

/* Record a refused entry: count it, keep the first description (printable ASCII only,
 * the path shortened) for the report. where is "" or "out/". */
static void refuse(struct unpack *u, const char *where, const char *path, const char *why)
{
	char clean[161];
	size_t n = 0;

	u->res.refused++;
	if (!path)
		path = "(no name)";
	while (path[0] == '.' && path[1] == '/' && path[2])
		path += 2;
	for (; *path && n < sizeof(clean) - 1; path++)
		clean[n++] = *path >= 0x20 && *path < 0x7f ? *path : '?';
	clean[n] = '\0';
	pml_dbg("results: refused %s%s%s: %s", where, clean, *path ? "..." : "", why);
	if (u->res.refused == 1)
		snprintf(u->res.first_refusal, sizeof(u->res.first_refusal), "%s%s%s: %s",
			 where, clean, *path ? "..." : "", why);
}

static const char *type_words(struct archive_entry *e)
{
	if (archive_entry_hardlink(e))
		return "a hard link";
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		return "a regular file";
	case AE_IFDIR:
		return "a directory";
	case AE_IFLNK:
		return "a symlink";
	case AE_IFCHR:
		return "a character device";
	case AE_IFBLK:
		return "a block device";
	case AE_IFIFO:
		return "a FIFO";
	case AE_IFSOCK:
		return "a socket";
	default:
		return "an entry of unknown type";
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Stream the current entry of a into fd, keeping at most cap bytes. Sets *kept and
 * *truncated (more data than cap); a read error marks the archive damaged. Returns 0 or
 * the negative errno of a host write failure. */
static int copy_data(struct unpack *u, struct archive *a, int fd, uint64_t cap,
		     uint64_t *kept, bool *truncated)
{
	*kept = 0;
	*truncated = false;
	for (;;) {
		la_ssize_t n;
		size_t take;
		int r;

		if (past_deadline(u))
			return 0;
		n = archive_read_data(a, u->data_buf, BUF_SIZE);
		if (n == 0)
			return 0;
		if (n < 0) {
			u->res.archive_damaged = true;
			return 0;
		}
		take = (uint64_t)n < cap - *kept ? (size_t)n : (size_t)(cap - *kept);
		if (take) {
			r = write_all(fd, u->data_buf, take);
			if (r < 0)
				return r;
			*kept += take;
		}
		if (take < (size_t)n) {
			/* the rest is skipped by the next header read (a seek on the disk) */
			*truncated = true;
			return 0;
		}
	}
}

/* ---- the disk: our read callbacks, so the deadline also holds inside libarchive ---- */

static la_ssize_t disk_read(struct archive *a, void *data, const void **buf)
{
	struct unpack *u = data;
	ssize_t n;

	if (past_deadline(u)) {
		archive_set_error(a, ETIMEDOUT, "time cap reached");
		return -1;
	}
	do
		n = read(u->disk_fd, u->disk_buf, BUF_SIZE);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "reading the disk");
		return -1;
	}
	*buf = u->disk_buf;
	return n;
}

static la_int64_t disk_skip(struct archive *a, void *data, la_int64_t request)
{
	struct unpack *u = data;
	off_t pos = lseek(u->disk_fd, 0, SEEK_CUR);

	if (pos < 0 || request <= 0 || pos >= u->disk_size)
		return 0; /* libarchive reads instead, and meets the end */
	if (request > u->disk_size - pos)
		request = u->disk_size - pos;
	if (lseek(u->disk_fd, pos + request, SEEK_SET) < 0)
		return 0;
	return request;
}

/* ---- out/: the nested archive ---- */

/* The inner archive reads the outer entry's data. */
static la_ssize_t nested_read(struct archive *a, void *data, const void **buf)
{
	struct unpack *u = data;
	la_ssize_t n;

	if (past_deadline(u)) {
		archive_set_error(a, ETIMEDOUT, "time cap reached");
		return -1;
	}
	n = archive_read_data(u->outer, u->nested_buf, BUF_SIZE);
	if (n < 0) {
		u->res.archive_damaged = true;
		archive_set_error(a, EIO, "the outer archive: %s",
				  archive_error_string(u->outer) ? archive_error_string(u->outer)
								 : "read error");
		return -1;
	}
	*buf = u->nested_buf;
	return n;
}

/* Split path (already length-checked) into at most PML_RESULTS_DEPTH_MAX components in
 * buf, dropping empty and "." ones. Returns the count, or -1 with the reason in *why. */
static int split_path(const char *path, char *buf, size_t size, const char **comp,
		      const char **why)
{
	int n = 0;
	char *p, *save = NULL;

	if (path[0] == '/') {
		*why = "an absolute path";
		return -1;
	}
	snprintf(buf, size, "%s", path);
	for (const unsigned char *c = (const unsigned char *)buf; *c; c++) {
		if (*c < 0x20 || *c == 0x7f) {
			*why = "a control character in the path";
			return -1;
		}
	}
	for (p = strtok_r(buf, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (!strcmp(p, "."))
			continue;
		if (!strcmp(p, "..")) {
			*why = "a path with ..";
			return -1;
		}
		if (strlen(p) > NAME_MAX) {
			*why = "a name longer than the host allows";
			return -1;
		}
		if (n == PML_RESULTS_DEPTH_MAX) {
			*why = "a path deeper than the cap";
			return -1;
		}
		comp[n++] = p;
	}
	return n;
}

/* Whether a symlink at depth (components of its directory below out/) with this target
 * resolves inside out/: relative, leading ".." no more than depth, then only names. */
static const char *symlink_refusal(const char *target, int depth)
{
	const char *p = target;
	bool named = false;
	int up = 0;

	if (!target || !*target)
		return "a symlink with no target";
	if (strlen(target) > PML_RESULTS_PATH_MAX)
		return "a symlink target longer than the cap";
	if (*target == '/')
		return "a symlink to an absolute path";
	for (const unsigned char *c = (const unsigned char *)target; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return "a control character in a symlink target";
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (named)
				return "a symlink target with .. after a name";
			if (++up > depth)
				return "a symlink out of out/";
		} else if (len && !(len == 1 && p[0] == '.')) {
			named = true;
		}
		p += len;
		while (*p == '/')
			p++;
	}
	return NULL;
}

/* Why an openat/mkdirat/symlinkat under out/ failed when the entry's name is the cause
 * (a refusal), or NULL when the host is (an error: disk full, I/O, no memory). */
static const char *name_failure(int e)
{
	switch (e) {
	case EEXIST:
		return "a second entry for the path";
	case ELOOP:
	case ENOTDIR:
	case ENOENT:
		return "a path through a symlink or a file";
	case ENAMETOOLONG:
		return "a name longer than the host allows";
	case EILSEQ:
	case EINVAL:
		return "a name the host file system refuses";
	default:
		return NULL;
	}
}

/* The entry at path could not be made: a refusal or a host failure (name_failure). */
static void fail_entry(struct unpack *u, const char *path, int e)
{
	const char *why = name_failure(e);

	if (why)
		refuse(u, "out/", path, why);
	else
		u->host_err = -e;
}

/* Open the directory of comp[0..n-2] under out/, creating missing ones (0755), never
 * following a link. Returns an fd, -1 with *why for a path through something that is not
 * a real directory, or -2 with u->host_err set. */
static int open_parent(struct unpack *u, const char **comp, int n, const char **why)
{
	int fd = dup(u->out_fd);

	if (fd < 0) {
		u->host_err = -errno;
		return -2;
	}
	for (int i = 0; i < n - 1; i++) {
		int next = openat(fd, comp[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		if (next < 0 && errno == ENOENT) {
			if (mkdirat(fd, comp[i], 0755) < 0 && errno != EEXIST)
				next = -1;
			else
				next = openat(fd, comp[i],
					      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			int e = errno;

			close(fd);
			*why = name_failure(e);
			if (*why)
				return -1;
			u->host_err = -e;
			return -2;
		}
		close(fd);
		fd = next;
	}
	return fd;
}

/* One entry of the inner archive. Returns 0 to go on, 1 when a cap stops out/. */
static int take_inner(struct unpack *u, struct archive *in, struct archive_entry *e)
{
	const char *path = archive_entry_pathname(e), *why = NULL, *comp[PML_RESULTS_DEPTH_MAX];
	char buf[PML_RESULTS_PATH_MAX + 1];
	mode_t type = archive_entry_filetype(e), mode = archive_entry_perm(e);
	int n, dir, fd;

	if (!path) {
		refuse(u, "out/", NULL, "an entry without a readable name");
		return 0;
	}
	if (strlen(path) > PML_RESULTS_PATH_MAX) {
		refuse(u, "out/", path, "a path longer than the cap");
		return 0;
	}
	n = split_path(path, buf, sizeof(buf), comp, &why);
	if (n < 0) {
		refuse(u, "out/", path, why);
		return 0;
	}
	if (n == 0) {
		if (type != AE_IFDIR || archive_entry_hardlink(e))
			refuse(u, "out/", path, "out/ itself as something other than a directory");
		return 0; /* "./": out/ itself, made by us */
	}
	if (archive_entry_hardlink(e) ||
	    (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)) {
		refuse(u, "out/", path, type_words(e));
		return 0;
	}
	if (type == AE_IFLNK) {
		why = symlink_refusal(archive_entry_symlink(e), n - 1);
		if (why) {
			refuse(u, "out/", path, why);
			return 0;
		}
	}
	dir = open_parent(u, comp, n, &why);
	if (dir == -2)
		return 1;
	if (dir < 0) {
		refuse(u, "out/", path, why);
		return 0;
	}
	if (type != AE_IFLNK && (mode & 07000))
		u->res.setid_dropped++;

	if (type == AE_IFLNK) {
		if (symlinkat(archive_entry_symlink(e), dir, comp[n - 1]) < 0)
			fail_entry(u, path, errno);
		else
			u->res.out_symlinks++;
	} else if (type == AE_IFDIR) {
		if (mkdirat(dir, comp[n - 1], 0700) < 0 && errno != EEXIST) {
			fail_entry(u, path, errno);
		} else {
			/* an existing directory is taken again (tar lists a directory after
			   files made it); an existing link or file is not */
			fd = openat(dir, comp[n - 1], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
				refuse(u, "out/", path, "a directory over a symlink or a file");
			} else if (fd < 0) {
				fail_entry(u, path, errno);
			} else {
				if (fchmod(fd, (mode & 0755) | 0700) < 0)
					u->host_err = -errno;
				close(fd);
				u->res.out_dirs++;
			}
		}
	} else {
		fd = openat(dir, comp[n - 1],
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			fail_entry(u, path, errno);
		} else {
			uint64_t kept;
			bool truncated;
			int r = copy_data(u, in, fd, PML_RESULTS_OUT_BYTES_MAX - u->res.out_bytes,
					  &kept, &truncated);

			if (r == 0 && fchmod(fd, (mode & 0755) | 0600) < 0)
				r = -errno;
			if (close(fd) < 0 && r == 0)
				r = -errno;
			if (r < 0)
				u->host_err = r;
			u->res.out_files++;
			u->res.out_bytes += kept;
			if (truncated)
				u->res.out_truncated = true;
		}
	}
	close(dir);
	return u->host_err || u->res.out_truncated ? 1 : 0;
}

/* work-out.tar: extract the nested archive into DEST/out. */
static void take_out(struct unpack *u)
{
	struct archive *in;
	struct archive_entry *e;
	size_t entries = 0;

	if (u->res.out_present) {
		refuse(u, "", WORK_OUT_NAME, "a second copy");
		return;
	}
	if (mkdirat(u->dest_fd, "out", 0755) < 0 ||
	    (u->out_fd = openat(u->dest_fd, "out",
				O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		u->host_err = -errno;
		return;
	}
	u->res.out_present = true;
	in = archive_read_new();
	if (!in) {
		u->host_err = -ENOMEM;
		return;
	}
	if (archive_read_support_format_tar(in) != ARCHIVE_OK ||
	    archive_read_open2(in, u, NULL, nested_read, NULL, NULL) != ARCHIVE_OK) {
		u->res.archive_damaged = true;
		goto out;
	}
	for (;;) {
		int r;

		if (past_deadline(u))
			break;
		r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r == ARCHIVE_RETRY || r < ARCHIVE_WARN) {
			u->res.archive_damaged = true;
			break;
		}
		if (++entries > PML_RESULTS_OUT_ENTRIES_MAX) {
			u->res.out_truncated = true;
			break;
		}
		if (take_inner(u, in, e))
			break;
	}
out:
	archive_read_free(in);
}

/* ---- the top level ---- */

static void take_top(struct unpack *u, struct archive_entry *e)
{
	const char *raw = archive_entry_pathname(e), *name = raw;
	mode_t type = archive_entry_filetype(e);
	uint64_t kept;
	bool truncated;
	int k, fd, r;

	if (!name) {
		refuse(u, "", NULL, "an entry without a readable name");
		return;
	}
	while (name[0] == '.' && name[1] == '/')
		for (name += 2; *name == '/'; name++)
			;
	if (!strcmp(name, "."))
		name = "";
	if (!*name && type == AE_IFDIR && !archive_entry_hardlink(e))
		return; /* "./", the guest's output directory itself */
	for (k = 0; k < PML_RESULTS__N; k++)
		if (!strcmp(name, known[k].name))
			break;
	if (k == PML_RESULTS__N && strcmp(name, WORK_OUT_NAME)) {
		refuse(u, "", raw, "not a name the guest writes");
		return;
	}
	if (archive_entry_hardlink(e) || type != AE_IFREG) {
		refuse(u, "", raw, type_words(e));
		return;
	}
	if (archive_entry_perm(e) & 07000)
		u->res.setid_dropped++;
	if (k == PML_RESULTS__N) {
		take_out(u);
		return;
	}
	if (u->res.file[k].present) {
		refuse(u, "", raw, "a second copy");
		return;
	}
	fd = openat(u->dest_fd, known[k].name,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		u->host_err = -errno;
		return;
	}
	u->res.file[k].present = true;
	r = copy_data(u, u->outer, fd, known[k].cap, &kept, &truncated);
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0)
		u->host_err = r;
	u->res.file[k].bytes = kept;
	u->res.file[k].truncated = truncated;
}

/* Read back a small file we wrote (<= PML_RESULTS_SMALL_MAX) into buf, NUL-terminated. */
static bool read_small(struct unpack *u, enum pml_results_name k, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	if (!u->res.file[k].present || u->res.file[k].truncated)
		return false; /* a cut number is not the number */
	fd = openat(u->dest_fd, known[k].name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* "0\n": a decimal number from 0 to max, and nothing else but white space after it.
 * -1 when absent or anything else. */
static long long parse_uint(struct unpack *u, enum pml_results_name k, long long max)
{
	char buf[PML_RESULTS_SMALL_MAX + 1], *end;
	long long v;

	if (!read_small(u, k, buf, sizeof(buf)) || buf[0] < '0' || buf[0] > '9')
		return -1;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno || v < 0 || v > max)
		return -1;
	end += strspn(end, " \t\r\n");
	return *end ? -1 : v;
}

/* "12.34 56.78\n" (/proc/uptime): the first number, finite, 0 to 1e9 s. */
static double parse_uptime(struct unpack *u, enum pml_results_name k)
{
	char buf[PML_RESULTS_SMALL_MAX + 1], *end;
	double v;

	if (!read_small(u, k, buf, sizeof(buf)))
		return -1;
	if (strspn(buf, "0123456789.") == 0)
		return -1; /* no sign, no "inf", no "nan", no hex */
	errno = 0;
	v = strtod(buf, &end);
	if (end == buf || errno || !isfinite(v) || v < 0 || v > 1e9)
		return -1;
	if (*end && *end != ' ' && *end != '\n')
		return -1;
	return v;
}

int pml_results_unpack(const char *disk_image, const char *dest_dir,
		       struct pml_results *ret)
{
	struct unpack u = {.disk_fd = -1, .dest_fd = -1, .out_fd = -1};
	struct archive_entry *e;
	struct stat st;
	size_t entries = 0;
	int r = 0;

	u.deadline_ns = pml_now_ns() + PML_RESULTS_SECONDS_MAX * 1000000000ull;
	u.res.status = u.res.pmld_status = -1;
	u.res.start_s = u.res.end_s = -1;
	u.res.space_kib = -1;
	/* O_NONBLOCK: opening a FIFO planted in place of the disk must not wait for a writer */
	u.disk_fd = open(disk_image, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (u.disk_fd < 0)
		return -errno;
	if (fstat(u.disk_fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	u.disk_size = st.st_size;
	if (fcntl(u.disk_fd, F_SETFL, 0) < 0) {
		r = -errno;
		goto out;
	}
	u.disk_buf = malloc(BUF_SIZE);
	u.nested_buf = malloc(BUF_SIZE);
	u.data_buf = malloc(BUF_SIZE);
	u.outer = archive_read_new();
	if (!u.disk_buf || !u.nested_buf || !u.data_buf || !u.outer) {
		r = -ENOMEM;
		goto out;
	}
	if (mkdir(dest_dir, 0700) < 0) {
		r = -errno;
		goto out;
	}
	u.dest_fd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (u.dest_fd < 0) {
		r = -errno;
		goto out;
	}
	if (archive_read_support_format_tar(u.outer) != ARCHIVE_OK) {
		r = -ENOMEM;
		goto out;
	}
	if (u.disk_size == 0)
		goto done; /* the guest never wrote: no results, nothing damaged */
	if (archive_read_open2(u.outer, &u, NULL, disk_read, disk_skip, NULL) != ARCHIVE_OK) {
		u.res.archive_damaged = true; /* not a tar at all */
		goto done;
	}
	while (!u.host_err && !past_deadline(&u)) {
		int h = archive_read_next_header(u.outer, &e);

		if (h == ARCHIVE_EOF)
			break;
		if (h == ARCHIVE_RETRY || h < ARCHIVE_WARN) {
			u.res.archive_damaged = true;
			break;
		}
		if (++entries > PML_RESULTS_ENTRIES_MAX) {
			refuse(&u, "", "(the rest)", "more entries than the cap");
			break;
		}
		take_top(&u, e);
	}
done:
	r = u.host_err;
	if (r < 0)
		goto out;
	u.res.status = (int)parse_uint(&u, PML_RESULTS_STATUS, 255);
	u.res.pmld_status = (int)parse_uint(&u, PML_RESULTS_PMLD_STATUS, 255);
	u.res.space_kib = parse_uint(&u, PML_RESULTS_SPACE, 1ll << 40);
	u.res.start_s = parse_uptime(&u, PML_RESULTS_START);
	u.res.end_s = parse_uptime(&u, PML_RESULTS_END);
	*ret = u.res;
out:
	if (u.outer)
		archive_read_free(u.outer);
	free(u.disk_buf);
	free(u.nested_buf);
	free(u.data_buf);
	if (u.out_fd >= 0)
		close(u.out_fd);
	if (u.dest_fd >= 0)
		close(u.dest_fd);
	close(u.disk_fd);
	return r;
}
