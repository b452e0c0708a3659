#!/usr/bin/env bash
# bench/snapshotter.sh: ctrbox-snapshotter (proxy plugin "ctrbox", overlayfs backend) vs
# containerd's built-in overlayfs snapshotter, side by side on one private containerd (the bats
# rig, which also starts the proxy snapshotters):
#   1. import + unpack + run: `ctr images import --snapshotter S IMG.tar` then
#      `ctr run --snapshotter S --rm IMG id true`, N rounds per snapshotter, ABBA order. Each
#      snapshotter works in its own namespace, and every round ends with `ctr images rm --sync`
#      so that the next import unpacks again (content stays in the shared store).
#   2. Prepare/Commit/Remove rounds per second through containerd's Snapshots service (the path
#      containerd's clients use), for both, and directly on ctrbox's socket (no containerd).
#   3. profile, after the timed rows (if strace is installed): system calls and fsync+fdatasync
#      per round of the ctrbox-snapshotter process and of containerd (the built-in snapshotter
#      runs inside containerd) under `strace -c -f`, and SQL statements per round (a second,
#      private ctrbox-snapshotter with CTRBOX_SNAPSHOTTER_SQL_TRACE, direct rounds).
# Table on stdout and in bench/results/snapshotter.txt. Environment: BENCH_N (10) rounds of 1,
# BENCH_OPS (300) rounds of 2, BENCH_PROF (100) rounds of 3, BENCH_OUT, CTRBOX_BIN (build/ctrbox), GRPC_PROBE
# (build/tools/grpc-probe), BENCH_ROWS (unset): a file to which one machine-readable line per row
# is appended for bench/all.sh: ROW<TAB>measurement<TAB>baseline<TAB>ctrbox<TAB>ratio<TAB>spread
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
N=${BENCH_N:-10}
OPS=${BENCH_OPS:-300}
OUT=${BENCH_OUT:-$here/results/snapshotter.txt}
PROBE=${GRPC_PROBE:-$repo/build/tools/grpc-probe}
export CTRT_TIMEOUT=60
# shellcheck source=bench/rig.bash
source "$here/rig.bash"
[[ -x ${CTRBOX_BIN:-$repo/build/ctrbox} && -x $PROBE ]] || die "build/ctrbox and build/tools/grpc-probe needed (make all build/tools/grpc-probe)"

bench_cleanup() {
	snap_stop sqltrace
	for sn in overlayfs ctrbox; do
		c "$sn" images rm --sync "$TEST_IMAGE" >/dev/null 2>&1
		c "$sn" snapshots --snapshotter "$sn" ls 2>/dev/null | awk 'NR > 1 { print $1 }' |
			xargs -r ctr -a "$CTRD_SOCK" -n "bench-$sn" snapshots --snapshotter "$sn" rm >/dev/null 2>&1
		ctr -a "$CTRD_SOCK" namespaces rm "bench-$sn" >/dev/null 2>&1
	done
}
rig_up "with the proxy snapshotters"
TAR=$CTRBOX_TEST_DIR/img.tar
ctrt images export "$TAR" "$TEST_IMAGE"

# c SNAPSHOTTER ARGS...: ctr in that snapshotter's own namespace
c() { local sn=$1; shift; timeout -k 5 60 ctr -a "$CTRD_SOCK" -n "bench-$sn" "$@"; }
ms() { echo $(((${EPOCHREALTIME/./} - $1) / 1000)); }

round() {
	local sn=$1 i=$2 t0 t
	t0=${EPOCHREALTIME/./}
	c "$sn" images import --snapshotter "$sn" "$TAR" >/dev/null
	c "$sn" run --fifo-dir "$CTRBOX_TEST_DIR/fifo" --snapshotter "$sn" --rm "$TEST_IMAGE" "b$i" true
	t=$(ms "$t0")
	c "$sn" images rm --sync "$TEST_IMAGE" >/dev/null
	echo "$t"
}

for sn in overlayfs ctrbox; do round "$sn" 0 >/dev/null; done # warm-up
declare -A times
say "import+unpack+run: $N rounds each"
for ((i = 1; i <= N; i++)); do
	if ((i % 2)); then order="overlayfs ctrbox"; else order="ctrbox overlayfs"; fi
	for sn in $order; do times[$sn]+="$(round "$sn" "$i") "; done
done

# stats: "median p10 p90 n" (nearest rank) of the numbers on stdin
stats() {
	tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END {
		i10 = int(NR * 0.1 + 0.999); if (i10 < 1) i10 = 1; i90 = int(NR * 0.9 + 0.999)
		printf "%d %d %d %d", a[int((NR + 1) / 2)], a[i10], a[i90], NR }'
}

# Rounds in CHUNKS alternating chunks (ABBA), so that drift in fsync latency hits both; the row
# is the median of the per-chunk rates.
CHUNKS=${BENCH_CHUNKS:-8}
say "Prepare/Commit/Remove: $OPS rounds each, in $CHUNKS chunks"
declare -A chain rates
for sn in overlayfs ctrbox; do
	c "$sn" images import --snapshotter "$sn" "$TAR" >/dev/null
	chain[$sn]=$(c "$sn" snapshots --snapshotter "$sn" ls | awk '$NF == "Committed" { print $1; exit }')
done
per=$(((OPS + CHUNKS - 1) / CHUNKS))
for ((k = 1; k <= CHUNKS; k++)); do
	if ((k % 2)); then order="overlayfs ctrbox direct"; else order="direct ctrbox overlayfs"; fi
	for sn in $order; do
		if [[ $sn == direct ]]; then # ctrbox's own socket, parent "": no containerd in the path
			out=$("$PROBE" "$(snap_sock ctrbox)" bench "$per" "") || die "direct: $out"
		else
			out=$("$PROBE" -n "bench-$sn" -s "$sn" "$CTRD_SOCK" bench "$per" "${chain[$sn]}") || die "$sn: $out"
		fi
		rates[$sn]+="$(awk '{ printf "%d", $6 }' <<<"$out") "
	done
done
# ---- 3. profile (counts, not times: strace slows what it traces) ----
PROF=${BENCH_PROF:-100}
declare -A prof=()
# strace_count PID ROUNDS-COMMAND...: "syscalls fsyncs" per round of PID while the command runs
strace_count() {
	local pid=$1 out=$CTRBOX_TEST_DIR/strace.$RANDOM sp i
	shift
	strace -c -f -qq -p "$pid" -o "$out" 2>/dev/null &
	sp=$!
	# strace is attached once the target's state says so (TracerPid), not after a guess
	for ((i = 0; i < 100; i++)); do
		[[ $(awk '/^TracerPid/ { print $2 }' "/proc/$pid/status") != 0 ]] && break
		sleep 0.05
	done
	"$@" >/dev/null || die "profile rounds: $*"
	kill -INT "$sp"
	wait "$sp" || true
	awk -v n="$PROF" '$NF == "total" { t = $4 } $NF == "fsync" || $NF == "fdatasync" { f += $4 }
		END { printf "%.1f %.1f", t / n, f / n }' "$out"
	rm -f "$out"
}
if command -v strace >/dev/null; then
	say "profile: $PROF rounds each under strace -c"
	cpid=$(cat "$CTRBOX_TEST_DIR/containerd.pid")
	spid=$(snap_pid ctrbox)
	prof[ctrd_overlayfs]=$(strace_count "$cpid" "$PROBE" -n bench-overlayfs -s overlayfs "$CTRD_SOCK" bench "$PROF" "${chain[overlayfs]}")
	prof[ctrd_ctrbox]=$(strace_count "$cpid" "$PROBE" -n bench-ctrbox -s ctrbox "$CTRD_SOCK" bench "$PROF" "${chain[ctrbox]}")
	prof[snap_ctrbox]=$(strace_count "$spid" "$PROBE" -n bench-ctrbox -s ctrbox "$CTRD_SOCK" bench "$PROF" "${chain[ctrbox]}")
	prof[snap_direct]=$(strace_count "$spid" "$PROBE" "$(snap_sock ctrbox)" bench "$PROF" "")
fi
# statements: a private snapshotter that logs each one (debug level, "sql: ...")
(export CTRBOX_SNAPSHOTTER_SQL_TRACE=1 && snap_start sqltrace overlayfs) || die "sqltrace snapshotter"
"$PROBE" "$(snap_sock sqltrace)" prepare layer "" >/dev/null && "$PROBE" "$(snap_sock sqltrace)" commit layer-c layer >/dev/null
sql0=$(grep -c 'msg="sql: ' "$CTRBOX_TEST_DIR/snap-sqltrace.log")
"$PROBE" "$(snap_sock sqltrace)" bench "$PROF" layer-c >/dev/null
sql1=$(grep -c 'msg="sql: ' "$CTRBOX_TEST_DIR/snap-sqltrace.log")
snap_stop sqltrace
prof[sql]=$(awk -v a="$sql0" -v b="$sql1" -v n="$PROF" 'BEGIN { printf "%.1f", (b - a) / n }')

declare -A ops ops_p10 ops_p90
for sn in overlayfs ctrbox direct; do
	read -r ops[$sn] ops_p10[$sn] ops_p90[$sn] _ <<<"$(stats <<<"${rates[$sn]}")"
done

if [[ -n ${BENCH_ROWS:-} ]]; then
	read -r m_o p10_o p90_o _ <<<"$(stats <<<"${times[overlayfs]}")"
	read -r m_c p10_c p90_c _ <<<"$(stats <<<"${times[ctrbox]}")"
	{
		printf 'ROW\t%s\t%s\t%s\t%.2f\t%s\n' 'snapshotter: import + unpack + `run --rm` (ms)' "$m_o" "$m_c" \
			"$(awk -v a="$m_c" -v b="$m_o" 'BEGIN { print a / b }')" "p10-p90 $p10_o-$p90_o / $p10_c-$p90_c"
		printf 'ROW\t%s\t%s\t%s\t%.2f\t%s\n' 'snapshotter: Prepare+Commit+Remove via containerd (rounds/s, higher is better)' \
			"${ops[overlayfs]}" "${ops[ctrbox]}" "$(awk -v a="${ops[ctrbox]}" -v b="${ops[overlayfs]}" 'BEGIN { print a / b }')" \
			"p10-p90 of $CHUNKS chunks ${ops_p10[overlayfs]}-${ops_p90[overlayfs]} / ${ops_p10[ctrbox]}-${ops_p90[ctrbox]}"
		printf 'ROW\t%s\t%s\t%s\t%s\t%s\n' "snapshotter: the same, direct on ctrbox's socket (rounds/s)" - "${ops[direct]}" - \
			"p10-p90 of $CHUNKS chunks ${ops_p10[direct]}-${ops_p90[direct]}"
	} >>"$BENCH_ROWS"
fi

{
	echo "# bench/snapshotter.sh $(date -u +%Y-%m-%dT%H:%MZ), containerd $(containerd --version | awk '{ print $3 }'), kernel $(uname -r)"
	echo "# image: $TEST_IMAGE ($(du -k "$TAR" | cut -f1) kB tar, 1 layer)"
	read -r m_o p10_o p90_o n_o <<<"$(stats <<<"${times[overlayfs]}")"
	read -r m_c p10_c p90_c n_c <<<"$(stats <<<"${times[ctrbox]}")"
	printf '%-44s %14s %14s %7s\n' "" "overlayfs" "ctrbox" "ratio"
	printf '%-44s %11s ms %11s ms %7.2f\n' "import+unpack+run --rm, median (N=$n_o)" "$m_o" "$m_c" "$(awk -v a="$m_c" -v b="$m_o" 'BEGIN { print a / b }')"
	printf '%-44s %14s %14s\n' "  p10 / p90 (ms)" "$p10_o / $p90_o" "$p10_c / $p90_c"
	printf '%-44s %14s %14s %7.2f\n' "rounds/s via containerd (median of $CHUNKS)" "${ops[overlayfs]}" "${ops[ctrbox]}" "$(awk -v a="${ops[ctrbox]}" -v b="${ops[overlayfs]}" 'BEGIN { print b / a }')"
	printf '%-44s %14s %14s\n' "rounds/s direct on ctrbox's socket" "-" "${ops[direct]}"
	if [[ -n ${prof[snap_ctrbox]:-} ]]; then
		read -r sc_o fs_o <<<"${prof[ctrd_overlayfs]}"
		read -r sc_c fs_c <<<"${prof[ctrd_ctrbox]}"
		read -r sc_s fs_s <<<"${prof[snap_ctrbox]}"
		read -r sc_d fs_d <<<"${prof[snap_direct]}"
		printf '%-44s %14s %14s\n' "profile, per round ($PROF rounds, strace -c):" "" ""
		printf '%-44s %14s %14s\n' "  syscalls: containerd" "$sc_o" "$sc_c"
		printf '%-44s %14s %14s\n' "  syscalls: ctrbox-snapshotter (direct)" "-" "$sc_s ($sc_d)"
		printf '%-44s %14s %14s\n' "  fsync+fdatasync: containerd" "$fs_o" "$fs_c"
		printf '%-44s %14s %14s\n' "  fsync+fdatasync: ctrbox-snapshotter (direct)" "-" "$fs_s ($fs_d)"
	fi
	printf '%-44s %14s %14s\n' "  SQL statements per round (direct, parent)" "-" "${prof[sql]}"
	echo "# a round = Prepare (on the image's layer; direct: no parent) + Commit + Remove"
	echo "# ratio: ctrbox time / overlayfs time (rounds/s rows: overlayfs rate / ctrbox rate), lower is better"
} | tee "$OUT"
