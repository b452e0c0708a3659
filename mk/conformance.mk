# containerd's own integration/client suite against ctrbox and against that containerd's Go shim
# (tests/conformance/): build-VERSION.sh builds client.test and runc-fp from Debian's packages,
# run.sh runs each test in its own process with a private containerd, compare.sh fails when
# ctrbox fails a test the Go shim passes. CONFORMANCE_RUNS: runs over the whole list (default 1).
CONFORMANCE_RUNS ?= 1
.PHONY: conformance conformance-1.6 conformance-2.1

# One version after the other (never both at once, under make -j too), both always run.
conformance:
	@rc=0; $(MAKE) --no-print-directory conformance-1.6 || rc=1; \
	$(MAKE) --no-print-directory conformance-2.1 || rc=1; exit $$rc

conformance-1.6: $(BUILD)/ctrbox
	tests/conformance/build-1.6.sh
	tests/conformance/run.sh 1.6 go $(CONFORMANCE_RUNS)
	tests/conformance/run.sh 1.6 ctrbox $(CONFORMANCE_RUNS)
	tests/conformance/compare.sh 1.6

conformance-2.1: $(BUILD)/ctrbox containerd2
	tests/conformance/build-2.1.sh
	tests/conformance/run.sh 2.1 go $(CONFORMANCE_RUNS)
	tests/conformance/run.sh 2.1 ctrbox $(CONFORMANCE_RUNS)
	tests/conformance/compare.sh 2.1
