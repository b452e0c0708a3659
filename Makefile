# ctrbox: one static binary, applets dispatched on argv[0].
SHELL   := /bin/bash
CC      ?= cc
PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
# One version, in the public header (include/ctrbox/version.h).
VERSION := $(shell sed -n 's/^\#define CTRBOX_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$$/\2/p' include/ctrbox/version.h | paste -sd.)
LIBDIR  ?= $(PREFIX)/lib
INCDIR  ?= $(PREFIX)/include
MANDIR  ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

# CFLAGS is yours (optimisation, sanitizers); the project's own flags are always added. The
# default is for size too (issue 17): every function and datum in its own section, so the link
# drops what nothing calls (--gc-sections), and no .eh_frame: ctrbox is C and nothing in it
# unwinds (no exceptions, no backtrace(), no pthread_cancel/pthread_exit); debuggers and valgrind
# read the .debug_frame that -g writes instead. The sanitizer builds set their own CFLAGS, so
# their reports' stack traces keep the unwind tables.
CFLAGS  ?= -O2 -g -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
# Cold code is optimised for size, with the default CFLAGS only: ctrbox-ctr and the client crate
# it calls run once per command and wait on containerd (-Os: -25 kB; the shim, the servers and the
# logger stay -O2, their CPU is measured by make bench).
COLD_CFLAGS := $(if $(filter file,$(origin CFLAGS)),-Os)
WARN    := -Wall -Wextra -Werror -Wno-unused-parameter -Wformat=2
XCFLAGS := -std=gnu11 -fno-strict-aliasing -D_GNU_SOURCE -Iinclude -I$(BUILD)/gen -Ilibctrbox -Iapplets \
           -I$(BUILD)/sqlite
LDFLAGS ?=
STATIC  ?= -static
LIBS    := -lprotobuf-c -lnghttp2
# SQLite is built here, with only what the snapshotter's store needs (mk/sqlite.mk); build/ctrbox
# links nghttp2 built here too, in sections (mk/nghttp2.mk).
SQLITE_LIB := $(BUILD)/sqlite/libsqlite3.a
NGHTTP2_LIB := $(BUILD)/nghttp2/libnghttp2.a

# Debian packages the build and the tests need (make deps installs them, idempotently).
DEPS_BUILD := build-essential clang-format clang libclang-rt-14-dev libprotobuf-c-dev protobuf-c-compiler libnghttp2-dev libjsmn-dev \
              tcl pkg-config file scdoc lintian man-db
DEPS_TEST  := bats bats-assert bats-support containerd runc umoci busybox-static iproute2 procps criu jq tar systemd \
              util-linux valgrind libcap2-bin

# Man pages: scdoc sources doc/man/NAME.SECTION.scd, built to build/man/NAME.SECTION (mk/man.mk).
MAN_SRC   := $(sort $(wildcard doc/man/*.scd))
MAN_PAGES := $(patsubst doc/man/%.scd,$(BUILD)/man/%,$(MAN_SRC))

PROTOS   := $(shell find proto -name '*.proto' | sort)
PROTO_C  := $(patsubst proto/%.proto,$(BUILD)/gen/%.pb-c.c,$(PROTOS))
PROTO_O  := $(PROTO_C:.c=.o)
# libctrbox, the C rust-extensions: one folder per crate (libctrbox/core, protos, shim, runc,
# client, snapshots, logging), each with its public headers in include/ctrbox/. Every object is
# linked into one relocatable object whose only global symbols are the public ctrbox_* ones, so
# nothing else can be reached from outside: not by a program built on the installed library, and
# not by ctrbox's own applets, which link it exactly like that.
LIB_SRC  := $(wildcard libctrbox/*/*.c)
LIB_O    := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))
PUB_HDRS := $(wildcard include/ctrbox/*.h)
APP_SRC  := $(wildcard applets/*.c applets/*/*.c)
APP_O    := $(patsubst %.c,$(BUILD)/%.o,$(APP_SRC))
UNIT_SRC := $(wildcard tests/unit/*.c)
TOOL_SRC := $(wildcard tests/tools/*.c)

# The containerd the e2e suite runs on: 1.6 (Debian 12's, the system's) or 2.1 (testing's,
# unpacked under build/ by make containerd2). The make variable and the environment variable are
# one: `make e2e CTRBOX_CONTAINERD=2.1` = `CTRBOX_CONTAINERD=2.1 make e2e`. Unset: make e2e runs
# 1.6, make test both, make deps fetches what both need.
CTRBOX_CONTAINERD ?=
E2E_VERSIONS := 1.6 2.1
E2E_CHOSEN   := $(or $(strip $(CTRBOX_CONTAINERD)),$(E2E_VERSIONS))
ifneq ($(filter-out $(E2E_VERSIONS),$(E2E_CHOSEN)),)
$(error CTRBOX_CONTAINERD=$(CTRBOX_CONTAINERD): 1.6 or 2.1)
endif

.SECONDARY:
.PHONY: FORCE all deps test unit e2e e2e-all $(addprefix e2e-,$(E2E_VERSIONS)) install install-bin install-dev \
	clean fmt fmt-check \
	demo api-check size

all: $(BUILD)/ctrbox

FORCE:

# protoc-c output is generated, never committed. One stamp: every .pb-c.h exists before any
# object compiles.
$(BUILD)/gen/.stamp: $(PROTOS)
	@mkdir -p $(BUILD)/gen
	protoc-c -Iproto --c_out=$(BUILD)/gen $(PROTOS)
	@touch $@

$(PROTO_C): $(BUILD)/gen/.stamp

# The compiler and flags every object was built with, in a file that changes only when they do:
# objects depend on it, so a new CFLAGS (or a new default) rebuilds them.
$(BUILD)/.cflags: FORCE
	@mkdir -p $(@D)
	@f='$(CC) $(CFLAGS) $(XCFLAGS) $(WARN) cold: $(COLD_CFLAGS)'; echo "$$f" | cmp -s - $@ || echo "$$f" >$@

$(BUILD)/applets/ctr/%.o $(BUILD)/libctrbox/client/%.o: OBJ_CFLAGS := $(COLD_CFLAGS)

$(BUILD)/gen/%.pb-c.o: $(BUILD)/gen/%.pb-c.c $(BUILD)/.cflags
	$(CC) $(CFLAGS) $(XCFLAGS) $(WARN) -c -o $@ $<

$(BUILD)/%.o: %.c $(BUILD)/gen/.stamp $(BUILD)/.cflags
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(OBJ_CFLAGS) $(XCFLAGS) $(WARN) -Wshadow -MMD -MP -c -o $@ $<

$(BUILD)/ctrbox-lib.o: $(LIB_O)
	$(LD) -r -o $@.tmp $^
	objcopy --wildcard --keep-global-symbol='ctrbox_*' $@.tmp $@
	rm -f $@.tmp

$(BUILD)/libctrbox.a: $(BUILD)/ctrbox-lib.o $(PROTO_O)
	rm -f $@
	ar rcs $@ $^

# Every lib object with its symbols as they are: unit tests, fuzzers and test tools reach in.
$(BUILD)/libctrbox-all.a: $(LIB_O) $(PROTO_O)
	rm -f $@
	ar rcs $@ $^

# The link map (ld -Map) is kept next to the binary: bench/size.sh reads it (make size).
$(BUILD)/ctrbox: $(BUILD)/main.o $(APP_O) $(BUILD)/libctrbox.a $(SQLITE_LIB) $(NGHTTP2_LIB)
	$(CC) $(CFLAGS) $(STATIC) $(LDFLAGS) -Wl,--gc-sections -Wl,-Map=$@.map -o $@ $^ $(filter-out -lnghttp2,$(LIBS))

# store.c includes the sqlite3.h of the SQLite built here.
$(BUILD)/applets/snapshotter/store.o: $(BUILD)/sqlite/sqlite3.h

# Unit tests link the applets' objects too (the snapshotter's store and filters are tested here).
$(BUILD)/unit-tests: $(patsubst %.c,$(BUILD)/%.o,$(UNIT_SRC)) $(APP_O) $(BUILD)/libctrbox-all.a $(SQLITE_LIB)
	$(CC) $(CFLAGS) -no-pie $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tools/%: $(BUILD)/tests/tools/%.o $(BUILD)/libctrbox-all.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -no-pie $(LDFLAGS) -o $@ $^ $(LIBS)

TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tools/%,$(TOOL_SRC))

deps:
	@missing=$$(for p in $(DEPS_BUILD) $(DEPS_TEST); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else echo "deps: all installed"; fi
	$(if $(filter 2.1,$(E2E_CHOSEN)),@$(MAKE) --no-print-directory containerd2)

unit: $(BUILD)/unit-tests
	$(BUILD)/unit-tests

# The bats suite on one containerd: e2e-1.6, e2e-2.1 (which unpacks containerd 2.1 first, from
# the cache when it can); make e2e runs CTRBOX_CONTAINERD's (default 1.6). bats prints TAP (kept
# in build/e2e-VERSION.tap); the closing "e2e VERSION: N passed, N failed (T s)" line sums it up.
e2e: e2e-$(or $(strip $(CTRBOX_CONTAINERD)),1.6)

e2e-2.1: containerd2

$(addprefix e2e-,$(E2E_VERSIONS)): e2e-%: $(BUILD)/ctrbox $(TOOLS)
	@set -o pipefail; t0=$$(date +%s); \
	CTRBOX_CONTAINERD=$* bats tests/bats | tee $(BUILD)/e2e-$*.tap; rc=$$?; \
	pass=$$(grep -c '^ok ' $(BUILD)/e2e-$*.tap); fail=$$(grep -c '^not ok ' $(BUILD)/e2e-$*.tap); \
	echo "e2e $*: $$pass passed, $$fail failed ($$(($$(date +%s) - t0)) s)" | tee $(BUILD)/e2e-$*.sum; \
	exit $$rc

# Every chosen version, one after the other, even when one fails; then each one's summary line.
e2e-all: $(BUILD)/ctrbox $(TOOLS)
	@rc=0; for v in $(E2E_CHOSEN); do \
		rm -f $(BUILD)/e2e-$$v.sum; \
		$(MAKE) --no-print-directory e2e-$$v || rc=1; \
	done; \
	for v in $(E2E_CHOSEN); do cat $(BUILD)/e2e-$$v.sum 2>/dev/null || echo "e2e $$v: did not run"; done; \
	exit $$rc

# After the bats suite, containerd's own client tests on both versions (mk/conformance.mk); the
# sanitizer runs (mk/sanitize.mk) stay on containerd 1.6.
test: deps
	$(MAKE) all fmt-check api-check unit e2e-all
	$(MAKE) conformance
	$(MAKE) fuzz-quick
	$(MAKE) sanitize-quick CTRBOX_CONTAINERD=1.6

demo: deps $(BUILD)/ctrbox
	tests/demo.sh

bench: bench-all # one table: shim, snapshotter, journal, client (mk/bench.mk)

# What takes the space in build/ctrbox: per archive, from the link map (bench/size.sh; -o per
# object, -w REGEX why a member was linked). The goal: 2,048 kB stripped (bench/README.md).
size: $(BUILD)/ctrbox
	bench/size.sh $(BUILD)/ctrbox.map

# The binary with its applet links, its man pages and ctrbox-ctr's bash completion (install-bin),
# and libctrbox for shim authors (install-dev): the archive, the public headers, the protobuf-c
# headers of containerd's types (under ctrbox/proto/), ctrbox.pc and libctrbox(3). Man pages:
# mk/man.mk.
install: install-bin install-dev

install-bin: $(BUILD)/ctrbox $(filter-out %.3,$(MAN_PAGES))
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(BASHCOMPDIR)
	install -m 0755 $(BUILD)/ctrbox $(DESTDIR)$(PREFIX)/bin/ctrbox
	./symlinks.sh $(DESTDIR)$(PREFIX)/bin
	for m in $(filter-out %.3,$(MAN_PAGES)); do \
		install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}/$${m##*/} || exit 1; done
	install -m 0644 packaging/bash-completion/ctrbox-ctr $(DESTDIR)$(BASHCOMPDIR)/ctrbox-ctr

install-dev: $(BUILD)/libctrbox.a $(filter %.3,$(MAN_PAGES))
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/ctrbox
	install -m 0644 $(BUILD)/libctrbox.a $(DESTDIR)$(LIBDIR)/libctrbox.a
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))|' \
		-e 's|@INCDIR@|$(patsubst $(PREFIX)/%,$${prefix}/%,$(INCDIR))|; s|@VERSION@|$(VERSION)|' \
		ctrbox.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/ctrbox.pc
	chmod 0644 $(DESTDIR)$(LIBDIR)/pkgconfig/ctrbox.pc
	install -m 0644 $(PUB_HDRS) $(DESTDIR)$(INCDIR)/ctrbox/
	cd $(BUILD)/gen && for h in $$(find . -name '*.pb-c.h' | sort); do \
		install -D -m 0644 $$h $(DESTDIR)$(INCDIR)/ctrbox/proto/$${h#./} || exit 1; done
	for m in $(filter %.3,$(MAN_PAGES)); do \
		install -D -m 0644 $$m $(DESTDIR)$(MANDIR)/man3/$${m##*/} || exit 1; done

# The public headers on their own, as a user's compiler sees them: C99 -pedantic and C++; and
# a comment on every function they declare (tests/rig/api-doc.awk).
API_CHECK_FLAGS := -Wall -Wextra -Werror -Iinclude -I$(BUILD)/gen
api-check: $(BUILD)/gen/.stamp
	@for h in $(PUB_HDRS); do \
		echo "#include <$${h#include/}>" | $(CC) -std=c99 -pedantic $(API_CHECK_FLAGS) -x c -fsyntax-only - \
			|| { echo "api-check: $$h fails as C99"; exit 1; }; \
		echo "#include <$${h#include/}>" | $(CXX) -std=c++11 -pedantic $(API_CHECK_FLAGS) -x c++ -fsyntax-only - \
			|| { echo "api-check: $$h fails as C++"; exit 1; }; \
	done; echo "api-check: $(words $(PUB_HDRS)) headers compile alone as C99 -pedantic and C++11"
	@awk -f tests/rig/api-doc.awk $(PUB_HDRS) || { echo "api-check: a public function without a comment"; exit 1; }
	@echo "api-check: every function the headers declare has a comment"

fmt:
	clang-format -i main.c $(LIB_SRC) $(wildcard libctrbox/*/*.h) $(PUB_HDRS) $(APP_SRC) $(wildcard applets/*/*.h) $(UNIT_SRC) $(TOOL_SRC)

fmt-check:
	clang-format --dry-run --Werror main.c $(LIB_SRC) $(wildcard libctrbox/*/*.h) $(PUB_HDRS) $(APP_SRC) $(wildcard applets/*/*.h) $(UNIT_SRC) $(TOOL_SRC)

clean:
	rm -rf $(BUILD)

# Only the dirs our objects are in: build/ also holds unpacked packages (containerd2, conformance).
-include $(shell find $(BUILD)/main.d $(BUILD)/libctrbox $(BUILD)/applets $(BUILD)/tests -name '*.d' -type f 2>/dev/null)

# Extra targets (fuzzing, sanitizers, load tests, benchmarks) live in mk/*.mk.
include $(wildcard mk/*.mk)
