/* pml run's report page: a log with a prefetch that was used, one never used, a stall and
 * an unload renders as an SVG timeline with each kind marked, and guest-chosen text is
 * escaped (no markup, no control characters). */
#include <stdlib.h>
#include <string.h>

#include "run/run-report.h"
#include "run/run-page.h"
#include "unit.h"

static const char log_text[] =
	"{\"v\":2,\"t_ns\":1000000000,\"event\":\"base\",\"module\":\"ext4\",\"bytes\":100,\"source\":\"pmld\"}\n"
	"{\"v\":2,\"t_ns\":1100000000,\"event\":\"load\",\"cause\":\"prefetch\",\"module\":\"vxlan\",\"bytes\":4096,\"ms\":12.5,"
	"\"confidence\":0.93,\"source\":\"pmld\",\"reason\":\"prediction: named by 'type vxlan' <b>\"}\n"
	"{\"v\":2,\"t_ns\":1200000000,\"event\":\"load\",\"cause\":\"prefetch\",\"module\":\"veth\",\"bytes\":4096,\"ms\":8,"
	"\"confidence\":0.91,\"source\":\"pmld\",\"reason\":\"prediction: lstm p 0.91\"}\n"
	"{\"v\":2,\"t_ns\":1500000000,\"event\":\"need\",\"alias\":\"rtnl-link-vxlan\",\"module\":\"vxlan\","
	"\"result\":\"present\",\"ms\":0.1,\"source\":\"shim\"}\n"
	"{\"v\":2,\"t_ns\":1600000000,\"event\":\"load\",\"cause\":\"miss\",\"module\":\"sctp\",\"bytes\":4096,\"ms\":150,"
	"\"source\":\"shim\",\"reason\":\"miss: net-pf-2-proto-132\"}\n"
	"{\"v\":2,\"t_ns\":1700000000,\"event\":\"need\",\"alias\":\"net-pf-2-proto-132\\u001b[2J\","
	"\"module\":\"sctp\",\"result\":\"loaded\",\"ms\":150,\"source\":\"shim\"}\n"
	"{\"v\":2,\"t_ns\":1250000000,\"event\":\"load\",\"cause\":\"prefetch\",\"module\":\"loop\",\"bytes\":4096,\"ms\":5,"
	"\"confidence\":0.95,\"source\":\"pmld\",\"reason\":\"prediction: lstm p 0.95\"}\n"
	"{\"v\":2,\"t_ns\":1300000000,\"event\":\"used\",\"via\":\"refcount\",\"module\":\"loop\",\"source\":\"pmld\","
	"\"reason\":\"used: loop (refcount 1, 0 holders)\"}\n"
	"{\"v\":2,\"t_ns\":2500000000,\"event\":\"unload\",\"cause\":\"policy\",\"module\":\"veth\",\"source\":\"pmld\","
	"\"reason\":\"prediction unused for 1.3 s\"}\n";

int main(void)
{
	struct pml_report *rep = NULL;
	FILE *in = fmemopen((void *)log_text, sizeof(log_text) - 1, "r");
	char *page = NULL;
	size_t len = 0;
	FILE *out;

	CHECK(in && pml_report_load_file(in, &rep) == 0);
	fclose(in);
	if (!rep)
		return unit_done("run-page");
	pml_report_set_window(rep, 1000000000ull, 3000000000ull);
	out = open_memstream(&page, &len);
	struct pml_run_page_run run = {"lstm", rep, 2.5, 0.45, "restored"};
	CHECK(pml_run_page_html(out, "sh -c 'ip link add <x>'", &run, 1) == 0);
	fclose(out);
	CHECK(page && strstr(page, "<svg") && strstr(page, "</html>"));
	CHECK(strstr(page, "vxlan: loaded at 0.100 s (prefetched, used") != NULL);
	CHECK(strstr(page, "loop: loaded at 0.250 s (prefetched, used") != NULL); /* "used:" */
	CHECK(strstr(page, "prefetched, never used") != NULL); /* veth */
	CHECK(strstr(page, "a stall of 150.0 ms") != NULL);	  /* sctp */
	CHECK(strstr(page, "unloaded at 1.500 s") != NULL);
	CHECK(strstr(page, "confidence 0.93") != NULL);
	CHECK(strstr(page, "&lt;b&gt;") && !strstr(page, "<b>"));
	CHECK(strstr(page, "&lt;x&gt;") != NULL);
	CHECK(!strchr(page, '\x1b'));
	CHECK(!strstr(page, ">ext4<")); /* base modules have no row */
	free(page);
	pml_report_free(rep);
	return unit_done("run-page");
}
