# Sanitizer and leak-check runs (issue 8). Each has its own build dir, so build/ctrbox is never
# touched; the bats files still use the normal build's test tools ($REPO/build/tools/...).
#
#   make asan      ASan+UBSan build (build-asan/, dynamic: ASan cannot link -static); the unit
#                  tests and the WHOLE bats suite run on it (CTRBOX_BIN); fails on a failed test
#                  or on any sanitizer report (written to build-asan/san-reports/, then printed).
#   make asan-quick  the same without the load tests (tests/bats/99-*): what CI runs (~4 min)
#   make valgrind  dynamic -O1 build (build-vg/); a runc shim daemon under valgrind driven by a
#                  real containerd (create, 100 execs, delete), then ctrbox-snapshotter and
#                  ctrbox-journal under valgrind; fails on any valgrind error or definite leak.
#                  Small enough (~20 s) that CI runs it whole.
#   make sanitize-quick  asan-quick + valgrind: part of make test

SAN_BUILD  := build-asan
SAN_CFLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer
VG_BUILD   := build-vg
VG_CFLAGS  := -O1 -g

.PHONY: asan asan-build asan-quick valgrind valgrind-build sanitize-quick

ASAN_QUICK_BATS := $(sort $(filter-out tests/bats/99-%,$(wildcard tests/bats/*.bats)))

asan-build:
	$(MAKE) BUILD=$(SAN_BUILD) CFLAGS="$(SAN_CFLAGS)" STATIC= $(SAN_BUILD)/ctrbox \
		$(SAN_BUILD)/unit-tests $(patsubst $(BUILD)/%,$(SAN_BUILD)/%,$(TOOLS))

asan: all $(TOOLS) asan-build
	tests/valgrind/asan.sh $(SAN_BUILD)

asan-quick: all $(TOOLS) asan-build
	tests/valgrind/asan.sh $(SAN_BUILD) $(ASAN_QUICK_BATS)

valgrind-build:
	$(MAKE) BUILD=$(VG_BUILD) CFLAGS="$(VG_CFLAGS)" STATIC= $(VG_BUILD)/ctrbox

valgrind: all $(TOOLS) valgrind-build
	tests/valgrind/valgrind.sh $(VG_BUILD)

sanitize-quick: asan-quick valgrind
