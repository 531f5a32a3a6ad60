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

PKGS := libkmod sqlite3 libbpf libelf zlib
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
BINS := $(O)/pml $(patsubst src/cmd/%.c,$(O)/%,$(wildcard src/cmd/pmld.c src/cmd/pml-modprobe.c))

all: $(BINS) $(TESTS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

# pml run finds guest/ and scripts/ in the tree it was built from (PML_SRCDIR overrides).
$(O)/src/cmd/cmd-run.o: CFLAGS += -DPML_SRCDIR='"$(CURDIR)"'

$(O)/libpml.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/pml: $(PML_OBJS) $(O)/libpml.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/pmld: $(O)/src/cmd/pmld.o $(O)/libpml.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/pml-modprobe: $(O)/src/cmd/pml-modprobe.o $(O)/libpml.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

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
-include $(LIB_OBJS:.o=.d) $(PML_OBJS:.o=.d) $(O)/src/cmd/pmld.d $(O)/src/cmd/pml-modprobe.d
