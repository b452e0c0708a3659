# containerd's own integration/client suite against ctrbox and against that containerd's Go shim
# (tests/conformance/): build-VERSION.sh builds client.test and runc-fp from Debian's packages,
# run.sh runs each test in its own process with a private containerd, compare.sh fails when
# ctrbox fails a test the Go shim passes (re-running those for ctrbox first).
# CONFORMANCE_RUNS: runs over the whole list (default 1; `make test` uses the default).
# Per version the Go shim's and ctrbox's run.sh run side by side (two tests at a time on the
# machine), their lines prefixed [go] / [ctrbox]; the versions one after the other.
CONFORMANCE_RUNS ?= 1
.PHONY: conformance conformance-1.6 conformance-2.1

# One version after the other (never both at once, under make -j too), both always run.
conformance:
	@t0=$$(date +%s); rc=0; $(MAKE) --no-print-directory conformance-1.6 || rc=1; \
	$(MAKE) --no-print-directory conformance-2.1 || rc=1; \
	echo "conformance: $$(( $$(date +%s) - t0 ))s, exit $$rc"; exit $$rc

# conformance_pair VERSION: both shims' run.sh at once, then compare.sh (which fails the gate).
define conformance_pair
	@t0=$$(date +%s); \
	{ tests/conformance/run.sh $(1) go $(CONFORMANCE_RUNS) 2>&1 | sed -u 's/^/[go] /'; } & g=$$!; \
	{ tests/conformance/run.sh $(1) ctrbox $(CONFORMANCE_RUNS) 2>&1 | sed -u 's/^/[ctrbox] /'; } & c=$$!; \
	wait $$g; wait $$c; \
	echo "conformance-$(1): both shims' runs took $$(( $$(date +%s) - t0 ))s"
	tests/conformance/compare.sh $(1)
endef

conformance-1.6: $(BUILD)/ctrbox
	tests/conformance/build-1.6.sh
	$(call conformance_pair,1.6)

conformance-2.1: $(BUILD)/ctrbox containerd2
	tests/conformance/build-2.1.sh
	$(call conformance_pair,2.1)
