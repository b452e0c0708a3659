#!/usr/bin/env bash
# bench/all.sh (make bench-all): the four benches one after the other on this machine, the
# containerd ones once per containerd version (BENCH_CONTAINERD), and ONE markdown table of
# their main rows (for README.md):
#   shim         bench/run.sh          ctrbox's runc shim vs the Go shim (containerd-shim-runc-v2)
#   snapshotter  bench/snapshotter.sh  ctrbox-snapshotter vs containerd's built-in overlayfs
#   journal      bench/journal.sh      ctrbox-journal vs the native-protocol ceiling (BENCH_JOURNAL_RUNS runs)
#   ctr          bench/ctr.sh          ctrbox-ctr vs ctr
# Each script starts (and removes) its own private containerd or journald; they run one at a
# time. Each appends its rows to a file as ROW<TAB>measurement<TAB>baseline<TAB>ctrbox<TAB>
# ratio<TAB>spread lines (BENCH_ROWS); this script prints them as a table at the end and writes
# it to bench/results/all.txt, and the scripts' own full tables to bench/results/all-detail.txt.
# Progress goes to stderr. See bench/README.md.
#
# Environment (defaults sized for ~5 minutes on 2 cores):
#   BENCH_N (20)                    rounds per latency row and side (shim, snapshotter, ctr)
#   BENCH_KS ("20 50")              idle containers for the shim memory rows (the table: the last)
#   BENCH_OPS (300)                 snapshotter Prepare/Commit/Remove rounds per side
#   BENCH_JOURNAL_LINES (100000)    lines per journal run
#   BENCH_JOURNAL_RUNS (5)          journal runs (median and min-max of the rates)
#   BENCH_ONLY ("shim snapshotter journal ctr")  a subset, in that order
#   BENCH_CONTAINERD ("1.6 2.1")    the containerd versions the shim, snapshotter and ctr
#                                   benches run on, one after the other (CTRBOX_CONTAINERD for
#                                   the rig; each against that version's Go shim and ctr); the
#                                   rows say the version ("shim 2.1: ..."). journal.sh needs no
#                                   containerd and runs once.
#   BENCH_IDLE (60)                 seconds of the shim bench's idle sample
#   BENCH_ALL_OUT (bench/results/all.txt)
#   CTRBOX_BIN (build/ctrbox), GRPC_PROBE (build/tools/grpc-probe): copied once at start, so a
#   rebuild during the run cannot mix two binaries; all four scripts measure the copy.
set -euo pipefail
export LC_ALL=C

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
export BENCH_N=${BENCH_N:-20}
export BENCH_KS=${BENCH_KS:-20 50}
export BENCH_OPS=${BENCH_OPS:-300}
JLINES=${BENCH_JOURNAL_LINES:-100000}
JRUNS=${BENCH_JOURNAL_RUNS:-5}
ONLY=${BENCH_ONLY:-shim snapshotter journal ctr}
VERSIONS=${BENCH_CONTAINERD:-1.6 2.1}
export BENCH_IDLE=${BENCH_IDLE:-60}
OUT=${BENCH_ALL_OUT:-$here/results/all.txt}
DETAIL=${OUT%.txt}-detail.txt
SRC_BIN=${CTRBOX_BIN:-$repo/build/ctrbox}
SRC_PROBE=${GRPC_PROBE:-$repo/build/tools/grpc-probe}
t_start=$SECONDS

say() { echo "bench-all: $*" >&2; }
die() { say "error: $*"; exit 1; }

[[ $EUID -eq 0 ]] || die "needs root (containerd, runc, journald, mounts)"
for v in "$BENCH_N" "$JLINES" "$JRUNS" "$BENCH_OPS" "$BENCH_IDLE"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || die "BENCH_N, BENCH_OPS, BENCH_IDLE, BENCH_JOURNAL_LINES and BENCH_JOURNAL_RUNS must be positive integers"
done
for b in $ONLY; do
	case $b in shim | snapshotter | journal | ctr) ;; *) die "BENCH_ONLY: unknown bench '$b'" ;; esac
done
for v in $VERSIONS; do
	case $v in
	1.6) ;;
	2.1) [[ -x $repo/build/containerd2/containerd/usr/bin/containerd ]] || die "BENCH_CONTAINERD=2.1: run make containerd2 first" ;;
	*) die "BENCH_CONTAINERD: unknown version '$v' (1.6 or 2.1)" ;;
	esac
done
[[ -n ${VERSIONS// /} ]] || die "BENCH_CONTAINERD is empty"
[[ -x $SRC_BIN ]] || die "$SRC_BIN missing (make all)"
[[ " $ONLY " != *" snapshotter "* || -x $SRC_PROBE ]] || die "$SRC_PROBE missing (make $SRC_PROBE)"

work=$(mktemp -d /tmp/ctrbox-bench-all.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$SRC_BIN" "$work/ctrbox"
[[ ! -x $SRC_PROBE ]] || cp "$SRC_PROBE" "$work/grpc-probe"
export CTRBOX_BIN=$work/ctrbox GRPC_PROBE=$work/grpc-probe

ver_cb=$(git -C "$repo" --no-optional-locks rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" --no-optional-locks diff --quiet HEAD 2>/dev/null || ver_cb+="+dirty"
cg=v1
[[ $(stat -fc %T /sys/fs/cgroup) == cgroup2fs ]] && cg=v2
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%Y-%m-%dT%H:%MZ)

declare -A RC=() SECS=()
RUNS=() # the bench runs in order: shim-1.6, shim-2.1, ..., journal
# bench NAME CMD...: run one bench; its rows go to $work/rows.NAME, its stdout to $work/NAME.out.
bench() {
	local name=$1 t0=$SECONDS rc=0
	shift
	say "---- $name: $* ----"
	BENCH_ROWS=$work/rows.$name BENCH_OUT=$work/$name.table "$@" >>"$work/$name.out" || rc=$?
	RC[$name]=$rc SECS[$name]=$((SECONDS - t0))
	((rc == 0)) || say "$name: exit $rc"
	return 0
}
# per_version NAME SCRIPT: the bench once per containerd version, as NAME-VERSION; a row
# "NAME: ..." becomes "NAME VERSION: ..." (run.sh labels its rows itself).
per_version() {
	local name=$1 script=$2 v
	for v in $VERSIONS; do
		RUNS+=("$name-$v")
		bench "$name-$v" env CTRBOX_CONTAINERD="$v" "$script"
		[[ ! -f $work/rows.$name-$v ]] ||
			sed -i "s/^ROW\t$name: /ROW\t$name $v: /" "$work/rows.$name-$v"
	done
}

for b in $ONLY; do
	case $b in
	shim) per_version shim "$here/run.sh" ;;
	snapshotter) per_version snapshotter "$here/snapshotter.sh" ;;
	ctr) per_version ctr "$here/ctr.sh" ;;
	journal)
		# one ROW per run into rows.journal-runs; the table gets their median
		RUNS+=(journal)
		t_j=$SECONDS
		for ((r = 1; r <= JRUNS; r++)); do
			bench journal env N="$JLINES" CTRBOX="$CTRBOX_BIN" BENCH_ROWS="$work/rows.journal-runs" "$here/journal.sh"
			((RC[journal] == 0)) || break
		done
		SECS[journal]=$((SECONDS - t_j))
		if ((RC[journal] == 0)); then
			awk -F'\t' '
				{ name = $2; b[NR] = $3; c[NR] = $4 }
				function med(a, n,  i, j, t, s) { # a copy, sorted (n is small)
					for (i = 1; i <= n; i++) s[i] = a[i]
					for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (s[j] < s[i]) { t = s[i]; s[i] = s[j]; s[j] = t }
					lo = s[1]; hi = s[n]
					return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
				}
				END {
					mb = med(b, NR); lb = lo; hb = hi
					mc = med(c, NR); lc = lo; hc = hi
					printf "ROW\t%s\t%.0f\t%.0f\t%.2f\tmin-max of %d runs %.0f-%.0f / %.0f-%.0f\n",
						name, mb, mc, mc / mb, NR, lb, hb, lc, hc
				}' "$work/rows.journal-runs" >"$work/rows.journal"
		fi
		;;
	esac
done

# ---- the table ----
cmd="BENCH_N=$BENCH_N BENCH_KS=\"$BENCH_KS\" BENCH_IDLE=$BENCH_IDLE BENCH_OPS=$BENCH_OPS BENCH_JOURNAL_LINES=$JLINES BENCH_JOURNAL_RUNS=$JRUNS BENCH_CONTAINERD=\"$VERSIONS\""
[[ $ONLY == "shim snapshotter journal ctr" ]] || cmd+=" BENCH_ONLY=\"$ONLY\""
cmd+=" bench/all.sh"
[[ -z ${BENCH_VIA:-} ]] || cmd="$BENCH_VIA (= $cmd)"

# ctrd_versions: "1.6.20 (shim, snapshotter, ctr rows "1.6") and 2.1.9 (... "2.1")".
ctrd_versions() {
	local v out=''
	for v in $VERSIONS; do
		[[ -z $out ]] || out+=" and "
		if [[ $v == 2.1 ]]; then
			out+=$("$repo/build/containerd2/containerd/usr/bin/containerd" --version | awk '{ print $3 }')
		else
			out+=$(containerd --version | awk '{ print $3 }')
		fi
		out+=" (rows \"$v\")"
	done
	echo "$out"
}

table() {
	local b failed=''
	for b in "${RUNS[@]}"; do [[ ${RC[$b]} == 0 && -s $work/rows.$b ]] || failed+=" $b"; done
	echo "ctrbox benchmarks, $started: kernel $(uname -r), $(nproc) cores, cgroup $cg;" \
		"containerd $(ctrd_versions), runc $(runc --version | awk 'NR == 1 { print $3 }')," \
		"systemd $(systemctl --version | awk 'NR == 1 { print $2 }'); ctrbox $ver_cb ($(($(stat -c %s "$CTRBOX_BIN") / 1024)) kB as built)."
	echo
	echo "Command: \`$cmd\`; $((SECONDS - t_start)) s, load average $load_start at start, $(cut -d' ' -f1-3 /proc/loadavg) at end."
	echo
	{
		printf 'measurement\tbaseline (Go shim / built-in overlayfs / native-protocol ceiling / ctr)\tctrbox\tratio\tspread (baseline / ctrbox)\n'
		printf -- '---\t---:\t---:\t---:\t---\n'
		for b in "${RUNS[@]}"; do
			if [[ ${RC[$b]} != 0 || ! -s $work/rows.$b ]]; then
				printf '%s: FAILED (exit %s)\t-\t-\t-\tsee %s\n' "$b" "${RC[$b]}" "${DETAIL#"$repo"/}"
			else
				grep '^ROW' "$work/rows.$b" | cut -f2-
			fi
		done
	} | awk -F'\t' '
		{ for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } n = NR }
		END {
			for (r = 1; r <= n; r++) {
				line = "|"
				for (i = 1; i <= 5; i++) {
					c = cell[r, i]
					if (r == 2) { # the delimiter row: dashes to the width, ":" for right-aligned
						c = c ~ /:$/ ? sprintf("%" (w[i] - 1) "s:", "") : sprintf("%" w[i] "s", "")
						gsub(/ /, "-", c)
					} else if (r > 2 && i >= 2 && i <= 4) c = sprintf("%" w[i] "s", c)
					else c = sprintf("%-" w[i] "s", c)
					line = line " " c " |"
				}
				print line
			}
		}'
	echo
	echo "ratio = ctrbox / baseline: below 1 is better, except in the rows marked \"higher is better\"."
	echo "Times: medians of BENCH_N=$BENCH_N rounds per side in ABBA order (wall time of the whole"
	echo "command); journal: median of $JRUNS runs of $JLINES lines. Each bench's own table (p10/p90,"
	echo "min/max, memory at K=${BENCH_KS// /,}): ${DETAIL#"$repo"/}; how each row is measured: bench/README.md."
	[[ -z $failed ]] || echo "FAILED:$failed"
}

mkdir -p "$(dirname "$OUT")"
table >"$work/all.txt"
{
	echo "# bench/all.sh $started: the full output of each bench ($cmd)"
	for b in "${RUNS[@]}"; do
		echo
		echo "## $b (exit ${RC[$b]}, ${SECS[$b]} s)"
		cat "$work/$b.out" 2>/dev/null || true
	done
} >"$DETAIL"
cp "$work/all.txt" "$OUT"
say "table saved to $OUT, the benches' own tables to $DETAIL ($((SECONDS - t_start)) s)"
cat "$work/all.txt"
for b in "${RUNS[@]}"; do [[ ${RC[$b]} == 0 && -s $work/rows.$b ]] || exit 1; done
