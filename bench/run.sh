#!/usr/bin/env bash
# make bench: ctrbox's runc shim vs containerd 1.6's Go shim (/usr/bin/containerd-shim-runc-v2),
# side by side on one private containerd (the bats rig, as tests/demo.sh uses it):
#   1. `ctr run --rm IMG id true` latency, N runs each, interleaved (ABBA order)
#   2. `ctr task exec` latency, or "n/a" while ctrbox answers Exec with an error
#   3. memory of the shim processes with 20 and 50 idle containers: RSS, PSS, USS, threads
#   4. binary sizes (as shipped, and stripped)
# Progress goes to stderr; the table to stdout and to bench/results/latest.txt. See bench/README.md.
#
# Environment: BENCH_N (30) runs per latency row, BENCH_KS ("20 50") container counts,
# BENCH_WARMUP (2) unrecorded runs per shim, BENCH_SETTLE (3) seconds before reading memory,
# BENCH_CTR_TIMEOUT (30) seconds for every ctr call, BENCH_OUT (bench/results/latest.txt),
# CTRBOX_BIN (build/ctrbox) the binary to measure, BENCH_ROWS (unset) a file to which one
# machine-readable line per row is appended for bench/all.sh:
# ROW<TAB>measurement<TAB>baseline<TAB>ctrbox<TAB>ratio<TAB>spread
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME with a '.', sort -n as expected

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
N=${BENCH_N:-30}
KS=${BENCH_KS:-20 50}
WARMUP=${BENCH_WARMUP:-2}
SETTLE=${BENCH_SETTLE:-3}
OUT=${BENCH_OUT:-$here/results/latest.txt}
export CTRT_TIMEOUT=${BENCH_CTR_TIMEOUT:-30} # ctrt wraps every ctr call in timeout(1)
# shellcheck source=bench/rig.bash
source "$here/rig.bash"

[[ $N =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer (got '$N')"
CB_SRC=${CTRBOX_BIN:-$repo/build/ctrbox}
[[ -x $CB_SRC ]] || die "$CB_SRC missing (run make)"
[[ -x /usr/bin/containerd-shim-runc-v2 ]] || die "no /usr/bin/containerd-shim-runc-v2 (apt-get install containerd)"

rig_up "and importing the busybox image"
say "rig ready: $CTRBOX_TEST_DIR (namespace $CTRD_NS)"

# Snapshot build/ctrbox: other people may rebuild it while the bench runs. The copy is named by
# a containerd-shim-runc-v2 symlink, like $SHIMDIR's (ctrbox dispatches on argv[0]).
CB_BIN=$CTRBOX_TEST_DIR/bench/ctrbox
mkdir -p "$CTRBOX_TEST_DIR/bench/bin"
cp "$CB_SRC" "$CB_BIN"
ln -s "$CB_BIN" "$CTRBOX_TEST_DIR/bench/bin/containerd-shim-runc-v2"

KINDS=(go cb)
declare -A RT=([go]=$GO_SHIM [cb]=$CTRBOX_TEST_DIR/bench/bin/containerd-shim-runc-v2)
declare -A EXE=([go]=$(readlink -f "$GO_SHIM") [cb]=$CB_BIN)
declare -A NAME=([go]=Go [cb]=ctrbox)
declare -A R # results: R[kind,metric]

# ---- helpers ----

# timed_ctr ARGS...: ctrt ARGS with stdin from /dev/null, output discarded; wall time in $LAT_US.
timed_ctr() {
	local t0 t1
	t0=${EPOCHREALTIME/./}
	ctrt "$@" </dev/null >/dev/null 2>"$CTRBOX_TEST_DIR/bench/ctr.err" || {
		say "ctr $* failed: $(tail -3 "$CTRBOX_TEST_DIR/bench/ctr.err")"
		return 1
	}
	t1=${EPOCHREALTIME/./}
	LAT_US=$((t1 - t0))
}

# stats FILE: of the numbers in FILE (microseconds): median p10 p90 min max, in ms.
# Percentiles by nearest rank; the median of an even count is the mean of the middle two.
stats() {
	sort -n "$1" | awk '
		{ v[NR] = $1 }
		function rank(p,  i) { i = int(p * NR / 100 + 0.999999); return v[i < 1 ? 1 : i] }
		END {
			med = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.1f %.1f %.1f %.1f %.1f\n", med / 1000, rank(10) / 1000, rank(90) / 1000, v[1] / 1000, v[NR] / 1000
		}'
}

# put_stats KIND PREFIX FILE: R[KIND,PREFIX_med|_p10|_p90|_min|_max] from stats FILE.
put_stats() {
	local s
	read -r -a s < <(stats "$3")
	R[$1,$2_med]=${s[0]} R[$1,$2_p10]=${s[1]} R[$1,$2_p90]=${s[2]} R[$1,$2_min]=${s[3]} R[$1,$2_max]=${s[4]}
}

# start_sleeper KIND ID: an idle container on KIND's shim.
start_sleeper() {
	timed_ctr run -d --runtime "${RT[$1]}" "$TEST_IMAGE" "$2" sleep 100000 ||
		die "cannot start $2 on ${NAME[$1]}'s shim"
}

# clean_all: remove every task and container of the namespace; wait until no shim is left.
clean_all() {
	ctrd_clean_ns "$CTRT_TIMEOUT"
	[[ -z $(ctrt container ls -q 2>/dev/null) ]] || die "containers left after cleanup: $(ctrt container ls -q | xargs)"
	wait_for 15 test -z "$(shim_pids "$CTRD_SOCK")" || die "shims left after cleanup: $(shim_pids | xargs)"
}

# shim_daemons KIND: "PID ID" for every shim daemon of our containerd running KIND's binary
# (command line: -address $CTRD_SOCK ... -id ID, no start/delete action; /proc/PID/exe).
shim_daemons() {
	local pid exe i id daemon
	local -a args
	for pid in $(shim_pids "$CTRD_SOCK"); do
		exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
		[[ ${exe% (deleted)} == "${EXE[$1]}" ]] || continue
		mapfile -d '' args 2>/dev/null <"/proc/$pid/cmdline" || continue
		id='' daemon=1
		for ((i = 1; i < ${#args[@]}; i++)); do
			case ${args[i]} in
			-id | --id) id=${args[i + 1]:-} ;;
			start | delete) daemon='' ;;
			esac
		done
		[[ -n $daemon && -n $id ]] && echo "$pid $id"
	done
	return 0
}

# measure_mem KIND K: sums over KIND's shim daemons, which must be exactly one per container.
measure_mem() {
	local kind=$1 k=$2 pid id rss pss uss thr n=0 srss=0 spss=0 suss=0 sthr=0 tmin='' tmax=0
	local -A seen=()
	while read -r pid id; do
		[[ -n $pid ]] || continue
		[[ $id == m-$kind-* ]] || die "unexpected ${NAME[$kind]} shim $pid for '$id'"
		[[ -z ${seen[$id]:-} ]] || die "two ${NAME[$kind]} shims for $id: ${seen[$id]} $pid"
		seen[$id]=$pid
		read -r rss pss uss < <(awk '/^Rss:/ { r = $2 } /^Pss:/ { p = $2 }
			/^Private_(Clean|Dirty):/ { u += $2 } END { print r + 0, p + 0, u + 0 }' "/proc/$pid/smaps_rollup")
		thr=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
		((rss > 0)) || die "cannot read /proc/$pid/smaps_rollup"
		((n += 1, srss += rss, spss += pss, suss += uss, sthr += thr))
		((thr > tmax)) && tmax=$thr
		[[ -z $tmin ]] || ((thr < tmin)) && tmin=$thr
	done < <(shim_daemons "$kind")
	((n == k)) || die "${NAME[$kind]}: $n shim daemons for $k containers"
	R[$kind,$k,procs]=$n
	R[$kind,$k,rss]=$srss R[$kind,$k,pss]=$spss R[$kind,$k,uss]=$suss
	R[$kind,$k,thr]=$(awk -v s="$sthr" -v n="$n" 'BEGIN { printf "%.1f", s / n }')
	R[$kind,$k,thr_range]="$tmin..$tmax"
	say "  ${NAME[$kind]} x$k: RSS $srss kB, PSS $spss kB, USS $suss kB, threads $sthr"
}

# ---- 0. warm-up: page cache, containerd's first-use paths; not recorded ----
say "warm-up: $WARMUP unrecorded ctr run --rm per shim"
for ((i = 1; i <= WARMUP; i++)); do
	for kind in "${KINDS[@]}"; do
		timed_ctr run --rm --runtime "${RT[$kind]}" "$TEST_IMAGE" "warm-$kind-$i" true ||
			die "${NAME[$kind]}'s shim cannot run a container"
	done
done

# ---- 1. ctr run --rm latency, interleaved: go,cb then cb,go (drift and order cancel) ----
say "ctr run --rm $TEST_IMAGE ID true: $N runs per shim, interleaved"
for kind in "${KINDS[@]}"; do : >"$CTRBOX_TEST_DIR/bench/run-$kind.us"; done
for ((i = 1; i <= N; i++)); do
	order=("${KINDS[@]}")
	((i % 2)) || order=("${KINDS[1]}" "${KINDS[0]}")
	for kind in "${order[@]}"; do
		timed_ctr run --rm --runtime "${RT[$kind]}" "$TEST_IMAGE" "lat-$kind-$i" true ||
			die "run $i on ${NAME[$kind]}'s shim failed"
		echo "$LAT_US" >>"$CTRBOX_TEST_DIR/bench/run-$kind.us"
	done
	((i % 10)) || say "  $i/$N"
done
for kind in "${KINDS[@]}"; do put_stats "$kind" run "$CTRBOX_TEST_DIR/bench/run-$kind.us"; done
say "  median: Go ${R[go,run_med]} ms, ctrbox ${R[cb,run_med]} ms"
[[ -z $(ctrt container ls -q) ]] || die "ctr run --rm left containers: $(ctrt container ls -q | xargs)"

# ---- 2. exec latency, measured once ctrbox's shim implements Exec ----
say "exec: probing ctrbox's shim with one ctr task exec"
EXEC_NA=''
for kind in "${KINDS[@]}"; do start_sleeper "$kind" "x-$kind"; done
if ! timed_ctr task exec --exec-id probe x-cb true; then
	EXEC_NA='n/a (Exec not implemented yet)'
	say "  ctrbox's shim cannot Exec yet: row is n/a"
else
	timed_ctr task exec --exec-id probe x-go true || die "the Go shim cannot Exec"
	say "ctr task exec --exec-id eN ID true: $N runs per shim, interleaved"
	for kind in "${KINDS[@]}"; do : >"$CTRBOX_TEST_DIR/bench/exec-$kind.us"; done
	for ((i = 1; i <= N; i++)); do
		order=("${KINDS[@]}")
		((i % 2)) || order=("${KINDS[1]}" "${KINDS[0]}")
		for kind in "${order[@]}"; do
			timed_ctr task exec --exec-id "e$i" "x-$kind" true || die "exec $i on ${NAME[$kind]}'s shim failed"
			echo "$LAT_US" >>"$CTRBOX_TEST_DIR/bench/exec-$kind.us"
		done
		((i % 10)) || say "  $i/$N"
	done
	for kind in "${KINDS[@]}"; do put_stats "$kind" exec "$CTRBOX_TEST_DIR/bench/exec-$kind.us"; done
	say "  median: Go ${R[go,exec_med]} ms, ctrbox ${R[cb,exec_med]} ms"
fi
clean_all

# ---- 3. memory with K idle containers, one shim kind at a time ----
for kind in "${KINDS[@]}"; do
	n=0
	for k in $KS; do
		say "memory: ${NAME[$kind]}'s shim, starting containers $((n + 1))..$k (sleep 100000)"
		while ((n < k)); do
			n=$((n + 1))
			start_sleeper "$kind" "m-$kind-$n"
		done
		sleep "$SETTLE"
		measure_mem "$kind" "$k"
	done
	say "memory: removing ${NAME[$kind]}'s $n containers"
	clean_all
done

# ---- 4. binary sizes ----
strip -o "$CTRBOX_TEST_DIR/bench/go.stripped" "$GO_SHIM"
strip -o "$CTRBOX_TEST_DIR/bench/cb.stripped" "$CB_BIN"
R[go,size]=$(stat -c %s "$GO_SHIM")
R[cb,size]=$(stat -c %s "$CB_BIN")
R[go,ssize]=$(stat -c %s "$CTRBOX_TEST_DIR/bench/go.stripped")
R[cb,ssize]=$(stat -c %s "$CTRBOX_TEST_DIR/bench/cb.stripped")

# ---- the table ----
# ratio A B: B/A with two decimals ("-" when A is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == 0) print "-"; else printf "%.2f\n", b / a }'; }
# div X Y FMT: X/Y formatted.
div() { awk -v x="$1" -v y="$2" -v f="$3" 'BEGIN { printf f "\n", x / y }'; }
row() { printf '%-44s %16s %16s %12s\n' "$@"; }

ver_cb=$(git -C "$repo" --no-optional-locks rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" --no-optional-locks diff --quiet HEAD 2>/dev/null || ver_cb+="+dirty"
cg=v1
[[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]] && cg=v2

table() {
	echo "ctrbox runc shim vs Go containerd-shim-runc-v2 ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
	echo "host: $(uname -r), $(nproc) cores, cgroup $cg; $(containerd --version | awk '{ print $1, $3 }'); runc $(runc --version | awk 'NR == 1 { print $3 }')"
	echo "ctrbox: ${CB_SRC#"$repo"/} at $ver_cb   Go: $GO_SHIM   N=$N, warm-up $WARMUP per shim"
	echo
	row "metric" "Go" "ctrbox" "ctrbox/Go"
	row "------" "--" "------" "---------"
	row "ctr run --rm IMG id true: median (ms)" "${R[go,run_med]}" "${R[cb,run_med]}" "$(ratio "${R[go,run_med]}" "${R[cb,run_med]}")"
	row "  p10 / p90 (ms)" "${R[go,run_p10]} / ${R[go,run_p90]}" "${R[cb,run_p10]} / ${R[cb,run_p90]}" \
		"$(ratio "${R[go,run_p10]}" "${R[cb,run_p10]}") / $(ratio "${R[go,run_p90]}" "${R[cb,run_p90]}")"
	row "  min / max (ms)" "${R[go,run_min]} / ${R[go,run_max]}" "${R[cb,run_min]} / ${R[cb,run_max]}" ""
	if [[ -n $EXEC_NA ]]; then
		echo "exec: $EXEC_NA"
	else
		row "ctr task exec id true: median (ms)" "${R[go,exec_med]}" "${R[cb,exec_med]}" "$(ratio "${R[go,exec_med]}" "${R[cb,exec_med]}")"
		row "  p10 / p90 (ms)" "${R[go,exec_p10]} / ${R[go,exec_p90]}" "${R[cb,exec_p10]} / ${R[cb,exec_p90]}" \
			"$(ratio "${R[go,exec_p10]}" "${R[cb,exec_p10]}") / $(ratio "${R[go,exec_p90]}" "${R[cb,exec_p90]}")"
		row "  min / max (ms)" "${R[go,exec_min]} / ${R[go,exec_max]}" "${R[cb,exec_min]} / ${R[cb,exec_max]}" ""
	fi
	local k m label
	for k in $KS; do
		row "$k idle containers: shim processes" "${R[go,$k,procs]}" "${R[cb,$k,procs]}" ""
		for m in rss pss uss; do
			label=${m^^}
			row "  $label sum (MB)" "$(div "${R[go,$k,$m]}" 1024 %.1f)" "$(div "${R[cb,$k,$m]}" 1024 %.1f)" \
				"$(ratio "${R[go,$k,$m]}" "${R[cb,$k,$m]}")"
		done
		for m in rss pss uss; do
			label=${m^^}
			row "  $label per container (kB)" "$(div "${R[go,$k,$m]}" "$k" %.0f)" "$(div "${R[cb,$k,$m]}" "$k" %.0f)" \
				"$(ratio "${R[go,$k,$m]}" "${R[cb,$k,$m]}")"
		done
		row "  threads per shim (mean, min..max)" "${R[go,$k,thr]} (${R[go,$k,thr_range]})" \
			"${R[cb,$k,thr]} (${R[cb,$k,thr_range]})" "$(ratio "${R[go,$k,thr]}" "${R[cb,$k,thr]}")"
	done
	row "binary size (kB)" "$((${R[go,size]} / 1024))" "$((${R[cb,size]} / 1024))" "$(ratio "${R[go,size]}" "${R[cb,size]}")"
	row "  stripped (kB)" "$((${R[go,ssize]} / 1024))" "$((${R[cb,ssize]} / 1024))" "$(ratio "${R[go,ssize]}" "${R[cb,ssize]}")"
	echo
	echo "USS = Private_Clean + Private_Dirty, PSS and RSS from /proc/PID/smaps_rollup of each shim daemon;"
	echo "latency is the wall time of the ctr command (incl. ctr's own start-up and timeout(1)); $((SECONDS - t_start)) s in all."
}

# rows: the main rows for bench/all.sh's combined table (the largest K only), as ROW lines.
rows() {
	local k m label
	rowtsv() { printf 'ROW\t%s\t%s\t%s\t%s\t%s\n' "$@"; }
	rowtsv 'shim: `ctr run --rm IMG id true` (ms)' "${R[go,run_med]}" "${R[cb,run_med]}" \
		"$(ratio "${R[go,run_med]}" "${R[cb,run_med]}")" \
		"p10-p90 ${R[go,run_p10]}-${R[go,run_p90]} / ${R[cb,run_p10]}-${R[cb,run_p90]}"
	if [[ -n $EXEC_NA ]]; then
		rowtsv 'shim: `ctr task exec` (ms)' - - - "$EXEC_NA"
	else
		rowtsv 'shim: `ctr task exec` (ms)' "${R[go,exec_med]}" "${R[cb,exec_med]}" \
			"$(ratio "${R[go,exec_med]}" "${R[cb,exec_med]}")" \
			"p10-p90 ${R[go,exec_p10]}-${R[go,exec_p90]} / ${R[cb,exec_p10]}-${R[cb,exec_p90]}"
	fi
	k=${KS##* }
	for m in uss pss rss; do
		label=${m^^}
		rowtsv "shim: $label per shim, $k idle containers (kB)" "$(div "${R[go,$k,$m]}" "$k" %.0f)" \
			"$(div "${R[cb,$k,$m]}" "$k" %.0f)" "$(ratio "${R[go,$k,$m]}" "${R[cb,$k,$m]}")" \
			"one sample of $k shims (sum / $k)"
	done
	rowtsv "shim: threads per shim, $k idle containers" "${R[go,$k,thr]}" "${R[cb,$k,thr]}" \
		"$(ratio "${R[go,$k,thr]}" "${R[cb,$k,thr]}")" "min..max ${R[go,$k,thr_range]} / ${R[cb,$k,thr_range]}"
	rowtsv "shim: binary size, stripped (kB)" "$((${R[go,ssize]} / 1024))" "$((${R[cb,ssize]} / 1024))" \
		"$(ratio "${R[go,ssize]}" "${R[cb,ssize]}")" \
		"as built: $((${R[go,size]} / 1024)) / $((${R[cb,size]} / 1024)) kB"
}

mkdir -p "$(dirname "$OUT")"
[[ -z ${BENCH_ROWS:-} ]] || rows >>"$BENCH_ROWS"
table | tee "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
say "table saved to $OUT"
