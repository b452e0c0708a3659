#!/usr/bin/env bash
# make bench: ctrbox's runc shim vs the Go shim of the containerd it runs on (containerd 1.6's
# /usr/bin/containerd-shim-runc-v2, or 2.1's under build/containerd2 with CTRBOX_CONTAINERD=2.1),
# side by side on one private containerd (the bats rig, as tests/demo.sh uses it):
#   1. `ctr run --rm IMG id true` latency, N runs each, interleaved (ABBA order), and beside it
#      the runc floor: the same runc create/start/delete made directly
#   2. `ctr task exec` latency, and the runc floor: `runc exec` into an idle runc container
#   3. the shim's own CPU time per container lifecycle (create, start, 10 execs, kill, delete)
#   4. the shim's CPU time and wake-ups while its container is idle, per hour
#   5. memory of the shim processes with 20 and 50 idle containers: RSS, PSS, USS, threads;
#      and per extra container in one grouped shim
#   6. binary sizes (as shipped, and stripped)
# Progress goes to stderr; the table to stdout and to bench/results/latest.txt. See bench/README.md.
#
# Environment: BENCH_N (30) runs per latency row and lifecycles per shim, BENCH_KS ("20 50")
# container counts (the last also for the grouped shim), BENCH_IDLE (60) seconds of the idle
# sample, BENCH_WARMUP (2) unrecorded runs per shim, BENCH_SETTLE (3) seconds before reading
# memory, BENCH_CTR_TIMEOUT (30) seconds for every ctr call, BENCH_OUT
# (bench/results/latest.txt), CTRBOX_BIN (build/ctrbox) the binary to measure,
# CTRBOX_CONTAINERD (1.6) the containerd (and Go shim) to run on, BENCH_ROWS (unset) a file to
# which one machine-readable line per row is appended for bench/all.sh:
# ROW<TAB>measurement<TAB>baseline<TAB>ctrbox<TAB>ratio<TAB>spread
#
# The script runs itself under bench/reaper.pl (a child subreaper that logs the final CPU time
# of every orphan that exits below it, shim daemons included; see there and bench/README.md).
set -euo pipefail
export LC_ALL=C # EPOCHREALTIME with a '.', sort -n as expected

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
if [[ -z ${BENCH_REAPED:-} ]]; then
	BENCH_REAPED=$(mktemp /tmp/ctrbox-bench-reaped.XXXXXX) || exit 1
	export BENCH_REAPED
	exec perl "$here/reaper.pl" "$BENCH_REAPED" "$0" "$@"
fi
N=${BENCH_N:-30}
IDLE=${BENCH_IDLE:-60}
CTRD_V=${CTRBOX_CONTAINERD:-1.6}
KS=${BENCH_KS:-20 50}
WARMUP=${BENCH_WARMUP:-2}
SETTLE=${BENCH_SETTLE:-3}
OUT=${BENCH_OUT:-$here/results/latest.txt}
export CTRT_TIMEOUT=${BENCH_CTR_TIMEOUT:-30} # ctrt wraps every ctr call in timeout(1)
# shellcheck source=bench/rig.bash
source "$here/rig.bash"

[[ $N =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer (got '$N')"
[[ $IDLE =~ ^[1-9][0-9]*$ ]] || die "BENCH_IDLE must be a positive integer (got '$IDLE')"
[[ $CTRD_V == 1.6 || $CTRD_V == 2.1 ]] || die "CTRBOX_CONTAINERD must be 1.6 or 2.1 (got '$CTRD_V')"
CB_SRC=${CTRBOX_BIN:-$repo/build/ctrbox}
[[ -x $CB_SRC ]] || die "$CB_SRC missing (run make)"
[[ -x /usr/bin/containerd-shim-runc-v2 ]] || die "no /usr/bin/containerd-shim-runc-v2 (apt-get install containerd)"
command -v jq >/dev/null || die "no jq"

rig_up "and importing the busybox image"
say "rig ready: $CTRBOX_TEST_DIR (namespace $CTRD_NS, containerd $CTRD_V)"
CTRD_PID=$(ctrd_pid) || die "no containerd pid"

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

# ratio A B: B/A with two decimals ("-" when A is 0).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == 0) print "-"; else printf "%.2f\n", b / a }'; }
# div X Y FMT: X/Y formatted.
div() { awk -v x="$1" -v y="$2" -v f="$3" 'BEGIN { printf f "\n", x / y }'; }
# sub A B: A - B with one decimal.
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", a - b }'; }

# mem_of PID: "USS DIRTY HEAP" in kB: USS = Private_Clean + Private_Dirty of every mapping,
# DIRTY = Private_Dirty alone (written memory: heap, stacks, data; not the binary's text, which
# is Private_Clean while no other process maps it and can be evicted), HEAP = Private_Dirty of
# the [heap] mapping (brk; Go's heap is in anonymous mappings, so about 0 there).
mem_of() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { heap = ($6 == "[heap]") }
		/^Private_(Clean|Dirty):/ { u += $2 } /^Private_Dirty:/ { d += $2; if (heap) h += $2 }
		END { print u + 0, d + 0, h + 0 }' "/proc/$1/smaps"
}

# ---- the runc floor: the runc calls the shims make, made directly ----
# A private runc root, an overlay rootfs mounted from the snapshot of a container ctr created
# (as the shims mount theirs) and two bundles with that container's spec (ctr's defaults):
# floor-run (`true`) and floor-idle (`sleep 100000`). bench_cleanup removes them.
RUNC_ROOT=$CTRBOX_TEST_DIR/bench/runc
FLOOR=$CTRBOX_TEST_DIR/bench/floor
TCK=$(getconf CLK_TCK)
# xrunc ARGS...: runc on the private root, stdio away from the terminal.
xrunc() { runc --root "$RUNC_ROOT" "$@" </dev/null >/dev/null 2>>"$FLOOR/runc.err"; }
floor_setup() {
	local -a m
	local spec b args
	mkdir -p "$RUNC_ROOT" "$FLOOR/rootfs"
	timed_ctr container create "$TEST_IMAGE" floor-src true || die "cannot create floor-src"
	read -r -a m < <(ctrt snapshots mounts "$FLOOR/rootfs" floor-src)
	# mount -t TYPE SOURCE TARGET -o OPTIONS
	[[ ${m[0]:-} == mount && ${m[1]:-} == -t && ${m[4]:-} == "$FLOOR/rootfs" && ${m[5]:-} == -o ]] ||
		die "ctr snapshots mounts: unexpected '${m[*]}'"
	mount -t "${m[2]}" "${m[3]}" -o "${m[6]}" "$FLOOR/rootfs" || die "cannot mount the floor's rootfs"
	spec=$(ctrt container info --spec floor-src) || die "ctr container info --spec floor-src failed"
	for b in run idle; do
		mkdir -p "$FLOOR/$b"
		args='["true"]'
		[[ $b == idle ]] && args='["sleep","100000"]'
		jq --arg root "$FLOOR/rootfs" --arg cg "/$CTRD_NS/floor-$b" --argjson args "$args" \
			'.root.path = $root | .process.terminal = false | .process.args = $args | .linux.cgroupsPath = $cg' \
			<<<"$spec" >"$FLOOR/$b/config.json" || die "no floor spec"
	done
}
bench_cleanup() {
	local id
	[[ -d $RUNC_ROOT ]] || return 0
	for id in $(runc --root "$RUNC_ROOT" list -q 2>/dev/null); do
		runc --root "$RUNC_ROOT" kill "$id" KILL 2>/dev/null
		runc --root "$RUNC_ROOT" delete -f "$id" 2>/dev/null
	done
	mountpoint -q "$FLOOR/rootfs" && umount "$FLOOR/rootfs"
	return 0
}
# floor_run: runc create, start and (once `true` has exited; the wait is not counted) delete
# of floor-run; their wall time in $LAT_US.
floor_run() {
	local t0 t1 t2 t3 pid
	t0=${EPOCHREALTIME/./}
	xrunc create --bundle "$FLOOR/run" --pid-file "$FLOOR/run.pid" floor-run || return 1
	xrunc start floor-run || return 1
	t1=${EPOCHREALTIME/./}
	pid=$(cat "$FLOOR/run.pid")
	wait_for 10 eval "! _alive $pid" || return 1
	t2=${EPOCHREALTIME/./}
	xrunc delete floor-run || return 1
	t3=${EPOCHREALTIME/./}
	LAT_US=$((t1 - t0 + t3 - t2))
}
# floor_exec: `runc exec floor-idle true` (it returns when true has exited); wall time in $LAT_US.
floor_exec() {
	local t0 t1
	t0=${EPOCHREALTIME/./}
	xrunc exec floor-idle true || return 1
	t1=${EPOCHREALTIME/./}
	LAT_US=$((t1 - t0))
}

# ---- the shims' own CPU time ----
# ctrd_child_ticks: containerd's cutime + cstime (/proc/PID/stat fields 16, 17): the CPU time
# of the children it has reaped, i.e. of the shims' `start` (and `delete`) action processes.
ctrd_child_ticks() {
	local s
	s=$(<"/proc/$CTRD_PID/stat")
	s=${s##*) }
	awk '{ print $14 + $15 }' <<<"$s"
}
# lifecycle KIND ID: container ID through create, start, 10 execs of `true`, kill and delete on
# KIND's shim. Sets LC_DAEMON_US: the shim daemon's own CPU time (children, i.e. runc, excluded),
# read from its zombie by bench/reaper.pl: utime + stime of the whole thread group (clock ticks,
# each truncated, so up to 2 ticks low) or, when the daemon has a single thread, that thread's
# exact run time (schedstat; LC_EXACT=1). LC_START_US / LC_START_TICKS: the start action's CPU
# time, from containerd's cutime + cstime (containerd reaps it; the sums are truncated once, so
# the mean over the lifecycles is exact to 2 ticks / N). No State RPC is made (no
# `ctr task ls`): the kill is waited for on the container's init process, which the shim reaps.
lifecycle() {
	local kind=$1 id=$2 c0 c1 pid init e tries=0 line ut st ns thr
	: >"$BENCH_REAPED" # the reaper appends (O_APPEND): lines from here on only
	c0=$(ctrd_child_ticks)
	timed_ctr container create --runtime "${RT[$kind]}" "$TEST_IMAGE" "$id" sleep 100000 || return 1
	timed_ctr task start -d "$id" || return 1
	pid=$(shim_daemons "$kind" | awk -v id="$id" '$2 == id { print $1 }')
	[[ $pid =~ ^[0-9]+$ ]] || { say "$id: no (or more than one) shim daemon: '$pid'"; return 1; }
	init=$(pgrep -P "$pid" -x sleep) || { say "$id: no container process under shim $pid"; return 1; }
	for ((e = 1; e <= 10; e++)); do
		timed_ctr task exec --exec-id "e$e" "$id" true || return 1
	done
	thr=$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status")
	timed_ctr task kill -s KILL "$id" || return 1
	wait_for 10 eval "! _alive $init" || return 1
	until ctrt task delete "$id" </dev/null >/dev/null 2>&1; do
		((++tries < 50)) || { say "$id: ctr task delete keeps failing"; return 1; }
		sleep 0.02
	done
	timed_ctr container delete "$id" || return 1
	wait_for 10 grep -q "^$pid " "$BENCH_REAPED" || { say "$id: shim daemon $pid did not exit"; return 1; }
	line=$(grep "^$pid " "$BENCH_REAPED" | tail -n 1)
	c1=$(ctrd_child_ticks)
	read -r _ ut st _ _ ns _ <<<"$line"
	if ((thr == 1 && ns >= 0)); then
		LC_DAEMON_US=$((ns / 1000)) LC_EXACT=1
	else
		LC_DAEMON_US=$(((ut + st) * 1000000 / TCK)) LC_EXACT=0
	fi
	LC_START_US=$(((c1 - c0) * 1000000 / TCK))
	LC_START_TICKS=$((c1 - c0))
}
# idle_sample PID: "NS SWITCHES TICKS" of a shim: the CPU time of all its threads
# (/proc/PID/task/*/schedstat, ns), their voluntary + involuntary context switches (each
# time a thread ran after sleeping or was preempted: its wake-ups), and utime + stime.
idle_sample() {
	local t ns=0 sw=0 a s
	for t in /proc/"$1"/task/*; do
		read -r a _ <"$t/schedstat" || continue
		s=$(awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }' "$t/status")
		((ns += a, sw += s))
	done
	s=$(<"/proc/$1/stat")
	s=${s##*) }
	echo "$ns $sw $(awk '{ print $12 + $13 }' <<<"$s")"
}
# mean FILE: the mean of the numbers in FILE (microseconds), in ms.
mean() { awk '{ s += $1 } END { printf "%.1f\n", s / NR / 1000 }' "$1"; }

# ---- 0. warm-up: page cache, containerd's first-use paths; not recorded ----
say "warm-up: $WARMUP unrecorded ctr run --rm per shim"
for ((i = 1; i <= WARMUP; i++)); do
	for kind in "${KINDS[@]}"; do
		timed_ctr run --rm --runtime "${RT[$kind]}" "$TEST_IMAGE" "warm-$kind-$i" true ||
			die "${NAME[$kind]}'s shim cannot run a container"
	done
done

# ---- 1. ctr run --rm latency, interleaved: go,cb,floor then floor,cb,go (drift and order
# cancel); the floor is runc create/start/delete of the same spec and rootfs kind, directly ----
floor_setup
say "warm-up: $WARMUP unrecorded runc floor rounds"
for ((i = 1; i <= WARMUP; i++)); do floor_run || die "runc floor: $(tail -3 "$FLOOR/runc.err")"; done
say "ctr run --rm $TEST_IMAGE ID true: $N runs per shim and of the runc floor, interleaved"
for kind in "${KINDS[@]}" floor; do : >"$CTRBOX_TEST_DIR/bench/run-$kind.us"; done
for ((i = 1; i <= N; i++)); do
	order=("${KINDS[@]}" floor)
	((i % 2)) || order=(floor "${KINDS[1]}" "${KINDS[0]}")
	for kind in "${order[@]}"; do
		if [[ $kind == floor ]]; then
			floor_run || die "runc floor round $i failed: $(tail -3 "$FLOOR/runc.err")"
		else
			timed_ctr run --rm --runtime "${RT[$kind]}" "$TEST_IMAGE" "lat-$kind-$i" true ||
				die "run $i on ${NAME[$kind]}'s shim failed"
		fi
		echo "$LAT_US" >>"$CTRBOX_TEST_DIR/bench/run-$kind.us"
	done
	((i % 10)) || say "  $i/$N"
done
for kind in "${KINDS[@]}" floor; do put_stats "$kind" run "$CTRBOX_TEST_DIR/bench/run-$kind.us"; done
say "  median: Go ${R[go,run_med]} ms, ctrbox ${R[cb,run_med]} ms, runc floor ${R[floor,run_med]} ms"
left=$(ctrt container ls -q | grep -vx floor-src || true)
[[ -z $left ]] || die "ctr run --rm left containers: $(echo "$left" | xargs)"

# ---- 2. exec latency, measured once ctrbox's shim implements Exec; the floor: runc exec ----
say "exec: probing ctrbox's shim with one ctr task exec"
EXEC_NA=''
for kind in "${KINDS[@]}"; do start_sleeper "$kind" "x-$kind"; done
if ! timed_ctr task exec --exec-id probe x-cb true; then
	EXEC_NA='n/a (Exec not implemented yet)'
	say "  ctrbox's shim cannot Exec yet: row is n/a"
else
	timed_ctr task exec --exec-id probe x-go true || die "the Go shim cannot Exec"
	xrunc run --detach --bundle "$FLOOR/idle" floor-idle || die "runc floor: no idle container: $(tail -3 "$FLOOR/runc.err")"
	floor_exec || die "runc floor: exec failed: $(tail -3 "$FLOOR/runc.err")"
	say "ctr task exec --exec-id eN ID true: $N runs per shim and of the runc floor, interleaved"
	for kind in "${KINDS[@]}" floor; do : >"$CTRBOX_TEST_DIR/bench/exec-$kind.us"; done
	for ((i = 1; i <= N; i++)); do
		order=("${KINDS[@]}" floor)
		((i % 2)) || order=(floor "${KINDS[1]}" "${KINDS[0]}")
		for kind in "${order[@]}"; do
			if [[ $kind == floor ]]; then
				floor_exec || die "runc floor exec $i failed: $(tail -3 "$FLOOR/runc.err")"
			else
				timed_ctr task exec --exec-id "e$i" "x-$kind" true || die "exec $i on ${NAME[$kind]}'s shim failed"
			fi
			echo "$LAT_US" >>"$CTRBOX_TEST_DIR/bench/exec-$kind.us"
		done
		((i % 10)) || say "  $i/$N"
	done
	for kind in "${KINDS[@]}" floor; do put_stats "$kind" exec "$CTRBOX_TEST_DIR/bench/exec-$kind.us"; done
	say "  median: Go ${R[go,exec_med]} ms, ctrbox ${R[cb,exec_med]} ms, runc floor ${R[floor,exec_med]} ms"
	xrunc kill floor-idle KILL
	# shellcheck disable=SC2016 # expanded by eval, each time
	wait_for 10 eval '[[ $(runc --root "$RUNC_ROOT" state floor-idle 2>/dev/null | jq -r .status) == stopped ]]' || true
	xrunc delete -f floor-idle || die "runc floor: cannot delete floor-idle"
fi
bench_cleanup
clean_all

# ---- 3. the shim's own CPU time per container lifecycle, N per shim, ABBA ----
if [[ -z $EXEC_NA ]]; then
	say "CPU per lifecycle (create, start, 10 execs, kill, delete): $N per shim, interleaved"
	for kind in "${KINDS[@]}"; do : >"$CTRBOX_TEST_DIR/bench/lcd-$kind.us"; : >"$CTRBOX_TEST_DIR/bench/lcs-$kind.us"; done
	for ((i = 1; i <= N; i++)); do
		order=("${KINDS[@]}")
		((i % 2)) || order=("${KINDS[1]}" "${KINDS[0]}")
		for kind in "${order[@]}"; do
			lifecycle "$kind" "lc-$kind-$i" || die "lifecycle $i on ${NAME[$kind]}'s shim failed"
			echo "$LC_DAEMON_US" >>"$CTRBOX_TEST_DIR/bench/lcd-$kind.us"
			echo "$LC_START_US" >>"$CTRBOX_TEST_DIR/bench/lcs-$kind.us"
			R[$kind,lc_exact]=${R[$kind,lc_exact]:-1}
			((LC_EXACT)) || R[$kind,lc_exact]=0
			R[$kind,lcs_ticks]=$((${R[$kind,lcs_ticks]:-0} + LC_START_TICKS))
			say "    $kind $i: daemon $LC_DAEMON_US us (exact $LC_EXACT), start action $LC_START_US us"
		done
		((i % 10)) || say "  $i/$N"
	done
	for kind in "${KINDS[@]}"; do
		put_stats "$kind" lcd "$CTRBOX_TEST_DIR/bench/lcd-$kind.us"
		put_stats "$kind" lcs "$CTRBOX_TEST_DIR/bench/lcs-$kind.us"
		R[$kind,lcd_mean]=$(mean "$CTRBOX_TEST_DIR/bench/lcd-$kind.us")
		R[$kind,lcs_mean]=$(mean "$CTRBOX_TEST_DIR/bench/lcs-$kind.us")
	done
	say "  daemon mean: Go ${R[go,lcd_mean]} ms, ctrbox ${R[cb,lcd_mean]} ms; start action mean: Go ${R[go,lcs_mean]} ms, ctrbox ${R[cb,lcs_mean]} ms"
	clean_all
fi

# ---- 4. idle: one container per shim, both sampled over the same BENCH_IDLE seconds ----
say "idle: one sleeping container per shim, sampled over $IDLE s"
declare -A IPID=() I0=()
for kind in "${KINDS[@]}"; do
	start_sleeper "$kind" "idle-$kind"
	IPID[$kind]=$(shim_daemons "$kind" | awk -v id="idle-$kind" '$2 == id { print $1 }')
	[[ ${IPID[$kind]} =~ ^[0-9]+$ ]] || die "idle-$kind: no shim daemon"
done
sleep "$SETTLE"
for kind in "${KINDS[@]}"; do I0[$kind]=$(idle_sample "${IPID[$kind]}"); done
sleep "$IDLE"
for kind in "${KINDS[@]}"; do
	read -r ns0 sw0 tk0 <<<"${I0[$kind]}"
	read -r ns1 sw1 tk1 < <(idle_sample "${IPID[$kind]}")
	R[$kind,idle_cpu]=$(awk -v d=$((ns1 - ns0)) -v s="$IDLE" 'BEGIN { printf "%.1f", d / 1e6 * 3600 / s }')
	R[$kind,idle_wake]=$(awk -v d=$((sw1 - sw0)) -v s="$IDLE" 'BEGIN { printf "%.0f", d * 3600 / s }')
	R[$kind,idle_ticks]=$(awk -v d=$((tk1 - tk0)) -v s="$IDLE" 'BEGIN { printf "%.0f", d * 3600 / s }')
	R[$kind,idle_raw]="$((sw1 - sw0)) wake-ups, $(((ns1 - ns0) / 1000)) us in ${IDLE} s"
	R[$kind,idle_thr]=$(find /proc/"${IPID[$kind]}"/task -mindepth 1 -maxdepth 1 | wc -l)
	say "  ${NAME[$kind]}: ${R[$kind,idle_raw]} (${R[$kind,idle_thr]} threads)"
done
clean_all

# ---- 5. memory with K idle containers, one shim kind at a time ----
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

# ---- 5b. one grouped shim: the memory each more container costs ----
# Both shims serve every container whose spec has the annotation io.containerd.runc.v2.group=G
# from one process (the start action hashes G instead of the id into the socket name).
KG=${KS##* }
((KG >= 2)) || die "BENCH_KS: the last count must be 2 or more for the grouped shim"
for kind in "${KINDS[@]}"; do
	say "grouped: ${NAME[$kind]}'s shim, $KG containers in one group"
	for ((n = 1; n <= KG; n++)); do
		timed_ctr run -d --runtime "${RT[$kind]}" --annotation "io.containerd.runc.v2.group=bench-$kind" \
			"$TEST_IMAGE" "g-$kind-$n" sleep 100000 || die "cannot start g-$kind-$n"
		if ((n == 1 || n == KG)); then
			sleep "$SETTLE"
			mapfile -t gd < <(shim_daemons "$kind")
			[[ ${#gd[@]} == 1 && ${gd[0]#* } == "g-$kind-1" ]] || die "${NAME[$kind]}: not one grouped shim: ${gd[*]}"
			read -r uss dirty heap < <(mem_of "${gd[0]%% *}")
			R[$kind,g$n,uss]=$uss R[$kind,g$n,dirty]=$dirty R[$kind,g$n,heap]=$heap
			say "  ${NAME[$kind]} x$n in one shim: USS $uss kB, Private_Dirty $dirty kB, [heap] Private_Dirty $heap kB"
		fi
	done
	R[$kind,g_uss]=$(div $((${R[$kind,g$KG,uss]} - ${R[$kind,g1,uss]})) $((KG - 1)) %.1f)
	R[$kind,g_dirty]=$(div $((${R[$kind,g$KG,dirty]} - ${R[$kind,g1,dirty]})) $((KG - 1)) %.1f)
	R[$kind,g_heap]=$(div $((${R[$kind,g$KG,heap]} - ${R[$kind,g1,heap]})) $((KG - 1)) %.1f)
	clean_all
done

# ---- 6. binary sizes ----
strip -o "$CTRBOX_TEST_DIR/bench/go.stripped" "$GO_SHIM"
strip -o "$CTRBOX_TEST_DIR/bench/cb.stripped" "$CB_BIN"
R[go,size]=$(stat -c %s "$GO_SHIM")
R[cb,size]=$(stat -c %s "$CB_BIN")
R[go,ssize]=$(stat -c %s "$CTRBOX_TEST_DIR/bench/go.stripped")
R[cb,ssize]=$(stat -c %s "$CTRBOX_TEST_DIR/bench/cb.stripped")

# ---- the table ----
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
	row "  runc floor: create+start+delete (ms)" "${R[floor,run_med]}" "${R[floor,run_med]}" "p10/p90 ${R[floor,run_p10]}/${R[floor,run_p90]}"
	row "  above the floor (ms)" "$(sub "${R[go,run_med]}" "${R[floor,run_med]}")" "$(sub "${R[cb,run_med]}" "${R[floor,run_med]}")" \
		"$(ratio "$(sub "${R[go,run_med]}" "${R[floor,run_med]}")" "$(sub "${R[cb,run_med]}" "${R[floor,run_med]}")")"
	if [[ -n $EXEC_NA ]]; then
		echo "exec: $EXEC_NA"
	else
		row "ctr task exec id true: median (ms)" "${R[go,exec_med]}" "${R[cb,exec_med]}" "$(ratio "${R[go,exec_med]}" "${R[cb,exec_med]}")"
		row "  p10 / p90 (ms)" "${R[go,exec_p10]} / ${R[go,exec_p90]}" "${R[cb,exec_p10]} / ${R[cb,exec_p90]}" \
			"$(ratio "${R[go,exec_p10]}" "${R[cb,exec_p10]}") / $(ratio "${R[go,exec_p90]}" "${R[cb,exec_p90]}")"
		row "  min / max (ms)" "${R[go,exec_min]} / ${R[go,exec_max]}" "${R[cb,exec_min]} / ${R[cb,exec_max]}" ""
		row "  runc floor: runc exec (ms)" "${R[floor,exec_med]}" "${R[floor,exec_med]}" "p10/p90 ${R[floor,exec_p10]}/${R[floor,exec_p90]}"
		row "  above the floor (ms)" "$(sub "${R[go,exec_med]}" "${R[floor,exec_med]}")" "$(sub "${R[cb,exec_med]}" "${R[floor,exec_med]}")" \
			"$(ratio "$(sub "${R[go,exec_med]}" "${R[floor,exec_med]}")" "$(sub "${R[cb,exec_med]}" "${R[floor,exec_med]}")")"
		row "shim CPU per lifecycle, daemon: median (ms)" "${R[go,lcd_med]}" "${R[cb,lcd_med]}" "$(ratio "${R[go,lcd_med]}" "${R[cb,lcd_med]}")"
		row "  mean (ms)" "${R[go,lcd_mean]}" "${R[cb,lcd_mean]}" "$(ratio "${R[go,lcd_mean]}" "${R[cb,lcd_mean]}")"
		row "  p10 / p90 (ms)" "${R[go,lcd_p10]} / ${R[go,lcd_p90]}" "${R[cb,lcd_p10]} / ${R[cb,lcd_p90]}" ""
		row "  start action: median (ms)" "${R[go,lcs_med]}" "${R[cb,lcs_med]}" "$(ratio "${R[go,lcs_med]}" "${R[cb,lcs_med]}")"
		row "  start action: mean (ms)" "${R[go,lcs_mean]}" "${R[cb,lcs_mean]}" "$(ratio "${R[go,lcs_mean]}" "${R[cb,lcs_mean]}")"
	fi
	row "idle shim: CPU per hour (ms)" "${R[go,idle_cpu]}" "${R[cb,idle_cpu]}" "$(ratio "${R[go,idle_cpu]}" "${R[cb,idle_cpu]}")"
	row "  wake-ups per hour" "${R[go,idle_wake]}" "${R[cb,idle_wake]}" "$(ratio "${R[go,idle_wake]}" "${R[cb,idle_wake]}")"
	row "  clock ticks per hour (utime+stime)" "${R[go,idle_ticks]}" "${R[cb,idle_ticks]}" ""
	row "  sampled (${IDLE} s)" "${R[go,idle_raw]}" "${R[cb,idle_raw]}" ""
	row "grouped shim, $KG containers: shim processes" 1 1 ""
	row "  Private_Dirty per extra container (kB)" "${R[go,g_dirty]}" "${R[cb,g_dirty]}" "$(ratio "${R[go,g_dirty]}" "${R[cb,g_dirty]}")"
	row "  USS per extra container (kB)" "${R[go,g_uss]}" "${R[cb,g_uss]}" "$(ratio "${R[go,g_uss]}" "${R[cb,g_uss]}")"
	row "  [heap] Private_Dirty per extra (kB)" "${R[go,g_heap]}" "${R[cb,g_heap]}" ""
	row "  USS with 1 / $KG containers (kB)" "${R[go,g1,uss]} / ${R[go,g$KG,uss]}" "${R[cb,g1,uss]} / ${R[cb,g$KG,uss]}" ""
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
	echo "floor: the same runc calls made directly (private --root, same spec and overlay rootfs kind); above"
	echo "the floor = shim median - floor median. Lifecycle CPU: the daemon's own utime+stime (its"
	echo "children, runc, excluded) read from its zombie, at clock-tick resolution (1/$TCK s); start action:"
	echo "containerd's cutime+cstime over the lifecycle. Idle: all threads' schedstat run time and"
	echo "voluntary+involuntary context switches over ${IDLE} s, times 3600/${IDLE}."
	echo "USS = Private_Clean + Private_Dirty, PSS and RSS from /proc/PID/smaps_rollup of each shim daemon;"
	echo "latency is the wall time of the ctr command (incl. ctr's own start-up and timeout(1)); $((SECONDS - t_start)) s in all."
}

# rows: the main rows for bench/all.sh's combined table (the largest K only), as ROW lines.
rows() {
	local k m label v="shim $CTRD_V:" xg xc
	rowtsv() { printf 'ROW\t%s\t%s\t%s\t%s\t%s\n' "$@"; }
	rowtsv "$v \`ctr run --rm IMG id true\` (ms)" "${R[go,run_med]}" "${R[cb,run_med]}" \
		"$(ratio "${R[go,run_med]}" "${R[cb,run_med]}")" \
		"p10-p90 ${R[go,run_p10]}-${R[go,run_p90]} / ${R[cb,run_p10]}-${R[cb,run_p90]}"
	xg=$(sub "${R[go,run_med]}" "${R[floor,run_med]}") xc=$(sub "${R[cb,run_med]}" "${R[floor,run_med]}")
	rowtsv "$v \`run --rm\` runc floor: create+start+delete (ms)" "${R[floor,run_med]}" "${R[floor,run_med]}" - \
		"p10-p90 ${R[floor,run_p10]}-${R[floor,run_p90]} (the same runc calls, made directly)"
	rowtsv "$v \`run --rm\` above the runc floor (ms)" "$xg" "$xc" "$(ratio "$xg" "$xc")" "shim median - floor median"
	if [[ -n $EXEC_NA ]]; then
		rowtsv "$v \`ctr task exec\` (ms)" - - - "$EXEC_NA"
	else
		rowtsv "$v \`ctr task exec\` (ms)" "${R[go,exec_med]}" "${R[cb,exec_med]}" \
			"$(ratio "${R[go,exec_med]}" "${R[cb,exec_med]}")" \
			"p10-p90 ${R[go,exec_p10]}-${R[go,exec_p90]} / ${R[cb,exec_p10]}-${R[cb,exec_p90]}"
		xg=$(sub "${R[go,exec_med]}" "${R[floor,exec_med]}") xc=$(sub "${R[cb,exec_med]}" "${R[floor,exec_med]}")
		rowtsv "$v \`exec\` runc floor: \`runc exec\` (ms)" "${R[floor,exec_med]}" "${R[floor,exec_med]}" - \
			"p10-p90 ${R[floor,exec_p10]}-${R[floor,exec_p90]}"
		rowtsv "$v \`exec\` above the runc floor (ms)" "$xg" "$xc" "$(ratio "$xg" "$xc")" "shim median - floor median"
		rowtsv "$v CPU per lifecycle, shim daemon (ms)" "${R[go,lcd_med]}" "${R[cb,lcd_med]}" \
			"$(ratio "${R[go,lcd_med]}" "${R[cb,lcd_med]}")" \
			"p10-p90 ${R[go,lcd_p10]}-${R[go,lcd_p90]} / ${R[cb,lcd_p10]}-${R[cb,lcd_p90]}; mean ${R[go,lcd_mean]} / ${R[cb,lcd_mean]}"
		rowtsv "$v CPU per lifecycle, start action (ms)" "${R[go,lcs_med]}" "${R[cb,lcs_med]}" \
			"$(ratio "${R[go,lcs_med]}" "${R[cb,lcs_med]}")" \
			"p10-p90 ${R[go,lcs_p10]}-${R[go,lcs_p90]} / ${R[cb,lcs_p10]}-${R[cb,lcs_p90]}; mean ${R[go,lcs_mean]} / ${R[cb,lcs_mean]}"
	fi
	rowtsv "$v idle shim: CPU per hour (ms)" "${R[go,idle_cpu]}" "${R[cb,idle_cpu]}" \
		"$(ratio "${R[go,idle_cpu]}" "${R[cb,idle_cpu]}")" "from ${IDLE} s: ${R[go,idle_raw]} / ${R[cb,idle_raw]}"
	rowtsv "$v idle shim: wake-ups per hour" "${R[go,idle_wake]}" "${R[cb,idle_wake]}" \
		"$(ratio "${R[go,idle_wake]}" "${R[cb,idle_wake]}")" "context switches, all threads (${R[go,idle_thr]} / ${R[cb,idle_thr]})"
	k=${KS##* }
	for m in uss pss rss; do
		label=${m^^}
		rowtsv "$v $label per shim, $k idle containers (kB)" "$(div "${R[go,$k,$m]}" "$k" %.0f)" \
			"$(div "${R[cb,$k,$m]}" "$k" %.0f)" "$(ratio "${R[go,$k,$m]}" "${R[cb,$k,$m]}")" \
			"one sample of $k shims (sum / $k)"
	done
	rowtsv "$v private memory per extra container, grouped shim (kB)" "${R[go,g_dirty]}" "${R[cb,g_dirty]}" \
		"$(ratio "${R[go,g_dirty]}" "${R[cb,g_dirty]}")" \
		"Private_Dirty, (K=$KG - K=1) / $((KG - 1)); USS ${R[go,g_uss]} / ${R[cb,g_uss]}; [heap] ${R[go,g_heap]} / ${R[cb,g_heap]}"
	rowtsv "$v threads per shim, $k idle containers" "${R[go,$k,thr]}" "${R[cb,$k,thr]}" \
		"$(ratio "${R[go,$k,thr]}" "${R[cb,$k,thr]}")" "min..max ${R[go,$k,thr_range]} / ${R[cb,$k,thr_range]}"
	rowtsv "$v binary size, stripped (kB)" "$((${R[go,ssize]} / 1024))" "$((${R[cb,ssize]} / 1024))" \
		"$(ratio "${R[go,ssize]}" "${R[cb,ssize]}")" \
		"as built: $((${R[go,size]} / 1024)) / $((${R[cb,size]} / 1024)) kB"
}

mkdir -p "$(dirname "$OUT")"
[[ -z ${BENCH_ROWS:-} ]] || rows >>"$BENCH_ROWS"
table | tee "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
say "table saved to $OUT"
