# libFuzzer targets (clang -fsanitize=fuzzer,address,undefined), one per tests/fuzz/fuzz_<t>.c.
#
#   make fuzz                  every target for FUZZ_SECONDS (default 60) each, one summary line per
#                              target with libFuzzer's execution count; fails if any target
#                              crashed (crash-*/leak-*/timeout-*/oom-* in $(FUZZ_BUILD)/artifacts/<t>)
#   make fuzz-quick            the same with FUZZ_SECONDS=5 (CI)
#   make fuzz FUZZ_TARGETS=grpc FUZZ_SECONDS=600     one target, longer
#   make fuzz-build            the binaries only: $(FUZZ_BUILD)/fuzz/fuzz_<t>
#
# Everything is built with clang into BUILD=$(FUZZ_BUILD) (lib, protos and applet objects with
# -fsanitize=fuzzer-no-link,address,undefined; dynamic: ASan cannot link -static). Each run starts
# from tests/fuzz/corpus/<t>, copied to $(FUZZ_BUILD)/corpus/<t> so the repository's seeds are not
# modified (new interesting inputs stay in the copy); tests/fuzz/<t>.dict is used when present.
# Reproduce a crash: $(FUZZ_BUILD)/fuzz/fuzz_<t> <crash file>. A fixed crash's input belongs in
# tests/fuzz/corpus/<t>/ as a regression seed.
# Debian packages: clang (clang-14) and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes).

FUZZ_BUILD   ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= ttrpc proto json grpc journal shimcli filter
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS  := -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN)
# clang's -Wformat=2 includes -Wformat-nonliteral (gcc's does not warn on v*printf wrappers).
FUZZ_WARN    := $(WARN) -Wno-format-nonliteral
# libFuzzer options for every run; -close_fd_mask=3 silences the targets' own output (libFuzzer
# and sanitizer reports still go to stderr).
FUZZ_OPTS    ?= -timeout=20 -rss_limit_mb=2048 -close_fd_mask=3
# Applet objects a target links besides libctrbox-all.a.
FUZZ_APP_O_filter :=
FUZZ_APP_O_proto  := applets/ctr/pbjson.o applets/ctr/util.o applets/ctr/complete.o
FUZZ_APP_O_journal := applets/journal/journal_proto.o

.PHONY: fuzz fuzz-quick fuzz-build fuzz-bins

# Object files do not record their flags: a change of compiler or flags rebuilds everything.
fuzz-build:
	@f="$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_WARN)"; \
	if [ "$$(cat $(FUZZ_BUILD)/.fuzzflags 2>/dev/null)" != "$$f" ]; then \
		rm -rf $(FUZZ_BUILD)/libctrbox $(FUZZ_BUILD)/applets $(FUZZ_BUILD)/gen $(FUZZ_BUILD)/fuzz \
			$(FUZZ_BUILD)/libctrbox-all.a; \
		mkdir -p $(FUZZ_BUILD) && echo "$$f" > $(FUZZ_BUILD)/.fuzzflags; \
	fi
	$(MAKE) --no-print-directory BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) STATIC= \
		CFLAGS="$(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link" WARN="$(FUZZ_WARN)" \
		FUZZ_TARGETS="$(FUZZ_TARGETS)" fuzz-bins

# Only meaningful inside the sub-make above (BUILD=$(FUZZ_BUILD), CC=clang).
fuzz-bins: $(foreach t,$(FUZZ_TARGETS),$(BUILD)/fuzz/fuzz_$(t))

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(BUILD)/libctrbox-all.a $(BUILD)/gen/.stamp \
		$(foreach t,$(FUZZ_TARGETS),$(addprefix $(BUILD)/,$(FUZZ_APP_O_$(t))))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $(XCFLAGS) $(WARN) -Wshadow -o $@ $< \
		$(addprefix $(BUILD)/,$(FUZZ_APP_O_$*)) $(BUILD)/libctrbox-all.a $(LIBS)

fuzz: fuzz-build
	@fail=0; mkdir -p $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/artifacts $(FUZZ_BUILD)/logs; \
	for t in $(FUZZ_TARGETS); do \
		corpus=$(FUZZ_BUILD)/corpus/$$t art=$(FUZZ_BUILD)/artifacts/$$t/ \
		log=$(FUZZ_BUILD)/logs/$$t.log dict=; \
		rm -rf $$corpus $$art; mkdir -p $$corpus $$art; \
		if [ -d tests/fuzz/corpus/$$t ]; then cp -r tests/fuzz/corpus/$$t/. $$corpus/; fi; \
		if [ -f tests/fuzz/$$t.dict ]; then dict=-dict=tests/fuzz/$$t.dict; fi; \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(FUZZ_BUILD)/fuzz/fuzz_$$t $(FUZZ_OPTS) $$dict -max_total_time=$(FUZZ_SECONDS) \
			-print_final_stats=1 -artifact_prefix=$$art $$corpus >$$log 2>&1; rc=$$?; \
		execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' $$log | tail -1); \
		cov=$$(grep -o 'cov: [0-9]*' $$log | tail -1 | cut -d' ' -f2); \
		found=$$(ls $$art 2>/dev/null | tr '\n' ' '); \
		if [ $$rc -ne 0 ] || [ -n "$$found" ]; then \
			fail=1; echo "fuzz $$t: FAILED (exit $$rc) after $${execs:-?} executions: $${found:-no artifact} (log: $$log)"; \
			grep -m1 -A12 '^==[0-9]*==ERROR\|^SUMMARY\|runtime error' $$log | sed 's/^/    /'; \
		else \
			echo "fuzz $$t: ok, $${execs:-?} executions in $(FUZZ_SECONDS) s, cov $${cov:-?}, corpus $$(ls $$corpus | wc -l) inputs"; \
		fi; \
	done; exit $$fail

fuzz-quick:
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=5
