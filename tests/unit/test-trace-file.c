/* The trace file format: round trip, and the four damages the reader must name (truncated
 * file, wrong magic, future version, flipped byte) while still returning every record of
 * the intact blocks before the damage. Also reads the committed fixture trace. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/trace-decode.h"
#include "trace/trace-file.h"
#include "unit.h"

#define N_EVENTS 20000

static char tmpdir[] = "/tmp/pml-test-trace-XXXXXX";

static const char *tmp(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

/* Deterministic events: mostly plain syscalls, every 100th a socket call. */
static size_t make_event(unsigned i, void *buf)
{
	if (i % 100 == 7) {
		struct pml_tev_socket *e = buf;

		memset(e, 0, sizeof(*e));
		e->h.kind = PML_TEV_SOCKET;
		e->h.size = sizeof(*e);
		e->h.nr = 41;
		e->family = 2;
		e->type = 1;
		e->protocol = (int)i;
	} else {
		memset(buf, 0, sizeof(struct pml_tev_hdr));
		((struct pml_tev_hdr *)buf)->kind = PML_TEV_SYSCALL;
		((struct pml_tev_hdr *)buf)->size = sizeof(struct pml_tev_hdr);
		((struct pml_tev_hdr *)buf)->nr = (int)(i % 300);
	}
	((struct pml_tev_hdr *)buf)->t_ns = 1000000000ull + i * 1000ull;
	((struct pml_tev_hdr *)buf)->pid = 100 + i % 3;
	((struct pml_tev_hdr *)buf)->tid = 100 + i % 3;
	return ((struct pml_tev_hdr *)buf)->size;
}

static int write_trace(const char *path, unsigned n, unsigned flags, bool end)
{
	struct pml_trace_header h;
	struct pml_trace_writer *w;
	struct pml_trace_end e = {.end_ns = 5, .dropped = 3};
	uint64_t buf[PML_TEV_MAX_SIZE / 8];
	int err;

	pml_trace_header_init(&h);
	h.root_pid = 100;
	snprintf(h.command, sizeof(h.command), "sh -c test");
	err = pml_trace_writer_open(path, &h, flags, &w);
	if (err)
		return err;
	for (unsigned i = 0; i < n; i++) {
		size_t size = make_event(i, buf);

		err = pml_trace_writer_add(w, buf, size);
		if (err)
			break;
	}
	if (!end) {
		pml_trace_writer_flush(w);
		pml_trace_writer_abort(w);
		return err;
	}
	return err ? err : pml_trace_writer_close(w, &e);
}

/* Read everything; returns the final status of next() and the records seen whose content
 * matched make_event (so a wrong record shows as a shortfall). */
static int read_all(const char *path, unsigned *ret_good, struct pml_trace_reader **keep)
{
	struct pml_trace_reader *r;
	const struct pml_tev_hdr *e;
	uint64_t want[PML_TEV_MAX_SIZE / 8];
	unsigned i = 0, good = 0;
	int rc = pml_trace_reader_open(path, &r);

	if (rc == 0) {
		while ((rc = pml_trace_reader_next(r, &e)) == 1) {
			size_t size = make_event(i++, want);

			if (e->size == size && !memcmp(e, want, size))
				good++;
		}
	}
	*ret_good = good;
	if (keep)
		*keep = r;
	else
		pml_trace_reader_free(r);
	return rc;
}

static long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fclose(f);
	return n;
}

static void flip_byte(const char *path, long off)
{
	FILE *f = fopen(path, "r+b");
	int c;

	fseek(f, off, SEEK_SET);
	c = fgetc(f);
	fseek(f, off, SEEK_SET);
	fputc(c ^ 0x40, f);
	fclose(f);
}

static void test_round_trip(unsigned flags)
{
	const char *path = tmp("rt.bin");
	struct pml_trace_reader *r;
	struct pml_trace_reader_stats st;
	unsigned good;

	CHECK(write_trace(path, N_EVENTS, flags, true) == 0);
	CHECK(read_all(path, &good, &r) == 0);
	CHECK(good == N_EVENTS);
	pml_trace_reader_stats(r, &st);
	CHECK(st.complete);
	CHECK(st.events == N_EVENTS && st.end.events == N_EVENTS);
	CHECK(st.end.dropped == 3 && st.end.end_ns == 5);
	CHECK(st.blocks == st.end.blocks && st.blocks > 1);
	CHECK(st.good_bytes == (uint64_t)file_size(path));
	CHECK(pml_trace_reader_header(r)->root_pid == 100);
	CHECK(pml_trace_reader_header(r)->version == PML_TRACE_VERSION);
	CHECK_STR(pml_trace_reader_header(r)->command, "sh -c test");
	CHECK_STR(pml_trace_reader_error(r), "");
	pml_trace_reader_free(r);
	if (!flags)
		printf("  trace-file: %d events in %ld bytes compressed (%.1f B/event)\n",
		       N_EVENTS, file_size(path), (double)file_size(path) / N_EVENTS);
}

/* The writer's transform sees every record once, in file order, before its block is
 * written (in the writer's thread in background mode). */
struct seen {
	unsigned n, out_of_order;
	uint64_t last_t;
};

static void bump_protocol(void *data, struct pml_tev_hdr *rec, size_t size)
{
	struct seen *s = data;

	s->n++;
	s->out_of_order += rec->t_ns < s->last_t;
	s->last_t = rec->t_ns;
	if (rec->kind == PML_TEV_SOCKET && size == sizeof(struct pml_tev_socket))
		((struct pml_tev_socket *)rec)->protocol += 1000;
}

static void test_transform(unsigned flags)
{
	const char *path = tmp("transform.bin");
	struct pml_trace_header h;
	struct pml_trace_writer *w;
	struct pml_trace_reader *r;
	const struct pml_tev_hdr *e;
	uint64_t buf[PML_TEV_MAX_SIZE / 8];
	struct seen seen = {0};
	unsigned sockets = 0, bumped = 0, i = 0;

	pml_trace_header_init(&h);
	CHECK(pml_trace_writer_open(path, &h, flags, &w) == 0);
	pml_trace_writer_set_transform(w, bump_protocol, &seen);
	for (i = 0; i < N_EVENTS; i++) {
		size_t size = make_event(i, buf);

		CHECK(pml_trace_writer_add(w, buf, size) == 0);
		if (i % 5000 == 0)
			CHECK(pml_trace_writer_flush(w) == 0);
	}
	CHECK(pml_trace_writer_close(w, NULL) == 0);
	CHECK(seen.n == N_EVENTS && seen.out_of_order == 0);
	CHECK(pml_trace_reader_open(path, &r) == 0);
	i = 0;
	while (r && pml_trace_reader_next(r, &e) == 1) {
		if (e->kind == PML_TEV_SOCKET) {
			sockets++;
			bumped += ((const struct pml_tev_socket *)e)->protocol == (int)i + 1000;
		}
		i++;
	}
	CHECK(i == N_EVENTS && sockets == N_EVENTS / 100 && bumped == sockets);
	pml_trace_reader_free(r);
	unlink(path);
}

static void test_truncated(void)
{
	const char *path = tmp("trunc.bin");
	struct pml_trace_reader *r;
	struct pml_trace_reader_stats st;
	unsigned good;
	long size;

	CHECK(write_trace(path, N_EVENTS, PML_TRACE_W_STORED, true) == 0);
	size = file_size(path);
	/* cut in the middle of the last events block */
	CHECK(truncate(path, size - 60 - 1000) == 0);
	CHECK(read_all(path, &good, &r) == -ENODATA);
	pml_trace_reader_stats(r, &st);
	CHECK(!st.complete);
	CHECK(good == st.events && good > N_EVENTS / 2 && good < N_EVENTS);
	CHECK(strstr(pml_trace_reader_error(r), "file ends inside the block") != NULL);
	CHECK(strstr(pml_trace_reader_error(r), path) != NULL);
	printf("  trace-file: truncated: %s\n", pml_trace_reader_error(r));
	/* sticky */
	CHECK(pml_trace_reader_next(r, &(const struct pml_tev_hdr *){NULL}) == -ENODATA);
	pml_trace_reader_free(r);

	/* cut cleanly after a block: no end block */
	CHECK(write_trace(path, N_EVENTS, 0, false) == 0);
	CHECK(read_all(path, &good, &r) == -ENODATA);
	CHECK(good == N_EVENTS);
	CHECK(strstr(pml_trace_reader_error(r), "no end block") != NULL);
	pml_trace_reader_free(r);

	/* inside the header */
	CHECK(truncate(path, 100) == 0);
	CHECK(read_all(path, &good, &r) == -ENODATA);
	CHECK(strstr(pml_trace_reader_error(r), "inside the header") != NULL);
	pml_trace_reader_free(r);
}

static void test_magic_version(void)
{
	const char *path = tmp("magic.bin");
	struct pml_trace_reader *r;
	unsigned good;
	FILE *f;

	CHECK(write_trace(path, 10, 0, true) == 0);
	flip_byte(path, 0);
	CHECK(read_all(path, &good, &r) == -EINVAL);
	CHECK(strstr(pml_trace_reader_error(r), "not a pml trace") != NULL);
	pml_trace_reader_free(r);

	f = fopen(path, "wb");
	fputs("#!/bin/sh\necho hello\n", f);
	fclose(f);
	CHECK(read_all(path, &good, &r) == -EINVAL);
	pml_trace_reader_free(r);

	CHECK(write_trace(path, 10, 0, true) == 0);
	f = fopen(path, "r+b");
	fseek(f, 8, SEEK_SET);
	fputc(PML_TRACE_VERSION + 1, f);
	fclose(f);
	CHECK(read_all(path, &good, &r) == -EPROTONOSUPPORT);
	CHECK(strstr(pml_trace_reader_error(r), "newer than this pml") != NULL);
	printf("  trace-file: future version: %s\n", pml_trace_reader_error(r));
	pml_trace_reader_free(r);
}

static void test_flipped(unsigned flags)
{
	const char *path = tmp("flip.bin");
	struct pml_trace_reader *r;
	struct pml_trace_reader_stats st, full;
	unsigned good;
	long size, off;

	CHECK(write_trace(path, N_EVENTS, flags, true) == 0);
	CHECK(read_all(path, &good, &r) == 0);
	pml_trace_reader_stats(r, &full);
	pml_trace_reader_free(r);
	size = file_size(path);
	/* a byte in the middle of the event blocks */
	off = PML_TRACE_HEADER_SIZE + (size - PML_TRACE_HEADER_SIZE) / 2;
	flip_byte(path, off);
	CHECK(read_all(path, &good, &r) == -EBADMSG);
	pml_trace_reader_stats(r, &st);
	CHECK(strstr(pml_trace_reader_error(r), "checksum mismatch") != NULL ||
	      strstr(pml_trace_reader_error(r), "implausible") != NULL ||
	      strstr(pml_trace_reader_error(r), "no block magic") != NULL);
	CHECK(strstr(pml_trace_reader_error(r), "block ") != NULL);
	/* every record before the damaged block came back, and they are the right ones */
	CHECK(good == st.events);
	CHECK(st.blocks >= 1 && st.blocks < full.blocks);
	CHECK(st.good_bytes <= (uint64_t)off);
	if (!flags)
		printf("  trace-file: flipped byte %ld: %s (%u events before it)\n", off,
		       pml_trace_reader_error(r), good);
	pml_trace_reader_free(r);

	/* a flipped byte in the header */
	CHECK(write_trace(path, 10, flags, true) == 0);
	flip_byte(path, 50);
	CHECK(read_all(path, &good, &r) == -EBADMSG);
	CHECK(strstr(pml_trace_reader_error(r), "header damaged") != NULL);
	pml_trace_reader_free(r);
}

static void test_writer_refuses(void)
{
	const char *path = tmp("refuse.bin");
	struct pml_trace_header h;
	struct pml_trace_writer *w;
	struct pml_tev_socket e = {.h = {.kind = PML_TEV_SOCKET, .size = 24}};

	pml_trace_header_init(&h);
	CHECK(pml_trace_writer_open(path, &h, 0, &w) == 0);
	CHECK(pml_trace_writer_add(w, &e, 24) == -EBADMSG);
	CHECK(pml_trace_writer_events(w) == 0);
	CHECK(pml_trace_writer_close(w, NULL) == 0);
	CHECK(pml_trace_writer_open("/nonexistent/dir/x", &h, 0, &w) == -ENOENT);
}

static void test_fixture(void)
{
	const char *dir = getenv("PML_TEST_FIXTURES");
	char path[512];
	struct pml_trace_reader *r;
	const struct pml_tev_hdr *e;
	struct pml_trace_decoded d;
	int requests = 0, n = 0, rc;

	snprintf(path, sizeof(path), "%s/trace/sample.bin", dir ? dir : "tests/fixtures");
	if (access(path, R_OK)) {
		printf("  trace-file: no fixture %s, skipped\n", path);
		return;
	}
	CHECK(pml_trace_reader_open(path, &r) == 0);
	while ((rc = pml_trace_reader_next(r, &e)) == 1) {
		CHECK(pml_trace_event_decode(e, e->size, &d) == 0);
		n++;
		requests += e->kind == PML_TEV_MOD_REQUEST;
	}
	CHECK(rc == 0);
	CHECK(n > 0);
	CHECK(requests > 0);
	pml_trace_reader_free(r);
}

/* A real trace recorded in the guest (tests/fixtures/trace/acceptance.sh on the pinned
 * 6.1 kernel): its text dump must stay as committed (the decoder's golden output), and
 * the needs must come in order with the calls that caused them decoded before them. */
static void test_guest_fixture(void)
{
	const char *dir = getenv("PML_TEST_FIXTURES");
	static const char *const want[] = {"net-pf-2-proto-132-type-1", "fs-vfat",
					   "rtnl-link-vxlan"};
	static const char *const cause[] = {"protocol=IPPROTO_SCTP", "fstype=vfat",
					    "kind=vxlan"};
	char path[512], line[2048], gold[2048];
	struct pml_trace_reader *r;
	const struct pml_tev_hdr *e;
	struct pml_trace_decoded d;
	size_t next = 0, lines = 0, same = 0;
	bool cause_seen = false;
	FILE *g;
	int rc;

	snprintf(path, sizeof(path), "%s/trace/guest-acceptance.txt", dir ? dir : "tests/fixtures");
	g = fopen(path, "r");
	snprintf(path, sizeof(path), "%s/trace/guest-acceptance.bin", dir ? dir : "tests/fixtures");
	CHECK(g != NULL);
	CHECK(pml_trace_reader_open(path, &r) == 0);
	if (!g || !r) {
		if (g)
			fclose(g);
		pml_trace_reader_free(r);
		return;
	}
	CHECK_STR(pml_trace_reader_header(r)->kernel_release, "6.1.0-56-amd64");
	while ((rc = pml_trace_reader_next(r, &e)) == 1) {
		CHECK(pml_trace_event_decode(e, e->size, &d) == 0);
		pml_trace_decoded_format(&d, pml_trace_reader_header(r)->start_ns, line,
					 sizeof(line));
		do {
			if (!fgets(gold, sizeof(gold), g))
				gold[0] = '\0';
		} while (gold[0] == '#');
		gold[strcspn(gold, "\n")] = '\0';
		lines++;
		same += !strcmp(line, gold);
		if (next < 3 && strstr(line, cause[next]))
			cause_seen = true;
		if (next < 3 && e->kind == PML_TEV_MOD_REQUEST &&
		    !strcmp(pml_trace_decoded_get(&d, "module")->str, want[next])) {
			CHECK(cause_seen);
			cause_seen = false;
			next++;
		}
	}
	CHECK(rc == 0);
	CHECK(next == 3);
	CHECK(lines > 1000 && same == lines);
	if (same != lines)
		printf("  trace-file: guest fixture: %zu of %zu lines differ from the golden dump\n",
		       lines - same, lines);
	fclose(g);
	pml_trace_reader_free(r);
}

/* Compatibility: every version-1 trace of the committed fixtures (the acceptance trace,
 * the sample dataset) reads to its end block with this reader, and a file from a newer
 * writer (a later event version with a kind this reader does not know) is read, not
 * refused: the known records intact, the unknown one handed out as "unknown". */
static void test_versions(void)
{
	const char *dir = getenv("PML_TEST_FIXTURES");
	char path[1024], cmd[1200];
	const char *out = tmp("future.bin");
	struct pml_trace_reader *r;
	struct pml_trace_header h;
	struct pml_trace_writer *w;
	const struct pml_tev_hdr *e;
	struct pml_trace_decoded d;
	struct pml_tev_socket sock;
	uint64_t unknown[5];
	int rc, n_files = 0, v1 = 0, n, unknowns = 0, sockets = 0;
	FILE *ls;

	snprintf(cmd, sizeof(cmd), "ls %s/trace/*.bin %s/dataset/traces/*.trace 2>/dev/null",
		 dir ? dir : "tests/fixtures", dir ? dir : "tests/fixtures");
	ls = popen(cmd, "r");
	while (ls && fgets(path, sizeof(path), ls)) {
		path[strcspn(path, "\n")] = '\0';
		CHECK(pml_trace_reader_open(path, &r) == 0);
		if (!r)
			continue;
		n_files++;
		v1 += pml_trace_reader_header(r)->event_version == 1;
		n = 0;
		while ((rc = pml_trace_reader_next(r, &e)) == 1) {
			CHECK(pml_trace_event_decode(e, e->size, &d) == 0);
			n++;
		}
		CHECK(rc == 0);
		CHECK(n > 0);
		if (rc)
			printf("  trace-file: %s: %s\n", path, pml_trace_reader_error(r));
		pml_trace_reader_free(r);
	}
	if (ls)
		pclose(ls);
	CHECK(n_files >= 10 && v1 >= 9);
	printf("  trace-file: %d committed traces read (%d of event version 1)\n", n_files, v1);

	pml_trace_header_init(&h);
	h.event_version = PML_TRACE_EVENT_VERSION + 7;
	CHECK(pml_trace_writer_open(out, &h, 0, &w) == 0);
	memset(&sock, 0, sizeof(sock));
	sock.h.kind = PML_TEV_SOCKET;
	sock.h.size = sizeof(sock);
	sock.h.nr = 41;
	sock.family = 2;
	sock.protocol = 132;
	memset(unknown, 0xab, sizeof(unknown));
	((struct pml_tev_hdr *)unknown)->kind = 250;
	((struct pml_tev_hdr *)unknown)->size = sizeof(unknown);
	CHECK(pml_trace_writer_add(w, &sock, sizeof(sock)) == 0);
	CHECK(pml_trace_writer_add(w, unknown, sizeof(unknown)) == 0);
	CHECK(pml_trace_writer_add(w, &sock, sizeof(sock)) == 0);
	CHECK(pml_trace_writer_close(w, NULL) == 0);
	CHECK(pml_trace_reader_open(out, &r) == 0);
	if (!r)
		return;
	CHECK(pml_trace_reader_header(r)->event_version == PML_TRACE_EVENT_VERSION + 7);
	while ((rc = pml_trace_reader_next(r, &e)) == 1) {
		CHECK(pml_trace_event_decode(e, e->size, &d) == 0);
		if (e->kind == 250) {
			unknowns++;
			CHECK_STR(d.kind_name, "unknown");
			CHECK(!memcmp(e, unknown, sizeof(unknown))); /* passed through untouched */
		} else if (e->kind == PML_TEV_SOCKET) {
			sockets++;
			CHECK_STR(pml_trace_decoded_get(&d, "protocol")->str, "IPPROTO_SCTP");
		}
	}
	CHECK(rc == 0);
	CHECK(unknowns == 1 && sockets == 2);
	pml_trace_reader_free(r);
	unlink(out);
}

/* A version-2 trace recorded in the guest (tests/fixtures/trace/acceptance-v2.sh on the
 * pinned 6.1 kernel, samples at 1 kHz): the needs in order, samples resolved in the
 * guest to functions of mkfs.xfs and of libnftables (by its soname), page-fault counts,
 * and the full paths of the mapped files. */
static void test_guest_v2_fixture(void)
{
	const char *dir = getenv("PML_TEST_FIXTURES");
	static const char *const want[] = {"net-pf-2-proto-132-type-1", "fs-vfat",
					   "rtnl-link-vxlan", "nfnetlink-subsys-10"};
	char path[512];
	struct pml_trace_reader *r;
	const struct pml_tev_hdr *e;
	struct pml_trace_decoded d;
	unsigned samples = 0, named = 0, xfs = 0, nft = 0, faults = 0, fault_records = 0;
	unsigned objects = 0, nft_object = 0, next = 0;
	int rc;

	snprintf(path, sizeof(path), "%s/trace/guest-v2.bin", dir ? dir : "tests/fixtures");
	CHECK(pml_trace_reader_open(path, &r) == 0);
	if (!r)
		return;
	CHECK(pml_trace_reader_header(r)->event_version == 2);
	CHECK_STR(pml_trace_reader_header(r)->kernel_release, "6.1.0-56-amd64");
	while ((rc = pml_trace_reader_next(r, &e)) == 1) {
		CHECK(pml_trace_event_decode(e, e->size, &d) == 0);
		switch (e->kind) {
		case PML_TEV_SAMPLE: {
			const struct pml_tev_sample *sm = (const void *)e;

			samples++;
			named += sm->func[0] != '\0';
			xfs += !strcmp(sm->object, "mkfs.xfs") && sm->func[0];
			nft += !strcmp(sm->object, "libnftables.so.1") && sm->func[0];
			break;
		}
		case PML_TEV_FAULTS: {
			const struct pml_tev_faults *f = (const void *)e;

			fault_records++;
			for (int i = 0; i < PML_FAULT__COUNT; i++)
				faults += f->count[i];
			break;
		}
		case PML_TEV_OBJECT:
			objects++;
			nft_object += !strcmp(pml_trace_decoded_get(&d, "path")->str,
					      "/usr/lib/x86_64-linux-gnu/libnftables.so.1.1.0");
			break;
		case PML_TEV_MOD_REQUEST:
			if (next < 4 && !strcmp(pml_trace_decoded_get(&d, "module")->str, want[next]))
				next++;
			break;
		}
	}
	CHECK(rc == 0);
	CHECK(next == 4);
	CHECK(samples > 4000 && named * 10 > samples * 9);
	CHECK(xfs >= 10 && nft >= 100);
	CHECK(fault_records >= 50 && faults > 4000);
	CHECK(objects >= 40 && nft_object == 1);
	printf("  trace-file: guest v2 trace: %u samples (%u named; %u in mkfs.xfs, %u in "
	       "libnftables.so.1), %u faults in %u records, %u objects\n", samples, named, xfs,
	       nft, faults, fault_records, objects);
	pml_trace_reader_free(r);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	test_round_trip(0);
	test_round_trip(PML_TRACE_W_STORED);
	test_round_trip(PML_TRACE_W_BACKGROUND);
	test_round_trip(PML_TRACE_W_BACKGROUND | PML_TRACE_W_STORED);
	test_transform(0);
	test_transform(PML_TRACE_W_BACKGROUND);
	test_truncated();
	test_magic_version();
	test_flipped(0);
	test_flipped(PML_TRACE_W_STORED);
	test_writer_refuses();
	test_fixture();
	test_guest_fixture();
	test_versions();
	test_guest_v2_fixture();
	unlink(tmp("rt.bin"));
	unlink(tmp("trunc.bin"));
	unlink(tmp("magic.bin"));
	unlink(tmp("flip.bin"));
	unlink(tmp("refuse.bin"));
	rmdir(tmpdir);
	return unit_done("trace-file");
}
