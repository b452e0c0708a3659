# make bench-all: the four benches (runc shim, snapshotter, journal, ctr) one after the other, as
# root, and ONE markdown table of their main rows: bench/results/all.txt (see bench/README.md).
# Knobs by environment: BENCH_N, BENCH_KS, BENCH_OPS, BENCH_JOURNAL_LINES, BENCH_JOURNAL_RUNS,
# BENCH_ONLY, BENCH_ALL_OUT. all is .PHONY: else the bench/ dir makes a target look up to date.
.PHONY: bench-all
bench-all: all $(BUILD)/tools/grpc-probe
	CTRBOX_BIN=$(abspath $(BUILD)/ctrbox) GRPC_PROBE=$(abspath $(BUILD)/tools/grpc-probe) \
	BENCH_VIA="make$(if $(filter-out build,$(BUILD)), BUILD=$(BUILD)) bench-all" bench/all.sh
