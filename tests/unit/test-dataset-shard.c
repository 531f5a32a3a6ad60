/* Sharding a collection (dataset/shard.h): "I/N" parsed strictly; over a run list of the
 * corpus's shape the N shards are disjoint and complete, near even, and a scenario added
 * to the list moves no run of another; a run's shard is pinned (a resumed shard must
 * collect the same runs under any later pml), and from N to N+1 shards few runs move. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset/dataset.h"
#include "dataset/shard.h"
#include "unit.h"

static void test_parse(void)
{
	static const char *const bad[] = {
		"", "1", "/", "1/", "/3", "0/3", "4/3", "1/0", "01/3", "1/03", "-1/3", "1/-3",
		"+1/3", " 1/3", "1/3 ", "1/3/4", "1.0/3", "1/65537", "99999999999999999999/3",
		"a/b", "1\n/3",
	};
	struct pml_shard s = {0};
	char buf[24];

	CHECK(pml_shard_parse("1/1", &s) == 0 && s.index == 1 && s.count == 1);
	CHECK(pml_shard_parse("3/4", &s) == 0 && s.index == 3 && s.count == 4);
	CHECK(pml_shard_parse("65536/65536", &s) == 0 && s.count == PML_SHARD_MAX);
	CHECK_STR(pml_shard_name(&s, buf, sizeof(buf)), "65536/65536");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pml_shard t = {.index = 7, .count = 7};

		if (pml_shard_parse(bad[i], &t) != -EINVAL)
			fprintf(stderr, "  '%s' was accepted\n", bad[i]);
		CHECK(pml_shard_parse(bad[i], &t) == -EINVAL);
		CHECK(t.index == 7 && t.count == 7); /* not written on failure */
	}
}

/* The corpus's shape: families of scenarios, each with runs 0..runs-1. */
static const char *const scen[] = {
	"block/loop-partitions", "block/nbd-export", "block/zram-swap", "filesystems/vfat-image",
	"filesystems/exfat-card", "filesystems/udf-disc", "netdev/vxlan-overlay",
	"netdev/ip-tunnels", "netdev/veth-namespaces", "protocols/sctp-echo",
	"protocols/vsock-loopback", "tc/htb-shaping", "keys/afalg-ciphers",
};
#define N_SCEN (sizeof(scen) / sizeof(scen[0]))
#define RUNS 40

static void test_split(void)
{
	static const uint32_t counts[] = {1, 2, 3, 4, 7, 16};

	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		uint32_t n = counts[c];
		size_t per[16] = {0}, total = 0;

		for (size_t i = 0; i < N_SCEN; i++) {
			for (uint32_t k = 0; k < RUNS; k++) {
				char id[128];
				size_t in = 0;
				uint32_t of;

				pml_dataset_run_id(scen[i], k, id, sizeof(id));
				of = pml_shard_of(id, n);
				CHECK(of >= 1 && of <= n);
				/* in exactly one shard: disjoint and, together, complete */
				for (uint32_t s = 1; s <= n; s++)
					in += pml_shard_has(&(struct pml_shard){s, n}, id);
				CHECK(in == 1);
				CHECK(pml_shard_has(&(struct pml_shard){of, n}, id));
				if (of >= 1 && of <= n)
					per[of - 1]++;
				total++;
			}
		}
		CHECK(total == N_SCEN * RUNS);
		/* near even: every shard within 30% of its share (520 runs) */
		for (uint32_t s = 0; s < n; s++) {
			double share = (double)total / n;

			if (per[s] < 0.7 * share || per[s] > 1.3 * share)
				fprintf(stderr, "  %u shards: shard %u has %zu of %zu runs\n", n, s + 1,
					per[s], total);
			CHECK(per[s] >= 0.7 * share && per[s] <= 1.3 * share);
		}
	}
}

/* A scenario added to the corpus (or more runs) moves no run already placed: a shard's
 * runs depend on the run id alone. And from 4 to 5 shards only about a fifth move, all
 * of them to the new shard. */
static void test_stable(void)
{
	size_t moved = 0, total = 0;

	for (size_t i = 0; i < N_SCEN; i++) {
		for (uint32_t k = 0; k < RUNS; k++) {
			char id[128];
			uint32_t a, b;

			pml_dataset_run_id(scen[i], k, id, sizeof(id));
			a = pml_shard_of(id, 4);
			b = pml_shard_of(id, 5);
			CHECK(a == b || b == 5);
			moved += a != b;
			total++;
		}
	}
	CHECK(moved > total / 10 && moved < total * 3 / 10);
	/* the list with a scenario more, collected as 3 shards: the old runs where they were;
	 * the union of the shards is still the whole list, and no run is in two */
	{
		uint32_t before[N_SCEN][RUNS];
		size_t in_shards = 0;

		for (size_t i = 0; i < N_SCEN; i++)
			for (uint32_t k = 0; k < RUNS; k++) {
				char id[128];

				pml_dataset_run_id(scen[i], k, id, sizeof(id));
				before[i][k] = pml_shard_of(id, 3);
			}
		for (size_t i = 0; i <= N_SCEN; i++) {
			const char *name = i < N_SCEN ? scen[i] : "netdev/macsec-link";

			for (uint32_t k = 0; k < RUNS; k++) {
				char id[128];

				pml_dataset_run_id(name, k, id, sizeof(id));
				if (i < N_SCEN)
					CHECK(pml_shard_of(id, 3) == before[i][k]);
				for (uint32_t s = 1; s <= 3; s++)
					in_shards += pml_shard_has(&(struct pml_shard){s, 3}, id);
			}
		}
		CHECK(in_shards == (N_SCEN + 1) * RUNS);
	}
}

/* Pinned: these values are the format. If this fails, the hash changed, and a shard
 * collected before would resume with another shard's runs. */
static void test_pinned(void)
{
	static const struct {
		const char *id;
		uint32_t of2, of3, of4, of1000;
	} pin[] = {
		{"netdev/vxlan-overlay#0003", 1, 1, 4, 509},
		{"block/loop-partitions#0000", 1, 1, 4, 298},
		{"fs/a#0000", 1, 1, 1, 536},
		{"protocols/sctp-echo#0017", 1, 1, 1, 576},
	};
	char id[64];

	for (size_t i = 0; i < sizeof(pin) / sizeof(pin[0]); i++) {
		CHECK(pml_shard_of(pin[i].id, 1) == 1);
		CHECK(pml_shard_of(pin[i].id, 2) == pin[i].of2);
		CHECK(pml_shard_of(pin[i].id, 3) == pin[i].of3);
		CHECK(pml_shard_of(pin[i].id, 4) == pin[i].of4);
		CHECK(pml_shard_of(pin[i].id, 1000) == pin[i].of1000);
	}
	/* and so is the run id they hash */
	pml_dataset_run_id("netdev/vxlan-overlay", 3, id, sizeof(id));
	CHECK_STR(id, "netdev/vxlan-overlay#0003");
	pml_dataset_run_id("fs/a", 12345, id, sizeof(id));
	CHECK_STR(id, "fs/a#12345");
	pml_dataset_run_file("netdev/vxlan-overlay", 3, ".trace", id, sizeof(id));
	CHECK_STR(id, "netdev.vxlan-overlay.0003.trace");
}

int main(void)
{
	test_parse();
	test_split();
	test_stable();
	test_pinned();
	return unit_done("dataset-shard");
}
