#!/usr/bin/env bash
# bench/ctr.sh: ctrbox-ctr vs containerd's ctr (Go: 1.6's, or 2.1's with CTRBOX_CONTAINERD=2.1,
# which puts build/containerd2's containerd and ctr first in PATH), side by side on one private
# containerd (the bats rig: tests/bats/setup_suite.bash + helpers.bash, sourced outside bats as
# bench/snapshotter.sh does). Both clients drive the same daemon, shim and snapshotter, so the
# rows measure the client: its start-up, its gRPC calls and its own work (import: reading the
# tar, writing content, unpacking through the diff service).
#   1. `run --rm IMG id true`: N rounds per client, ABBA order (ctr, ctrbox-ctr, then
#      ctrbox-ctr, ctr, ...), after an unrecorded warm-up of each.
#   2. `images import IMG.tar` (the busybox tar of `ctr images export`): each client imports into
#      a namespace of its own; every round ends with `images rm --sync` there (not timed), so
#      the next import writes and unpacks again. N rounds per client, ABBA order.
#   3. `images ls`: a one-call command, i.e. mostly the client's start-up. N rounds, ABBA.
# Rows: median, p10 and p90 (nearest rank) of the wall time in ms, and the ratio
# ctrbox-ctr / ctr of the medians (lower is better). Every command runs under timeout(1).
#
# Usage (as root; build first: make all):
#   bench/ctr.sh                  # table on stdout and in bench/results/ctr.txt
#   BENCH_N=50 bench/ctr.sh       # more rounds
# Environment: BENCH_N (30) rounds per row and client, BENCH_WARMUP (2), BENCH_OUT
# (bench/results/ctr.txt), CTRBOX_BIN (build/ctrbox), BENCH_ROWS (unset): a file to which one
# machine-readable line per row is appended for bench/all.sh:
# ROW<TAB>measurement<TAB>baseline<TAB>ctrbox<TAB>ratio<TAB>spread. build/ctrbox is copied at
# start (a rebuild during the run cannot mix two binaries); the rig's shims and proxy
# snapshotters run that copy too. Everything (the
# namespaces, containers, the private containerd and its temp dir) is removed at the end, also
# on failure or Ctrl-C.
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME with a '.', sort -n as expected

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
N=${BENCH_N:-30}
WARMUP=${BENCH_WARMUP:-2}
OUT=${BENCH_OUT:-$here/results/ctr.txt}
export CTRT_TIMEOUT=60
# shellcheck source=bench/rig.bash
source "$here/rig.bash"
[[ $N =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer (got '$N')"
CB_SRC=${CTRBOX_BIN:-$repo/build/ctrbox}
[[ -x $CB_SRC ]] || die "$CB_SRC missing (run make all)"
command -v ctr >/dev/null || die "no ctr (apt-get install containerd)"

# the copy of build/ctrbox, named ctrbox (symlinks.sh asks it for its applet list)
BIN_DIR=$(mktemp -d /tmp/ctrbox-bench-ctr.XXXXXX)
cp "$CB_SRC" "$BIN_DIR/ctrbox"
export CTRBOX_BIN=$BIN_DIR/ctrbox
NSS=(bench-ctr bench-ctrx)

bench_cleanup() {
	[[ -n ${CTRD_SOCK:-} ]] || return 0
	for ns in "${NSS[@]}"; do
		ctr -a "$CTRD_SOCK" -n "$ns" images rm --sync "$TEST_IMAGE" >/dev/null 2>&1
		ctr -a "$CTRD_SOCK" namespaces rm "$ns" >/dev/null 2>&1
	done
}
bench_cleanup_after() { rm -rf "$BIN_DIR"; } # the shims' binary: containerd may run it until the end
rig_up "and importing the busybox image"
TAR=$CTRBOX_TEST_DIR/img.tar
ctrt images export "$TAR" "$TEST_IMAGE"
CTRX=$SHIMDIR/ctrbox-ctr
[[ -x $CTRX ]] || die "$CTRX missing (symlinks.sh did not make it)"
"$CTRX" -a "$CTRD_SOCK" version >/dev/null 2>&1 || die "ctrbox-ctr version fails: $("$CTRX" -a "$CTRD_SOCK" version 2>&1 | tail -2)"

# cli KIND NS ARGS...: ctr (KIND ctr) or ctrbox-ctr (KIND ctrx) in namespace NS.
cli() {
	local kind=$1 ns=$2 bin=ctr
	shift 2
	[[ $kind == ctrx ]] && bin=$CTRX
	timeout -k 5 60 "$bin" -a "$CTRD_SOCK" -n "$ns" "$@" </dev/null
}

# timed KIND NS ARGS...: prints the wall time in microseconds; output to $CTRBOX_TEST_DIR/bench.err
timed() {
	local t0 t1
	t0=${EPOCHREALTIME/./}
	cli "$@" >/dev/null 2>"$CTRBOX_TEST_DIR/bench.err" || {
		say "$1 ${*:3} failed: $(tail -3 "$CTRBOX_TEST_DIR/bench.err")"
		return 1
	}
	t1=${EPOCHREALTIME/./}
	echo $((t1 - t0))
}

declare -A T # T[row,kind]: the times (us), space-separated

# order I: ABBA: ctr first in odd rounds
order() { if (($1 % 2)); then echo "ctr ctrx"; else echo "ctrx ctr"; fi; }

run_round() { timed "$1" "$CTRD_NS" run --fifo-dir "$CTRBOX_TEST_DIR/fifo" --rm "$TEST_IMAGE" "$2" true; }
import_round() {
	local kind=$1 ns=bench-$1 t
	t=$(timed "$kind" "$ns" images import "$TAR") || return 1
	cli ctr "$ns" images rm --sync "$TEST_IMAGE" >/dev/null || return 1
	echo "$t"
}

say "warm-up: $WARMUP unrecorded rounds of each"
for ((i = 1; i <= WARMUP; i++)); do
	for kind in ctr ctrx; do
		run_round "$kind" "w-$kind-$i" >/dev/null || die "$kind cannot run a container"
		import_round "$kind" >/dev/null || die "$kind cannot import $TAR"
	done
done

say "run --rm $TEST_IMAGE ID true: $N rounds each, ABBA"
for ((i = 1; i <= N; i++)); do
	for kind in $(order "$i"); do
		T[run,$kind]+="$(run_round "$kind" "r-$kind-$i") " || die "round $i of $kind run failed"
	done
	((i % 10)) || say "  $i/$N"
done
[[ -z $(ctrt containers ls -q) ]] || die "run --rm left containers: $(ctrt containers ls -q | xargs)"

say "images import (then images rm --sync, not timed): $N rounds each, ABBA"
for ((i = 1; i <= N; i++)); do
	for kind in $(order "$i"); do
		T[import,$kind]+="$(import_round "$kind") " || die "round $i of $kind import failed"
	done
	((i % 10)) || say "  $i/$N"
done

say "images ls: $N rounds each, ABBA"
for ((i = 1; i <= N; i++)); do
	for kind in $(order "$i"); do
		T[ls,$kind]+="$(timed "$kind" "$CTRD_NS" images ls) " || die "round $i of $kind images ls failed"
	done
done

# stats: "median p10 p90" in ms (one decimal) of the microseconds on stdin; nearest rank, the
# median of an even count is the mean of the middle two.
stats() {
	tr ' ' '\n' | grep . | sort -n | awk '
		{ v[NR] = $1 }
		function rank(p,  i) { i = int(p * NR / 100 + 0.999999); return v[i < 1 ? 1 : i] }
		END {
			med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.1f %.1f %.1f\n", med / 1000, rank(10) / 1000, rank(90) / 1000
		}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == 0) print "-"; else printf "%.2f\n", b / a }'; }
row() { printf '%-32s %22s %22s %7s\n' "$@"; }

ver_cb=$(git -C "$repo" --no-optional-locks rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" --no-optional-locks diff --quiet HEAD 2>/dev/null || ver_cb+="+dirty"

table() {
	echo "ctrbox-ctr vs ctr ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
	echo "host: $(uname -r), $(nproc) cores; $(containerd --version | awk '{ print $1, $3 }'); ctr $(ctr --version | awk '{ print $3 }')"
	echo "ctrbox: build/ctrbox at $ver_cb; image $TEST_IMAGE ($(du -k "$TAR" | cut -f1) kB tar); N=$N per client, ABBA, warm-up $WARMUP"
	echo
	row "command (wall time, ms)" "ctr med (p10/p90)" "ctrbox med (p10/p90)" "ratio"
	local r label m_t p10_t p90_t m_x p10_x p90_x
	for r in run import ls; do
		case $r in
		run) label="run --rm IMG id true" ;;
		import) label="images import IMG.tar" ;;
		ls) label="images ls" ;;
		esac
		read -r m_t p10_t p90_t <<<"$(stats <<<"${T[$r,ctr]}")"
		read -r m_x p10_x p90_x <<<"$(stats <<<"${T[$r,ctrx]}")"
		row "$label" "$m_t ($p10_t/$p90_t)" "$m_x ($p10_x/$p90_x)" "$(ratio "$m_t" "$m_x")"
		[[ -z ${BENCH_ROWS:-} ]] || printf 'ROW\tctr: `%s` (ms)\t%s\t%s\t%s\t%s\n' "$label" "$m_t" "$m_x" \
			"$(ratio "$m_t" "$m_x")" "p10-p90 $p10_t-$p90_t / $p10_x-$p90_x" >>"$BENCH_ROWS"
	done
	echo
	echo "ratio: ctrbox-ctr median / ctr median (lower is better); wall time of the whole command,"
	echo "client start-up and timeout(1) included; import rounds each end with images rm --sync (not timed)."
	echo "$((SECONDS - t_start)) s in all."
}

mkdir -p "$(dirname "$OUT")"
table | tee "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
say "table saved to $OUT"
