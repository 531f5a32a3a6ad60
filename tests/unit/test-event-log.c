/* The decision log's record: the one writer and the one parser (util/event-log.c). Every
 * kind written by pmld, the shim and guest-init round-trips through the parser with its
 * typed fields intact; malformed records (another version, a typed member on a kind that
 * does not carry it, values out of their range or vocabulary, what a kind needs missing)
 * are refused with words that say what is wrong. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/event-log.h"
#include "unit.h"

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool same_num(double a, double b)
{
	return (a < 0 && b < 0) || fabs(a - b) < 1e-3;
}

/* Format rec, parse it back, compare every field. */
static void round_trip(const struct pml_event_rec *rec)
{
	struct pml_event_parsed p;
	const char *why = NULL;
	char buf[2048];
	int n = pml_event_rec_format(rec, buf, sizeof(buf));
	int r;

	CHECK(n > 0 && buf[n - 1] == '\n');
	if (n <= 0)
		return;
	CHECK(!strncmp(buf, "{\"v\":2,", 7));
	buf[n - 1] = '\0';
	r = pml_event_rec_parse(buf, &p, &why);
	CHECK(r == 0);
	if (r < 0) {
		fprintf(stderr, "  %s: %s\n", buf, why);
		return;
	}
	CHECK(p.rec.kind == rec->kind && p.rec.t_ns == rec->t_ns);
	CHECK(same_str(p.rec.module, rec->module) && same_str(p.rec.alias, rec->alias));
	CHECK(same_str(p.rec.reason, rec->reason) && same_str(p.rec.source, rec->source));
	CHECK(same_str(p.rec.result, rec->result) && same_str(p.rec.comm, rec->comm));
	CHECK(same_str(p.rec.refusal, rec->refusal) && same_str(p.rec.policy, rec->policy));
	CHECK(same_str(p.rec.for_module, rec->for_module));
	CHECK(p.rec.bytes == rec->bytes && p.rec.pid == rec->pid && p.rec.err == rec->err);
	CHECK(same_num(p.rec.ms, rec->ms) && same_num(p.rec.confidence, rec->confidence));
	CHECK(same_num(p.rec.priority, rec->priority) &&
	      same_num(p.rec.worker_ms, rec->worker_ms));
	CHECK(p.rec.cause == rec->cause && p.rec.verdict == rec->verdict &&
	      p.rec.via == rec->via && p.rec.basis == rec->basis);
	if (p.rec.kind != rec->kind || p.rec.cause != rec->cause)
		fprintf(stderr, "  differs: %s\n", buf);
	pml_event_parsed_release(&p);
}

static void test_every_kind(void)
{
	struct pml_event_rec r;

	/* pmld: start, base, the kernel's records, a prefetch and its dependency, the
	 * manager's three verdicts, uses, a policy unload, an eviction, errors, stop */
	pml_event_rec_init(&r, PML_EV_START);
	r.t_ns = 1000;
	r.policy = "lstm+idle-unload";
	r.reason = "start: pmld 77, policy lstm+idle-unload (threshold 0.50, idle 5.0 s)";
	r.source = "pmld";
	round_trip(&r);

	pml_event_rec_init(&r, PML_EV_BASE);
	r.t_ns = 1001;
	r.module = "virtio_blk";
	r.bytes = 20480;
	r.source = "pmld";
	round_trip(&r);

	pml_event_rec_init(&r, PML_EV_REQUEST);
	r.t_ns = 2000;
	r.alias = "net-pf-10-proto-132";
	r.pid = 201;
	r.comm = "socat";
	r.source = "tracefs";
	round_trip(&r);

	pml_event_rec_init(&r, PML_EV_LOAD);
	r.t_ns = 2001;
	r.module = "sctp";
	r.source = "tracefs";
	round_trip(&r); /* no cause: the kernel does not say */

	pml_event_rec_init(&r, PML_EV_LOAD);
	r.t_ns = 3000;
	r.module = "loop";
	r.cause = PML_CAUSE_PREFETCH;
	r.bytes = 32768;
	r.ms = 10.5;
	r.confidence = 0.8;
	r.reason = "prediction: after sctp (p 0.80, gap 1.4 s)";
	r.source = "pmld";
	round_trip(&r);
	for (int b = PML_BASIS_MODEL; b < PML_BASIS__COUNT; b++) {
		r.basis = (enum pml_event_basis)b; /* what the prefetch rests on */
		round_trip(&r);
	}
	r.basis = PML_BASIS_NONE;
	r.module = "fat";
	r.cause = PML_CAUSE_DEPENDENCY;
	r.reason = "dependency of vfat, prediction: after sctp";
	round_trip(&r);
	r.for_module = "vfat"; /* the module it was loaded for */
	round_trip(&r);
	r.for_module = NULL;
	r.cause = PML_CAUSE_API;
	r.reason = "api: prediction request";
	round_trip(&r);
	r.cause = PML_CAUSE_RESTART;
	r.reason = "restart: loaded before this pmld started, after the base set";
	round_trip(&r);

	pml_event_rec_init(&r, PML_EV_RESOURCE);
	r.t_ns = 2999;
	r.module = "loop";
	r.verdict = PML_VERDICT_GRANT;
	r.priority = 0.205;
	r.bytes = 32768;
	r.confidence = 0.8;
	r.reason = "resource: grant loop (priority 0.205): ...; prediction: after sctp";
	r.source = "pmld";
	round_trip(&r);
	r.verdict = PML_VERDICT_EVICT;
	round_trip(&r);
	r.verdict = PML_VERDICT_REFUSE;
	r.refusal = "over-budget";
	r.priority = 0;
	round_trip(&r);

	pml_event_rec_init(&r, PML_EV_USED);
	r.t_ns = 3500;
	r.module = "loop";
	r.source = "pmld";
	r.reason = "used: loop (module_get by mount 312 at blkdev_get_whole+0x2b/0x90)";
	for (int v = PML_VIA_MODULE_GET; v < PML_VIA__COUNT; v++) {
		r.via = (enum pml_event_via)v;
		round_trip(&r);
	}

	pml_event_rec_init(&r, PML_EV_UNLOAD);
	r.t_ns = 9000;
	r.module = "loop";
	r.bytes = 32768;
	r.ms = 20;
	r.source = "pmld";
	r.reason = "idle 5.0 s";
	r.cause = PML_CAUSE_POLICY;
	round_trip(&r);
	r.cause = PML_CAUSE_EVICT;
	r.reason = "evict: for sctp (prediction: after loop)";
	round_trip(&r);

	pml_event_rec_init(&r, PML_EV_FAIL);
	r.t_ns = 9001;
	r.module = "sctp";
	r.err = -EAGAIN;
	r.cause = PML_CAUSE_POLICY;
	r.reason = "unload: idle 5.0 s";
	r.source = "pmld";
	round_trip(&r);

	pml_event_rec_init(&r, PML_EV_ERROR);
	r.t_ns = 9002;
	r.err = -ENOENT;
	r.reason = "error: tracefs: not mounted; continuing without kernel events";
	r.source = "pmld";
	round_trip(&r);

	pml_event_rec_init(&r, PML_EV_INFO);
	r.t_ns = 9003;
	r.reason = "signal Terminated from pid 1";
	r.source = "pmld";
	round_trip(&r);

	pml_event_rec_init(&r, PML_EV_STOP);
	r.t_ns = 10000;
	r.ms = 412.5;
	r.bytes = 8 << 20;
	r.worker_ms = 120.25;
	r.reason = "stop: cpu 412.5 ms (...); 10 events";
	r.source = "pmld";
	round_trip(&r);

	/* the shim: a miss's loads, a failed insert, its need, a deny, modprobe -r */
	pml_event_rec_init(&r, PML_EV_LOAD);
	r.t_ns = 2050;
	r.module = "libcrc32c";
	r.alias = "net-pf-10-proto-132";
	r.cause = PML_CAUSE_MISS;
	r.bytes = 16384;
	r.ms = 40;
	r.pid = 201;
	r.comm = "socat";
	r.reason = "miss: net-pf-10-proto-132";
	r.source = "shim";
	round_trip(&r);
	r.kind = PML_EV_FAIL;
	r.err = -ENODEV;
	r.bytes = -1;
	r.reason = "insert: No such device (softdep, ignored)";
	round_trip(&r);
	r.kind = PML_EV_UNLOAD;
	r.err = 0;
	r.cause = PML_CAUSE_REMOVE;
	r.reason = "modprobe -r sctp";
	round_trip(&r);

	pml_event_rec_init(&r, PML_EV_NEED);
	r.t_ns = 2157;
	r.module = "sctp";
	r.alias = "net-pf-10-proto-132";
	r.result = "loaded";
	r.ms = 157;
	r.reason = "miss: 2 modules inserted";
	r.source = "shim";
	round_trip(&r);

	pml_event_rec_init(&r, PML_EV_DENY);
	r.t_ns = 2158;
	r.module = "dccp";
	r.alias = "net-pf-2-proto-33";
	r.reason = "policy: deny dccp* (policy.conf:3)";
	r.source = "shim";
	round_trip(&r);

	/* guest-init's record, as its printf writes it */
	{
		struct pml_event_parsed p;
		const char *why = NULL;
		int rc = pml_event_rec_parse(
			"{\"v\":2,\"t_ns\":5000000000,\"event\":\"info\",\"reason\":\"pmld killed "
			"(SIGKILL, test): the shim serves on alone\",\"source\":\"guest-init\"}",
			&p, &why);

		CHECK(rc == 0);
		if (rc == 0) {
			CHECK(p.rec.kind == PML_EV_INFO && p.rec.t_ns == 5000000000ull);
			CHECK_STR(p.rec.source, "guest-init");
			pml_event_parsed_release(&p);
		}
	}
	/* names both ways */
	for (int k = 0; k < PML_EV__COUNT; k++)
		CHECK(pml_event_kind_from_name(pml_event_kind_name((enum pml_event_kind)k)) == k);
	CHECK(pml_event_kind_from_name("prediction") == -EINVAL);
	CHECK_STR(pml_event_cause_name(PML_CAUSE_NONE), "");
	CHECK_STR(pml_event_cause_name(PML_CAUSE__COUNT), "");
}

static void refused(const char *line, const char *want)
{
	struct pml_event_parsed p = {.buf = NULL};
	const char *why = NULL;
	int r = pml_event_rec_parse(line, &p, &why);

	CHECK(r == -EBADMSG);
	CHECK(p.buf == NULL); /* written only on success */
	CHECK(why && strstr(why, want));
	if (r != -EBADMSG || !why || !strstr(why, want))
		fprintf(stderr, "  %s: got %d %s, want %s\n", line, r, why ? why : "-", want);
	if (r == 0)
		pml_event_parsed_release(&p);
}

static void test_malformed(void)
{
	/* versions */
	refused("{\"t_ns\":1,\"event\":\"info\",\"reason\":\"stop: cpu 1 ms\"}",
		"no log version (\"v\"): a log of a pml before version 2");
	refused("{\"v\":1,\"t_ns\":1,\"event\":\"info\"}", "an older log version");
	refused("{\"v\":3,\"t_ns\":1,\"event\":\"info\"}", "a newer log version");
	refused("{\"v\":\"2\",\"t_ns\":1,\"event\":\"info\"}", "v not an integer");
	refused("{\"v\":2.0,\"t_ns\":1,\"event\":\"info\"}", "v not an integer");
	refused("{\"v\":-2,\"t_ns\":1,\"event\":\"info\"}", "v not an integer");
	refused("{\"v\":99999999999999999999,\"t_ns\":1,\"event\":\"info\"}", "v not an integer");
	/* shape */
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"info\"", "not a flat JSON object");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"info\",\"x\":{}}", "not a flat JSON object");
	refused("{\"v\":2,\"event\":\"info\"}", "no t_ns or no event");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"prediction\"}", "event not a known kind");
	refused("{\"v\":2,\"v\":2,\"t_ns\":1,\"event\":\"info\"}", "a member given twice");
	/* typed members on kinds that do not carry them */
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"need\",\"cause\":\"miss\"}",
		"cause on a record not a load, unload or fail");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"unload\",\"module\":\"m\",\"for\":\"p\"}",
		"for on a record not a load or fail");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"for\":\"a b\"}",
		"for not a name of 1..63");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"for\":7}",
		"for not a name of 1..63");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"via\":\"request\"}",
		"via on a record not a use");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"verdict\":\"grant\"}",
		"verdict on a record not a resource decision");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"info\",\"refusal\":\"over-budget\"}",
		"refusal on a record not a resource decision");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"used\",\"module\":\"m\",\"via\":\"request\","
		"\"priority\":1}", "priority on a record not a resource decision");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"stop\",\"policy\":\"x\"}",
		"policy on a record not a start");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"worker_ms\":1}",
		"worker_ms on a record not a stop");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"result\":\"loaded\"}",
		"result on a record not a need");
	/* values out of their vocabulary or range */
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"cause\":\"prediction\"}",
		"cause not miss, prefetch");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"cause\":\"\"}",
		"cause not miss, prefetch");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"cause\":1}",
		"cause not miss, prefetch");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"used\",\"module\":\"m\",\"via\":\"magic\"}",
		"via not module-get");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"basis\":\"hunch\"}",
		"basis not model");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"basis\":\"\"}",
		"basis not model");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"need\",\"module\":\"m\",\"basis\":\"model\"}",
		"basis on a record not a load or fail");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"resource\",\"module\":\"m\",\"verdict\":\"maybe\"}",
		"verdict not grant");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"resource\",\"module\":\"m\",\"verdict\":\"refuse\","
		"\"refusal\":\"Over Budget\"}", "refusal not a name");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"resource\",\"module\":\"m\",\"verdict\":\"grant\","
		"\"priority\":1e7}", "priority not a number in [0, 1e6]");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"resource\",\"module\":\"m\",\"verdict\":\"grant\","
		"\"priority\":-1}", "priority not a number");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"start\",\"policy\":\"\\u001b[2J\"}",
		"policy not a name");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"stop\",\"worker_ms\":1e8}",
		"worker_ms not a number in [0, 1e7]");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"stop\",\"ms\":-1}", "ms not a number");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"load\",\"module\":\"m\",\"bytes\":1.5}",
		"bytes not an integer");
	/* what a kind cannot be read without */
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"resource\",\"verdict\":\"grant\"}",
		"a resource decision without module or verdict");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"resource\",\"module\":\"m\"}",
		"a resource decision without module or verdict");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"resource\",\"module\":\"m\",\"verdict\":\"refuse\"}",
		"a refuse without refusal");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"resource\",\"module\":\"m\",\"verdict\":\"grant\","
		"\"refusal\":\"over-budget\"}", "a refusal without a refuse verdict");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"used\",\"module\":\"m\"}",
		"a use without module or via");
	refused("{\"v\":2,\"t_ns\":1,\"event\":\"used\",\"via\":\"refcount\"}",
		"a use without module or via");
}

/* The writer's side: no output but a whole record, strings escaped. */
static void test_format(void)
{
	struct pml_event_rec r;
	char buf[4096], small[40];
	struct pml_event_parsed p;
	const char *why = NULL;
	int n;

	pml_event_rec_init(&r, PML_EV_INFO);
	r.t_ns = 7;
	r.reason = "a \"quoted\"\n\x1b[2J \\ line";
	n = pml_event_rec_format(&r, buf, sizeof(buf));
	CHECK(n > 0);
	CHECK(strstr(buf, "\"reason\":\"a \\\"quoted\\\"\\u000a\\u001b[2J \\\\ line\"") != NULL);
	buf[n - 1] = '\0';
	CHECK(pml_event_rec_parse(buf, &p, &why) == 0);
	CHECK_STR(p.rec.reason, r.reason);
	pml_event_parsed_release(&p);
	CHECK(pml_event_rec_format(&r, small, sizeof(small)) == -ENOSPC);
	/* unknown values are left out, not written as -1 */
	pml_event_rec_init(&r, PML_EV_STOP);
	n = pml_event_rec_format(&r, buf, sizeof(buf));
	CHECK(n > 0 && !strstr(buf, "-1") && !strstr(buf, "worker_ms") && !strstr(buf, "cause"));
}

int main(void)
{
	test_every_kind();
	test_malformed();
	test_format();
	return unit_done("event-log");
}
