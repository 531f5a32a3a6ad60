# pml build: one internal library (libpml.a) from src/<component>/, thin commands from
# src/cmd/, unit tests from tests/unit/. C17, warnings on; WERROR=1 (CI) makes them errors.
#   make            build into build/
#   make check      unit tests (no VM)
#   make SAN=1 check  the same under ASan/UBSan, into build-san/
#   make check-valgrind  unit tests under valgrind

CC ?= cc
SAN ?= 0
WERROR ?= 0
O ?= $(if $(filter 1,$(SAN)),build-san,build)

PKGS := libkmod sqlite3 libbpf libelf zlib libarchive
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu17 -Wall -Wextra -Wshadow -Wno-unused-parameter -Wformat=2 \
	  -Wstrict-prototypes -Wmissing-prototypes -fno-strict-aliasing \
	  -D_GNU_SOURCE -Isrc $(PKG_CFLAGS) -MMD -MP
ifeq ($(WERROR),1)
CFLAGS += -Werror
endif
ifeq ($(SAN),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
LDLIBS += $(PKG_LIBS) -lm -lpthread

LIB_SRCS := $(filter-out src/cmd/%,$(wildcard src/*/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
PML_SRCS := src/cmd/pml.c $(wildcard src/cmd/cmd-*.c)
PML_OBJS := $(PML_SRCS:%.c=$(O)/%.o)
TEST_SRCS := $(wildcard tests/unit/test-*.c)
TESTS := $(TEST_SRCS:tests/unit/%.c=$(O)/tests/%)
# A command is built once its source exists.
BINS := $(O)/pml $(patsubst src/cmd/%.c,$(O)/%,$(wildcard src/cmd/pmld.c src/cmd/pml-modprobe.c)) \
	$(O)/pml-guest

all: $(BINS) $(TESTS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# pml run finds guest/ and scripts/ in the tree it was built from (PML_SRCDIR overrides).
$(O)/src/vm/testbed.o: CFLAGS += -DPML_SRCDIR='"$(CURDIR)"'

$(O)/libpml.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/pml: $(PML_OBJS) $(O)/libpml.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/pmld: $(O)/src/cmd/pmld.o $(O)/src/cmd/cmd-options.o $(O)/libpml.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/pml-modprobe: $(O)/src/cmd/pml-modprobe.o $(O)/libpml.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# guest-init's helpers: libc only (an exec of pml in the guest loads libarchive and ICU).
$(O)/pml-guest: $(O)/src/cmd/pml-guest.o
	$(CC) $(LDFLAGS) -o $@ $^

$(O)/tests/%: $(O)/tests/unit/%.o $(O)/libpml.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests: each binary prints its own results; the runner sums them into the closing
# line "N passed, N failed".
check: all
	@tests/run-unit $(O)

check-valgrind: all
	@VALGRIND=1 tests/run-unit $(O)

clean:
	rm -rf build build-san

.PHONY: all check check-valgrind clean
-include $(LIB_OBJS:.o=.d) $(PML_OBJS:.o=.d) $(O)/src/cmd/pmld.d $(O)/src/cmd/pml-modprobe.d \
	$(O)/src/cmd/pml-guest.d $(TEST_SRCS:tests/unit/%.c=$(O)/tests/unit/%.d)
# The unit tests' objects are kept (not intermediate files make deletes after linking), so
# that their dependency files above rebuild a test whose headers changed.
.SECONDARY: $(TEST_SRCS:tests/unit/%.c=$(O)/tests/unit/%.o)

# ---------------------------------------------------------------------------------------
# trace: the libFuzzer target for the trace reader (clang), and the BPF side of the tracer
# (clang -target bpf against a vmlinux.h from the guest kernel's BTF, a bpftool skeleton).
#   make fuzz        build the reader's fuzz target and run it FUZZ_TIME seconds (20)
FUZZ_CC ?= clang
FUZZ_TIME ?= 20
FUZZ_CFLAGS := -g -O1 -std=gnu17 -D_GNU_SOURCE -Isrc -fsanitize=fuzzer,address,undefined \
	       -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
	       -fno-sanitize-recover=undefined
FUZZ_SRCS := src/trace/trace-reader.c src/trace/trace-decode.c src/util/json.c

$(O)/fuzz/fuzz-trace-reader: tests/fuzz/fuzz-trace-reader.c $(FUZZ_SRCS) $(wildcard src/trace/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz-trace-reader.c $(FUZZ_SRCS) -lz

# The corpus starts from the fixture traces and grows in the build dir; a crash leaves
# its input as $(O)/fuzz/crash-* and fails the target.
fuzz: $(O)/fuzz/fuzz-trace-reader
	@mkdir -p $(O)/fuzz/corpus-trace
	@cp -n tests/fixtures/trace/*.bin $(O)/fuzz/corpus-trace/ 2>/dev/null || true
	cd $(O)/fuzz && nice ./fuzz-trace-reader -max_total_time=$(FUZZ_TIME) -max_len=65536 \
		-timeout=10 -rss_limit_mb=1024 -print_final_stats=1 corpus-trace

.PHONY: fuzz

# report: the fuzz target for the run report (src/run/run-report.c) over a hostile guest's
# decision log, and the JSON writer under it. Seeds: tests/fixtures/agent/*.jsonl.
#   make fuzz-report   build it and run it FUZZ_TIME seconds (20)
REPORT_FUZZ_SRCS := src/run/run-report.c src/run/run-report-metrics.c src/run/run-report-print.c src/util/json.c src/util/event-log.c

$(O)/fuzz/fuzz-report: tests/fuzz/fuzz-report.c $(REPORT_FUZZ_SRCS) src/run/run-report.h \
		       src/run/run-report-priv.h \
		       src/util/json.h tests/unit/json-check.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ tests/fuzz/fuzz-report.c $(REPORT_FUZZ_SRCS) -lm

fuzz-report: $(O)/fuzz/fuzz-report
	@mkdir -p $(O)/fuzz/corpus-report
	@cp -n tests/fixtures/agent/*.jsonl $(O)/fuzz/corpus-report/ 2>/dev/null || true
	cd $(O)/fuzz && nice ./fuzz-report -max_total_time=$(FUZZ_TIME) -max_len=70000 \
		-timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-dict=$(CURDIR)/tests/fuzz/fuzz-report.dict corpus-report

.PHONY: fuzz-report

# results: the fuzz target for the output-disk unpacker (src/vm/results.c), a hostile
# guest's side of the host. Seeds: tests/fixtures/results/*.tar (small tars as the guest
# writes them, and some that are not).
#   make fuzz-results  build it and run it FUZZ_TIME seconds (20)
RESULTS_FUZZ_SRCS := src/vm/results.c src/util/log.c src/util/timeutil.c

$(O)/fuzz/fuzz-results: tests/fuzz/fuzz-results.c $(RESULTS_FUZZ_SRCS) src/vm/results.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(shell pkg-config --cflags libarchive) -o $@ \
		tests/fuzz/fuzz-results.c $(RESULTS_FUZZ_SRCS) $(shell pkg-config --libs libarchive)

fuzz-results: $(O)/fuzz/fuzz-results
	@mkdir -p $(O)/fuzz/corpus-results
	@cp -n tests/fixtures/results/*.tar $(O)/fuzz/corpus-results/ 2>/dev/null || true
	cd $(O)/fuzz && nice ./fuzz-results -max_total_time=$(FUZZ_TIME) -max_len=65536 \
		-timeout=40 -rss_limit_mb=1024 -print_final_stats=1 corpus-results

.PHONY: fuzz-results

# The BPF object and its skeleton. vmlinux.h comes from the guest kernel's BTF (see
# src/trace/gen-vmlinux-h: cached, regenerated when the kernel image changes).
# Debian 12 packages: clang, llvm, bpftool, libbpf-dev (and xz-utils for the bzImage).
BPF_CLANG ?= clang
BPFTOOL ?= bpftool
BPF_ARCH_INC := /usr/include/$(shell $(CC) -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)

$(O)/trace/vmlinux.h: src/trace/gen-vmlinux-h FORCE
	@mkdir -p $(dir $@)
	@src/trace/gen-vmlinux-h $@

$(O)/trace/trace.bpf.o: src/trace/bpf/trace.bpf.c src/trace/trace-event.h $(O)/trace/vmlinux.h
	$(BPF_CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -I$(O)/trace -Isrc \
		-I$(BPF_ARCH_INC) -c $< -o $@

$(O)/trace/trace.skel.h: $(O)/trace/trace.bpf.o
	$(BPFTOOL) gen skeleton $< name pml_trace_bpf > $@.tmp && mv $@.tmp $@

$(O)/src/trace/tracer.o: $(O)/trace/trace.skel.h
$(O)/src/trace/tracer.o: CFLAGS += -I$(O)/trace

FORCE:
.PHONY: FORCE

# The tracer benchmark's workload driver (copied into the guest; see tests/bench/).
$(O)/bench/trace-bench: tests/bench/trace-bench.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -o $@ $<
