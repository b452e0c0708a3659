# nghttp2 for build/ctrbox, compiled here from Debian's own source package of the system's
# release (issue 17: the binary in 2 MB). Debian's libnghttp2.a is not split into sections, so
# the link keeps all of it (150 kB); compiled here with every function and datum in its own
# section, --gc-sections drops what ctrbox's gRPC server and client never call (115 kB left).
# Same source as the system's libnghttp2 (whose headers, from libnghttp2-dev, everything still
# compiles against; the unit tests, the test tools and the fuzzers still link Debian's archive,
# and so do programs built on the installed libctrbox: ctrbox.pc). -O2 like Debian's, asserts
# kept like Debian's: the snapshotter's gRPC server runs on it (-Os would save 28 kB more).
#
# The source: tests/conformance/src-fetch.sh (as for SQLite, mk/sqlite.mk), cached. nghttp2's
# own build (autotools or CMake) is not run: lib/*.c need only nghttp2ver.h, made from its .in
# with the version configure.ac names, and the few HAVE_* macros lib/ tests (the ones true on
# Linux; HAVE_CLOCK_GETTIME gives the monotonic clock its stream and flood timers want).
NGHTTP2_DIR    := $(BUILD)/nghttp2
NGHTTP2_CFLAGS := -O2 -g -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
NGHTTP2_DEFS   := -DBUILDING_NGHTTP2 -DHAVE_ARPA_INET_H=1 -DHAVE_NETINET_IN_H=1 -DHAVE_TIME_H=1 \
	-DHAVE_CLOCK_GETTIME=1

$(NGHTTP2_DIR)/libnghttp2.a: mk/nghttp2.mk
	@set -e; read -r _ ver src < <(tests/conformance/src-fetch.sh $(SQLITE_SUITE) $(NGHTTP2_DIR)/src nghttp2); \
	uv=$$(sed -n 's/^AC_INIT(\[nghttp2\], \[\([0-9.]*\)\].*/\1/p' $$src/configure.ac); \
	[ -n "$$uv" ] || { echo "nghttp2: no version in $$src/configure.ac"; exit 1; }; \
	num=$$(echo "$$uv" | awk -F. '{ printf "0x%02x%02x%02x", $$1, $$2, $$3 }'); \
	echo "nghttp2: Debian's nghttp2 $$ver, lib/ only ($$uv, $$num)"; \
	sed -e "s/@PACKAGE_VERSION@/$$uv/; s/@PACKAGE_VERSION_NUM@/$$num/" \
		$$src/lib/includes/nghttp2/nghttp2ver.h.in >$$src/lib/includes/nghttp2/nghttp2ver.h; \
	rm -rf $(NGHTTP2_DIR)/o; mkdir -p $(NGHTTP2_DIR)/o; \
	for c in $$src/lib/*.c; do \
		o=$(NGHTTP2_DIR)/o/$$(basename $${c%.c}).o; \
		$(CC) $(NGHTTP2_CFLAGS) $(NGHTTP2_DEFS) -I$$src/lib/includes -I$$src/lib -c -o $$o $$c || exit 1; \
	done; \
	rm -f $@; ar rcs $@ $(NGHTTP2_DIR)/o/*.o

.PHONY: nghttp2
nghttp2: $(NGHTTP2_DIR)/libnghttp2.a
