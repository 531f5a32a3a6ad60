/* The output-disk unpacker (src/vm/results.c) against a hostile guest. Each test writes a
 * disk as the guest could (libarchive's writer, or raw tar headers for what no writer
 * makes), unpacks it, and checks what landed: after every unpack a walk of DEST (lstat,
 * never following) finds only regular files, directories and symlinks, no setuid, setgid
 * or sticky bit, no group- or world-writable file, and no symlink whose target leaves out/;
 * and the places an escape would reach stay empty. A well-formed disk, as guest-init
 * writes it, comes first: the attacks must not cost the honest case anything. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "unit.h"
#include "vm/results.h"

static char root[64];	    /* the test's scratch: disk.img, dest/, and escape targets */
static char disk[128], dest[128];
static char abs_target[96]; /* an absolute path an entry names: must never appear */

/* ---- writing disks ---- */

enum { PAX_RESTRICTED, GNU, PAX };

static struct archive *w_file(const char *path, int format)
{
	struct archive *a = archive_write_new();

	if (format == GNU)
		archive_write_set_format_gnutar(a);
	else if (format == PAX)
		archive_write_set_format_pax(a);
	else
		archive_write_set_format_pax_restricted(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		fprintf(stderr, "  %s: %s\n", path, archive_error_string(a));
		CHECK(!"archive_write_open_filename");
	}
	return a;
}

/* An inner archive (work-out.tar) into memory; *used says how much of mem it took. */
static struct archive *w_mem(void *mem, size_t size, size_t *used)
{
	struct archive *a = archive_write_new();

	archive_write_set_format_pax_restricted(a);
	archive_write_set_bytes_per_block(a, 512);
	CHECK(archive_write_open_memory(a, mem, size, used) == ARCHIVE_OK);
	return a;
}

static void w_done(struct archive *a)
{
	CHECK(archive_write_close(a) == ARCHIVE_OK);
	archive_write_free(a);
}

/* An entry: type AE_IF*, link the symlink target, or the hard link's when hard. */
static void w_add(struct archive *a, const char *path, mode_t type, mode_t perm,
		  const void *data, size_t size, const char *link, bool hard)
{
	struct archive_entry *e = archive_entry_new();

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, type);
	archive_entry_set_perm(e, perm);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, 1700000000, 0);
	if (type == AE_IFBLK || type == AE_IFCHR)
		archive_entry_set_rdev(e, makedev(8, 0));
	if (link && hard)
		archive_entry_set_hardlink(e, link);
	else if (link)
		archive_entry_set_symlink(e, link);
	archive_entry_set_size(e, type == AE_IFREG && !(link && hard) ? (la_int64_t)size : 0);
	if (archive_write_header(a, e) < ARCHIVE_WARN)
		fprintf(stderr, "  writing %s: %s\n", path, archive_error_string(a));
	if (size && type == AE_IFREG)
		CHECK(archive_write_data(a, data, size) == (la_ssize_t)size);
	archive_entry_free(e);
}

static void w_reg(struct archive *a, const char *path, const char *text)
{
	w_add(a, path, AE_IFREG, 0644, text, strlen(text), NULL, false);
}

/* A regular file of size bytes of c, written in pieces. */
static void w_big(struct archive *a, const char *path, uint64_t size, int c)
{
	static char chunk[1 << 20];
	struct archive_entry *e = archive_entry_new();

	memset(chunk, c, sizeof(chunk));
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	CHECK(archive_write_header(a, e) == ARCHIVE_OK);
	for (uint64_t done = 0; done < size;) {
		size_t n = size - done < sizeof(chunk) ? (size_t)(size - done) : sizeof(chunk);

		CHECK(archive_write_data(a, chunk, n) == (la_ssize_t)n);
		done += n;
	}
	archive_entry_free(e);
}

/* Raw ustar headers, for what a well-behaved writer will not make. size is the field's
 * text (octal, or anything); mode the same. */
static void raw_header(unsigned char h[512], const char *name, const char *mode,
		       const char *size, char type, const char *link)
{
	unsigned sum = 0;

	memset(h, 0, 512);
	memcpy(h, name, strnlen(name, 100));
	snprintf((char *)h + 100, 8, "%s", mode);
	snprintf((char *)h + 108, 8, "0000000");
	snprintf((char *)h + 116, 8, "0000000");
	memcpy(h + 124, size, strnlen(size, 12));
	snprintf((char *)h + 136, 12, "14573771000");
	h[156] = (unsigned char)type;
	if (link)
		memcpy(h + 157, link, strnlen(link, 100));
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

/* Append a header and data (padded to 512) to f. */
static void raw_entry(FILE *f, const char *name, const char *mode, const char *size,
		      char type, const char *link, const void *data, size_t n)
{
	unsigned char h[512], pad[512] = {0};

	raw_header(h, name, mode, size, type, link);
	fwrite(h, 1, 512, f);
	if (n) {
		fwrite(data, 1, n, f);
		fwrite(pad, 1, (512 - n % 512) % 512, f);
	}
}

static void raw_end(FILE *f)
{
	unsigned char z[1024] = {0};

	fwrite(z, 1, sizeof(z), f);
}

/* ---- checking what landed ---- */

static int walk_bad;

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = path + strlen(dest);

	if (S_ISLNK(st->st_mode)) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof(target) - 1);

		char real[PATH_MAX], out[PATH_MAX + 8];

		if (n <= 0 || target[0] == '/' || strncmp(rel, "/out/", 5)) {
			fprintf(stderr, "  bad symlink %s\n", path);
			walk_bad++;
		}
		/* where it leads, links followed: inside out/ (or nowhere) */
		if (realpath(dest, real)) {
			snprintf(out, sizeof(out), "%s/out", real);
			if (realpath(path, real) &&
			    (strncmp(real, out, strlen(out)) ||
			     (real[strlen(out)] && real[strlen(out)] != '/'))) {
				fprintf(stderr, "  symlink %s leads to %s\n", path, real);
				walk_bad++;
			}
		}
		return 0;
	}
	if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode)) {
		fprintf(stderr, "  special file %s (mode %o)\n", path, st->st_mode);
		walk_bad++;
	}
	if (st->st_mode & 07000) {
		fprintf(stderr, "  setuid/setgid/sticky %s (mode %o)\n", path, st->st_mode);
		walk_bad++;
	}
	if (st->st_mode & 022) {
		fprintf(stderr, "  writable by others %s (mode %o)\n", path, st->st_mode);
		walk_bad++;
	}
	return 0;
}

/* DEST holds nothing dangerous, and the escape targets do not exist. */
static void check_safe(void)
{
	char p[256];
	struct stat st;

	walk_bad = 0;
	CHECK(nftw(dest, walk_one, 16, FTW_PHYS) == 0);
	CHECK(walk_bad == 0);
	CHECK(lstat(abs_target, &st) < 0);
	snprintf(p, sizeof(p), "%s/escape", root);
	CHECK(lstat(p, &st) < 0);
	snprintf(p, sizeof(p), "%s/x", root);
	CHECK(lstat(p, &st) < 0);
	snprintf(p, sizeof(p), "%s/escape", dest);
	CHECK(lstat(p, &st) < 0);
	snprintf(p, sizeof(p), "%s/x", dest);
	CHECK(lstat(p, &st) < 0);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void reset(void)
{
	struct stat st;

	if (lstat(dest, &st) == 0)
		nftw(dest, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	unlink(disk);
}

/* PML_TEST_SEEDS=DIR: keep each disk of at most 64 KiB as DIR/NAME.tar, the fuzz
 * target's seeds (tests/fixtures/results/ was made so). */
static void keep_seed(const char *name)
{
	const char *dir = getenv("PML_TEST_SEEDS");
	char path[512], buf[1 << 16];
	ssize_t n;
	int in, out;

	if (!dir)
		return;
	in = open(disk, O_RDONLY);
	if (in < 0)
		return;
	n = read(in, buf, sizeof(buf));
	if (n > 0 && read(in, buf, 1) == 0) {
		snprintf(path, sizeof(path), "%s/%s.tar", dir, name);
		out = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (out >= 0) {
			CHECK(write(out, buf, (size_t)n) == n);
			close(out);
		}
	}
	close(in);
}

static int unpack_from(struct pml_results *res, const char *test)
{
	static int seq;
	char name[128];
	int r;

	snprintf(name, sizeof(name), "%02d-%s", ++seq, test + strlen("test_"));
	keep_seed(name);

	memset(res, 0xa5, sizeof(*res)); /* written only on success: make stale values show */
	r = pml_results_unpack(disk, dest, res);
	if (r < 0)
		fprintf(stderr, "  unpack: %s\n", strerror(-r));
	else
		check_safe();
	if (r == 0 && getenv("PML_TEST_VERBOSE"))
		fprintf(stderr, "  refused %zu setid %zu damaged %d timed out %d out %d/%d "
			"files %zu dirs %zu links %zu status %d: %s\n", res->refused,
			res->setid_dropped, res->archive_damaged, res->timed_out, res->out_present,
			res->out_truncated, res->out_files, res->out_dirs, res->out_symlinks,
			res->status, res->first_refusal);
	return r;
}

#define unpack(res) unpack_from(res, __func__)

static char *slurp(const char *rel, size_t *len)
{
	char p[512];
	static char buf[1 << 16];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dest, rel);
	fd = open(p, O_RDONLY); /* follows: inward links must work */
	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

static mode_t lmode(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dest, rel);
	return lstat(p, &st) < 0 ? 0 : st.st_mode;
}

/* ---- the honest case ---- */

static void write_guest_disk(const char *path)
{
	static char inner[1 << 16];
	size_t used = 0;
	struct archive *in = w_mem(inner, sizeof(inner), &used), *a;

	w_add(in, "./", AE_IFDIR, 0755, NULL, 0, NULL, false);
	w_reg(in, "./costs.jsonl", "{\"module\":\"sctp\",\"load_ms\":100}\n");
	w_add(in, "./traces/", AE_IFDIR, 0755, NULL, 0, NULL, false);
	w_reg(in, "./traces/sctp-0001.bin", "PMLTRACE");
	w_add(in, "./bin/", AE_IFDIR, 0700, NULL, 0, NULL, false);
	w_add(in, "./bin/tool", AE_IFREG, 0755, "#!/bin/sh\n", 10, NULL, false);
	w_add(in, "./latest", AE_IFLNK, 0777, NULL, 0, "traces/sctp-0001.bin", false);
	w_add(in, "./bin/up", AE_IFLNK, 0777, NULL, 0, "../costs.jsonl", false);
	w_done(in);

	a = w_file(path, GNU);
	w_add(a, "./", AE_IFDIR, 0755, NULL, 0, NULL, false);
	w_reg(a, "./status", "0\n");
	w_reg(a, "./start", "1.52 0.80\n");
	w_reg(a, "./end", "3.25 1.90\n");
	w_reg(a, "./stdout", "hello\n");
	w_reg(a, "./stderr", "");
	w_reg(a, "./pmld.status", "0\n");
	w_reg(a, "./pmld.start", "ready\n");
	w_reg(a, "./space", "1024\n");
	w_reg(a, "./modules.end", "sctp 409600 0 - Live 0x0\n");
	w_add(a, "./work-out.tar", AE_IFREG, 0644, inner, used, NULL, false);
	/* guest-init adds the logs by name from /run/pml, without "./" */
	w_reg(a, "events.jsonl", "{\"t_ns\":1,\"event\":\"load\"}\n");
	w_reg(a, "base.txt", "virtio_blk\n");
	w_reg(a, "pmld.out", "");
	w_done(a);
}

static void test_honest(void)
{
	struct pml_results res;
	const char *s;

	reset();
	write_guest_disk(disk);
	CHECK(unpack(&res) == 0);
	CHECK(res.refused == 0);
	CHECK(res.setid_dropped == 0);
	CHECK(!res.archive_damaged && !res.timed_out && !res.out_truncated);
	CHECK(res.status == 0 && res.pmld_status == 0);
	CHECK(res.start_s == 1.52 && res.end_s == 3.25);
	CHECK(res.space_kib == 1024);
	for (int k = 0; k < PML_RESULTS__N; k++) {
		bool want = k != PML_RESULTS_TRACE && k != PML_RESULTS_TIMED_OUT &&
			    k != PML_RESULTS_WATCHDOG;

		CHECK(res.file[k].present == want);
		CHECK(!res.file[k].truncated);
	}
	CHECK(res.file[PML_RESULTS_STDOUT].bytes == 6);
	CHECK_STR(slurp("stdout", NULL), "hello\n");
	CHECK_STR(slurp("events.jsonl", NULL), "{\"t_ns\":1,\"event\":\"load\"}\n");
	CHECK_STR(slurp("base.txt", NULL), "virtio_blk\n");
	CHECK(res.out_present);
	CHECK(res.out_files == 3 && res.out_dirs == 2 && res.out_symlinks == 2);
	s = slurp("out/traces/sctp-0001.bin", NULL);
	CHECK_STR(s, "PMLTRACE");
	CHECK(slurp("out/costs.jsonl", NULL) != NULL);
	CHECK((lmode("out/bin/tool") & 07777) == 0755);
	CHECK((lmode("out/bin") & 07777) == 0700);
	CHECK((lmode("stdout") & 07777) == 0644);
	CHECK((lmode(".") & 07777) == 0700);
	CHECK(S_ISLNK(lmode("out/latest")));
	CHECK_STR(slurp("out/latest", NULL), "PMLTRACE"); /* inward links work */
	CHECK(slurp("out/bin/up", NULL) != NULL);
	CHECK(lmode("work-out.tar") == 0); /* never written as a file */

	/* DEST must be new; the disk must be a regular file, not a link, and not hang */
	CHECK(pml_results_unpack(disk, dest, &res) == -EEXIST);
	reset();
	CHECK(pml_results_unpack(disk, dest, &res) == -ENOENT);
	CHECK(lmode(".") == 0);
	CHECK(symlink("/etc/passwd", disk) == 0);
	CHECK(pml_results_unpack(disk, dest, &res) == -ELOOP);
	unlink(disk);
	CHECK(mkfifo(disk, 0600) == 0);
	CHECK(pml_results_unpack(disk, dest, &res) == -EINVAL); /* no wait for a writer */
	unlink(disk);
	CHECK(mkdir(disk, 0700) == 0);
	CHECK(pml_results_unpack(disk, dest, &res) == -EINVAL);
	rmdir(disk);
	CHECK(lmode(".") == 0);
}

/* ---- the top level ---- */

static void test_top_links_and_specials(void)
{
	struct pml_results res;
	struct archive *a;

	reset();
	a = w_file(disk, PAX_RESTRICTED);
	w_add(a, "./stdout", AE_IFLNK, 0777, NULL, 0, "/etc/passwd", false);
	w_reg(a, "./status", "7\n");
	w_add(a, "./stderr", AE_IFREG, 0644, NULL, 0, "./status", true);
	w_add(a, "./events.jsonl", AE_IFREG, 0644, NULL, 0, "/etc/shadow", true);
	w_add(a, "./start", AE_IFBLK, 0666, NULL, 0, NULL, false);
	w_add(a, "./end", AE_IFCHR, 0666, NULL, 0, NULL, false);
	w_add(a, "./base.txt", AE_IFIFO, 0666, NULL, 0, NULL, false);
	w_add(a, "./pmld.out", AE_IFDIR, 0777, NULL, 0, NULL, false);
	w_add(a, "./out", AE_IFLNK, 0777, NULL, 0, "/", false);
	w_add(a, "./work-out.tar", AE_IFLNK, 0777, NULL, 0, "/etc", false);
	w_reg(a, "../escape", "x");
	w_reg(a, abs_target, "x");
	w_reg(a, "./unknown", "x");
	w_reg(a, "./out/x", "x");
	w_done(a);
	CHECK(unpack(&res) == 0);
	CHECK(res.refused == 13);
	CHECK_STR(res.first_refusal, "stdout: a symlink");
	CHECK(res.status == 7);
	for (int k = 0; k < PML_RESULTS__N; k++)
		CHECK(res.file[k].present == (k == PML_RESULTS_STATUS));
	CHECK(lmode("stdout") == 0 && lmode("stderr") == 0 && lmode("start") == 0);
	CHECK(lmode("base.txt") == 0 && lmode("pmld.out") == 0 && lmode("out") == 0);
	CHECK(!res.out_present);
	CHECK(res.start_s == -1 && res.end_s == -1 && res.pmld_status == -1);
}

static void test_top_setid_and_duplicates(void)
{
	struct pml_results res;
	struct archive *a;

	reset();
	a = w_file(disk, GNU);
	w_add(a, "./stdout", AE_IFREG, 06777, "first\n", 6, NULL, false);
	w_add(a, "./stdout", AE_IFREG, 0644, "second\n", 7, NULL, false);
	w_reg(a, "./status", "300\n"); /* out of range: present, not a status */
	w_reg(a, "./start", "inf\n");
	w_reg(a, "./end", "-5\n");
	w_reg(a, "./pmld.status", "0x10\n");
	w_reg(a, "./space", "99999999999999999999999\n");
	w_done(a);
	CHECK(unpack(&res) == 0);
	CHECK(res.setid_dropped == 1);
	CHECK(res.refused == 1);
	CHECK_STR(res.first_refusal, "stdout: a second copy");
	CHECK_STR(slurp("stdout", NULL), "first\n");
	CHECK((lmode("stdout") & 07777) == 0644);
	CHECK(res.file[PML_RESULTS_STATUS].present && res.status == -1);
	CHECK(res.start_s == -1 && res.end_s == -1 && res.pmld_status == -1);
	CHECK(res.space_kib == -1);
}

/* 40 MiB of stdout: 16 MiB kept, marked truncated, and memory does not follow it. */
static void test_oversize(void)
{
	struct pml_results res;
	struct rusage before, after;
	struct archive *a;
	char p[256];
	struct stat st;

	reset();
	a = w_file(disk, GNU);
	w_big(a, "./stdout", 40ull << 20, 'A');
	w_reg(a, "./status", "0\n");
	w_big(a, "./status", 8192, '1'); /* a second status, refused */
	w_big(a, "./pmld.status", 8192, '0');
	w_done(a);
	getrusage(RUSAGE_SELF, &before);
	CHECK(unpack(&res) == 0);
	getrusage(RUSAGE_SELF, &after);
	CHECK(res.file[PML_RESULTS_STDOUT].truncated);
	CHECK(res.file[PML_RESULTS_STDOUT].bytes == PML_RESULTS_STDIO_MAX);
	snprintf(p, sizeof(p), "%s/stdout", dest);
	CHECK(stat(p, &st) == 0 && (uint64_t)st.st_size == PML_RESULTS_STDIO_MAX);
	CHECK(res.status == 0); /* read after stdout was cut: the skip worked */
	CHECK(res.file[PML_RESULTS_PMLD_STATUS].truncated);
	CHECK(res.file[PML_RESULTS_PMLD_STATUS].bytes == PML_RESULTS_SMALL_MAX);
	CHECK(res.pmld_status == -1);
	CHECK(!res.archive_damaged);
	/* streamed: the peak grows by far less than the 16 MiB kept (ru_maxrss is KiB) */
	CHECK(after.ru_maxrss - before.ru_maxrss < 8 * 1024);
	if (after.ru_maxrss - before.ru_maxrss >= 8 * 1024)
		fprintf(stderr, "  maxrss grew %ld KiB\n", after.ru_maxrss - before.ru_maxrss);
}

/* ---- out/ ---- */

/* A disk with just work-out.tar holding what build() wrote. */
static void write_out_disk(void (*build)(struct archive *in), bool gnu_inner)
{
	static char inner[48 << 20];
	size_t used = 0;
	struct archive *in = archive_write_new(), *a;

	if (gnu_inner)
		archive_write_set_format_gnutar(in);
	else
		archive_write_set_format_pax_restricted(in);
	archive_write_set_bytes_per_block(in, 512);
	CHECK(archive_write_open_memory(in, inner, sizeof(inner), &used) == ARCHIVE_OK);
	build(in);
	w_done(in);
	a = w_file(disk, GNU);
	w_reg(a, "./status", "0\n");
	w_add(a, "./work-out.tar", AE_IFREG, 0644, inner, used, NULL, false);
	w_reg(a, "./stdout", "after\n");
	w_done(a);
}

static void build_escapes(struct archive *in)
{
	w_add(in, "./", AE_IFDIR, 0755, NULL, 0, NULL, false);
	w_reg(in, "../escape", "x");
	w_reg(in, abs_target, "x");
	w_reg(in, "./a/../../x", "x");
	w_reg(in, "a/../../../x", "x");
	w_reg(in, "./ok/./fine//file", "kept");
	w_reg(in, "./ctl\nname", "x");
	w_reg(in, "./esc\033[2J", "x");
	w_add(in, "./suid", AE_IFREG, 06755, "x", 1, NULL, false);
	w_add(in, "./sticky/", AE_IFDIR, 01777, NULL, 0, NULL, false);
	w_add(in, "./ro/", AE_IFDIR, 0500, NULL, 0, NULL, false);
	w_reg(in, "./ro/inside", "x");
	w_add(in, "./noperm", AE_IFREG, 0000, "x", 1, NULL, false);
	w_add(in, "./hard", AE_IFREG, 0644, NULL, 0, "./suid", true);
	w_add(in, "./hard-out", AE_IFREG, 0644, NULL, 0, "/etc/passwd", true);
	w_add(in, "./blk", AE_IFBLK, 0666, NULL, 0, NULL, false);
	w_add(in, "./chr", AE_IFCHR, 0666, NULL, 0, NULL, false);
	w_add(in, "./fifo", AE_IFIFO, 0666, NULL, 0, NULL, false);
	w_reg(in, "./ok/fine/file", "again"); /* a second entry for a path */
}

static void test_out_escapes(void)
{
	struct pml_results res;

	reset();
	write_out_disk(build_escapes, false);
	CHECK(unpack(&res) == 0);
	/* ../escape, abs, a/../../x twice, 2 control chars, 2 hard links, 3 specials, dup */
	CHECK(res.refused == 12);
	CHECK_STR(res.first_refusal, "out/../escape: a path with ..");
	CHECK(res.setid_dropped == 2);
	CHECK_STR(slurp("out/ok/fine/file", NULL), "kept");
	CHECK((lmode("out/suid") & 07777) == 0755);
	CHECK((lmode("out/sticky") & 07777) == 0755);
	CHECK((lmode("out/ro") & 07777) == 0700);
	CHECK(S_ISREG(lmode("out/ro/inside")));
	CHECK((lmode("out/noperm") & 07777) == 0600);
	CHECK(lmode("out/hard") == 0 && lmode("out/blk") == 0 && lmode("out/fifo") == 0);
	CHECK(lmode("out/a") == 0 || S_ISDIR(lmode("out/a")));
	CHECK(res.status == 0);
	CHECK_STR(slurp("stdout", NULL), "after\n"); /* the outer archive goes on after */
	CHECK(!res.archive_damaged);
}

static void build_links(struct archive *in)
{
	char far[512];

	snprintf(far, sizeof(far), "%s", root);
	w_add(in, "./", AE_IFDIR, 0755, NULL, 0, NULL, false);
	w_add(in, "./sub/", AE_IFDIR, 0755, NULL, 0, NULL, false);
	w_reg(in, "./sub/data", "data");
	w_add(in, "./in", AE_IFLNK, 0777, NULL, 0, "sub/data", false);		 /* kept */
	w_add(in, "./sub/up", AE_IFLNK, 0777, NULL, 0, "../in", false);		 /* kept */
	w_add(in, "./sub/self", AE_IFLNK, 0777, NULL, 0, "..", false);		 /* kept */
	w_add(in, "./abs", AE_IFLNK, 0777, NULL, 0, "/etc/passwd", false);	 /* refused */
	w_add(in, "./tmp", AE_IFLNK, 0777, NULL, 0, far, false);		 /* refused */
	w_add(in, "./out", AE_IFLNK, 0777, NULL, 0, "../../escape", false);	 /* refused */
	w_add(in, "./sub/out", AE_IFLNK, 0777, NULL, 0, "../../x", false);	 /* refused */
	w_add(in, "./mid", AE_IFLNK, 0777, NULL, 0, "sub/../..", false);	 /* refused */
	w_add(in, "./empty", AE_IFLNK, 0777, NULL, 0, "", false);		 /* refused */
	/* the chain: a/b/l is out/ itself; m climbs through it to above out/ */
	w_add(in, "./a/b/l", AE_IFLNK, 0777, NULL, 0, "../..", false);		 /* kept */
	w_add(in, "./m", AE_IFLNK, 0777, NULL, 0, "a/b/l/../../..", false);	 /* refused */
	w_add(in, "./n", AE_IFLNK, 0777, NULL, 0, "a/b/l/a/b/l", false);	 /* kept */
	/* a link to a directory, then entries through it: never written through */
	w_add(in, "./d", AE_IFLNK, 0777, NULL, 0, "sub", false);		 /* kept */
	w_reg(in, "./d/through", "x");						 /* refused */
	w_add(in, "./d/deeper/", AE_IFDIR, 0755, NULL, 0, NULL, false);		 /* refused */
	w_add(in, "./d", AE_IFDIR, 0755, NULL, 0, NULL, false);			 /* refused */
	w_reg(in, "./in", "over the link");					 /* refused */
	w_reg(in, "./sub/data/x", "through a file");				 /* refused */
}

static void test_out_links(void)
{
	struct pml_results res;

	reset();
	write_out_disk(build_links, true);
	CHECK(unpack(&res) == 0);
	CHECK(res.out_symlinks == 6);
	CHECK(res.refused == 12);
	CHECK(S_ISLNK(lmode("out/in")) && S_ISLNK(lmode("out/sub/up")));
	CHECK(S_ISLNK(lmode("out/a/b/l")) && S_ISLNK(lmode("out/n")) && S_ISLNK(lmode("out/d")));
	CHECK(lmode("out/abs") == 0 && lmode("out/tmp") == 0 && lmode("out/out") == 0);
	CHECK(lmode("out/m") == 0 && lmode("out/mid") == 0 && lmode("out/sub/out") == 0);
	CHECK(lmode("out/sub/through") == 0 && lmode("out/sub/deeper") == 0);
	CHECK_STR(slurp("out/in", NULL), "data");
	CHECK_STR(slurp("out/sub/up", NULL), "data");
	CHECK_STR(slurp("out/n/sub/data", NULL), "data");
}

static void build_many(struct archive *in)
{
	char name[64];

	w_add(in, "./", AE_IFDIR, 0755, NULL, 0, NULL, false);
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "./f%05d", i);
		w_reg(in, name, "x");
	}
}

static void test_out_count_cap(void)
{
	struct pml_results res;
	size_t n = 0;
	char p[256];

	reset();
	write_out_disk(build_many, false);
	CHECK(unpack(&res) == 0);
	CHECK(res.out_truncated);
	CHECK(res.out_files == PML_RESULTS_OUT_ENTRIES_MAX - 1); /* "./" counts too */
	for (int i = 0; i < 20000; i++) {
		snprintf(p, sizeof(p), "out/f%05d", i);
		n += lmode(p) != 0;
	}
	CHECK(n == res.out_files);
	CHECK_STR(slurp("stdout", NULL), "after\n");
}

static void build_long(struct archive *in)
{
	char path[2048], deep[512] = ".";

	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	w_reg(in, path, "x");		       /* longer than the cap */
	for (int i = 0; i < 40; i++)
		strcat(deep, "/d");
	w_reg(in, deep, "x");		       /* deeper than the cap */
	deep[1 + 2 * PML_RESULTS_DEPTH_MAX] = '\0';
	w_reg(in, deep, "at the cap");	       /* PML_RESULTS_DEPTH_MAX components: kept */
	path[300] = '\0';
	w_reg(in, path, "x");		       /* one name past NAME_MAX */
	path[0] = 'd', path[1] = '/';
	w_reg(in, path, "x");		       /* a directory's name past NAME_MAX */
}

static void test_out_long_paths(void)
{
	struct pml_results res;

	reset();
	write_out_disk(build_long, false);
	CHECK(unpack(&res) == 0);
	CHECK(res.refused == 4);
	CHECK(res.out_files == 1);
	CHECK(strlen(res.first_refusal) < sizeof(res.first_refusal));
}

/* ---- damage ---- */

static void test_truncated(void)
{
	struct pml_results res;
	struct stat st;

	reset();
	write_guest_disk(disk);
	CHECK(stat(disk, &st) == 0);
	/* cut in the middle: some of the files, then the end */
	CHECK(truncate(disk, 3 * 512 + 100) == 0);
	CHECK(unpack(&res) == 0);
	CHECK(res.archive_damaged);
	CHECK(res.file[PML_RESULTS_STATUS].present && res.status == 0);
	/* cut inside work-out.tar */
	reset();
	write_guest_disk(disk);
	{
		/* find the inner archive's start: the header after modules.end */
		FILE *f = fopen(disk, "rb");
		char h[512];
		long at = -1;

		while (f && fread(h, 1, 512, f) == 512)
			if (!strncmp(h, "./work-out.tar", 14)) {
				at = ftell(f);
				break;
			}
		if (f)
			fclose(f);
		CHECK(at > 0);
		if (at > 0)
			CHECK(truncate(disk, at + 3 * 512 + 7) == 0);
	}
	CHECK(unpack(&res) == 0);
	CHECK(res.archive_damaged);
	CHECK(res.out_present);
	CHECK(res.status == 0);
}

static void test_garbage(void)
{
	struct pml_results res;
	unsigned char buf[4096];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	FILE *f;

	for (int round = 0; round < 4; round++) {
		reset();
		f = fopen(disk, "wb");
		for (int i = 0; i < 64; i++) {
			for (size_t j = 0; j < sizeof(buf); j++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				buf[j] = (unsigned char)x;
			}
			/* round 1: a valid header first; round 2: printable junk */
			if (round == 1 && i == 0)
				raw_header(buf, "./stdout", "0000644", "00000001000", '0', NULL);
			if (round == 2)
				for (size_t j = 0; j < sizeof(buf); j++)
					buf[j] = (unsigned char)(' ' + buf[j] % 95);
			fwrite(buf, 1, sizeof(buf), f);
		}
		fclose(f);
		CHECK(unpack(&res) == 0);
		CHECK(res.status == -1);
		if (round != 1)
			CHECK(res.archive_damaged);
	}
}

static void test_empty_disk(void)
{
	struct pml_results res;
	int fd;

	reset();
	fd = open(disk, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && ftruncate(fd, 2048ll << 20) == 0);
	close(fd);
	CHECK(unpack(&res) == 0);
	for (int k = 0; k < PML_RESULTS__N; k++)
		CHECK(!res.file[k].present);
	CHECK(!res.out_present && res.refused == 0 && res.status == -1);
	CHECK(!res.timed_out);
	/* and a file of length 0 */
	reset();
	fd = open(disk, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	close(fd);
	CHECK(unpack(&res) == 0);
	CHECK(res.status == -1 && res.refused == 0 && !res.archive_damaged);
}

/* Headers no writer makes: sizes past the disk, base-256 sizes, a socket's mode bits on a
 * regular entry, a GNU long name and a pax header far too big, type flags nobody uses. */
static void test_hostile_headers(void)
{
	static char big[3 << 20];
	struct pml_results res;
	struct rusage before, after;
	unsigned char h[512];
	FILE *f;

	/* stdout claims 8 GiB, the disk holds 2 KiB of it */
	reset();
	f = fopen(disk, "wb");
	raw_entry(f, "./status", "0000644", "00000000002", '0', NULL, "0\n", 2);
	raw_header(h, "./stdout", "0000644", "77777777777", '0', NULL);
	fwrite(h, 1, 512, f);
	memset(big, 'B', 2048);
	fwrite(big, 1, 2048, f);
	fclose(f);
	CHECK(unpack(&res) == 0);
	CHECK(res.archive_damaged);
	CHECK(res.status == 0);
	CHECK(res.file[PML_RESULTS_STDOUT].present);
	CHECK(res.file[PML_RESULTS_STDOUT].bytes <= 2048);

	/* a base-256 size of 2^62, and a negative one */
	reset();
	f = fopen(disk, "wb");
	raw_header(h, "./stdout", "0000644", "", '0', NULL);
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	h[128] = 0x40;
	{
		unsigned sum = 0;

		memset(h + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
	}
	fwrite(h, 1, 512, f);
	memcpy(h, "./stderr", 9);
	memset(h + 124, 0xff, 12);
	{
		unsigned sum = 0;

		memset(h + 148, ' ', 8);
		for (int i = 0; i < 512; i++)
			sum += h[i];
		snprintf((char *)h + 148, 8, "%06o", sum);
	}
	fwrite(h, 1, 512, f);
	raw_end(f);
	fclose(f);
	CHECK(unpack(&res) == 0);
	CHECK(res.archive_damaged);
	CHECK(res.file[PML_RESULTS_STDOUT].bytes == 0 && !res.file[PML_RESULTS_STDERR].present);

	/* a "socket" (S_IFSOCK in the mode field of a regular entry) and odd type flags */
	reset();
	f = fopen(disk, "wb");
	raw_entry(f, "./stdout", "0140755", "00000000003", '0', NULL, "s!\n", 3);
	raw_entry(f, "./stderr", "0000644", "00000000003", 'Z', NULL, "z!\n", 3);
	raw_entry(f, "./status", "0000644", "00000000000", '3', NULL, NULL, 0); /* char dev */
	raw_entry(f, "./start", "0000644", "00000000000", '6', NULL, NULL, 0);	/* FIFO */
	raw_entry(f, "./end", "0000644", "00000000000", '1', "/etc/passwd", NULL, 0);
	raw_entry(f, "./base.txt", "0000644", "00000000000", '2', "/etc/passwd", NULL, 0);
	raw_end(f);
	fclose(f);
	CHECK(unpack(&res) == 0);
	CHECK(S_ISREG(lmode("stdout")) && (lmode("stdout") & 07777) == 0644);
	CHECK(res.refused >= 4);
	CHECK(lmode("status") == 0 && lmode("start") == 0 && lmode("end") == 0);
	CHECK(lmode("base.txt") == 0);

	/* a GNU long name of 3 MiB and a pax header of 3 MiB: no crash, no huge memory */
	reset();
	f = fopen(disk, "wb");
	memset(big, 'L', sizeof(big));
	raw_entry(f, "././@LongLink", "0000644", "00014000000", 'L', NULL, big, sizeof(big));
	raw_entry(f, "./stdout", "0000644", "00000000002", '0', NULL, "1\n", 2);
	memcpy(big, "3145728 path=", 13);
	big[sizeof(big) - 1] = '\n';
	raw_entry(f, "./PaxHeaders/x", "0000644", "00014000000", 'x', NULL, big, sizeof(big));
	raw_entry(f, "./stderr", "0000644", "00000000002", '0', NULL, "2\n", 2);
	/* a pax header claiming 1.5 GiB: the disk is sparse there */
	raw_entry(f, "./PaxHeaders/y", "0000644", "14000000000", 'x', NULL, NULL, 0);
	fclose(f);
	CHECK(truncate(disk, 2048ll << 20) == 0);
	getrusage(RUSAGE_SELF, &before);
	CHECK(unpack(&res) == 0);
	getrusage(RUSAGE_SELF, &after);
	CHECK(after.ru_maxrss - before.ru_maxrss < 64 * 1024);
	if (after.ru_maxrss - before.ru_maxrss >= 64 * 1024)
		fprintf(stderr, "  maxrss grew %ld KiB\n", after.ru_maxrss - before.ru_maxrss);
	CHECK(!res.file[PML_RESULTS_STDOUT].present || res.refused > 0 ||
	      res.archive_damaged);
}

/* A GNU sparse stdout with a logical size of 64 GiB: the cap holds, fast. */
static void test_sparse(void)
{
	struct pml_results res;
	struct archive *a;
	struct archive_entry *e;

	reset();
	a = w_file(disk, PAX);
	e = archive_entry_new();
	archive_entry_set_pathname(e, "./stdout");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 64ll << 30);
	archive_entry_sparse_add_entry(e, 0, 512);
	archive_entry_sparse_add_entry(e, (64ll << 30) - 512, 512);
	if (archive_write_header(a, e) == ARCHIVE_OK) {
		char block[512];

		memset(block, 'S', sizeof(block));
		archive_write_data(a, block, sizeof(block));
	}
	archive_entry_free(e);
	w_reg(a, "./status", "0\n");
	w_done(a);
	CHECK(unpack(&res) == 0);
	CHECK(res.file[PML_RESULTS_STDOUT].bytes == PML_RESULTS_STDIO_MAX);
	CHECK(res.file[PML_RESULTS_STDOUT].truncated);
	CHECK(res.status == 0);
	CHECK(!res.timed_out && !res.archive_damaged);
}

int main(void)
{
	snprintf(root, sizeof(root), "/tmp/pml-test-results.XXXXXX");
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(disk, sizeof(disk), "%s/out.img", root);
	snprintf(dest, sizeof(dest), "%s/result", root);
	snprintf(abs_target, sizeof(abs_target), "/tmp/pml-test-results-abs.%d", (int)getpid());

	test_honest();
	test_top_links_and_specials();
	test_top_setid_and_duplicates();
	test_oversize();
	test_out_escapes();
	test_out_links();
	test_out_count_cap();
	test_out_long_paths();
	test_truncated();
	test_garbage();
	test_empty_disk();
	test_hostile_headers();
	test_sparse();

	reset();
	CHECK(rmdir(root) == 0);
	return unit_done("results");
}
