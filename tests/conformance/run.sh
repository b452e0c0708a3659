#!/bin/bash
# run.sh VERSION SHIM [RUNS]: containerd's own integration/client suite (build/conformance/VERSION/
# client.test, built by build-VERSION.sh) against one shim, each test in its own process with its
# own containerd (started by the suite's TestMain: root, state, socket and config in a private
# temp dir), RUNS times over the whole list (default 1).
#   VERSION 1.6: /usr/bin/containerd, Go shim /usr/bin/containerd-shim-runc-v2
#           2.1: build/containerd2/containerd/usr/bin/{containerd,containerd-shim-runc-v2}
#   SHIM    ctrbox: build/ctrbox's applet links (symlinks.sh) first in PATH; go: that Go shim
# Prints PASS/FAIL/SKIP NAME SECONDS per test and run, then
#   conformance VERSION SHIM: N passed, N failed, N skipped
# over the runs (a test failing in any run is failed). build/conformance/VERSION/SHIM/ keeps
# results (NAME STATUS per test), the per-run lines and the logs of failures (the test's output,
# with containerd's debug log, which has the shim's).
# Skipped without running: the tests SKIP-LIST names (tests/conformance/VERSION/skip, one
# "NAME REASON" a line: registry images, CRIU); their reasons are printed.
# The client.test interface (the build's patch): -test.root, -no-criu, -address; the environment
# CTRBOX_CONFORMANCE_ROOT/_STATE/_CONFIG (TestMain's containerd), _NAMESPACE and _IMAGE (the OCI tarball the
# suite imports instead of pulling its busybox image, named as the suite names it).
# Environment: CONFORMANCE_TIMEOUT (s per test, default 240), CONFORMANCE_JOBS (tests at a time,
# default 1), CONFORMANCE_RUN (a regex: only the tests it matches), CONFORMANCE_IMAGE_NAME (the
# suite's busybox image; else build/conformance/VERSION/image-name, else the suite's image list),
# CONFORMANCE_OUT (the results' dir under build/conformance/VERSION, default SHIM: compare.sh's re-runs).
set -euo pipefail

usage="usage: run.sh 1.6|2.1 ctrbox|go [RUNS]"
ver=${1:?$usage}
shim=${2:?$usage}
runs=${3:-1}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "$usage" >&2; exit 2; }
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$repo/tests/conformance
cdir=$repo/build/conformance/$ver
timeout_s=${CONFORMANCE_TIMEOUT:-240}
jobs=${CONFORMANCE_JOBS:-1}
only=${CONFORMANCE_RUN:-}
say() { echo "run.sh: $*" >&2; }

case $ver in
1.6) ctrd_bin=/usr/bin; go_shim=/usr/bin/containerd-shim-runc-v2 ;;
2.1)
	ctrd_bin=$repo/build/containerd2/containerd/usr/bin
	go_shim=$ctrd_bin/containerd-shim-runc-v2
	;;
*) echo "$usage" >&2; exit 2 ;;
esac
case $shim in ctrbox | go) ;; *) echo "$usage" >&2; exit 2 ;; esac
[[ $EUID -eq 0 ]] || { say "the suite needs root"; exit 1; }
[[ -x $ctrd_bin/containerd ]] || { say "no $ctrd_bin/containerd (2.1: make containerd2)"; exit 1; }
[[ -x $go_shim ]] || { say "no Go shim $go_shim"; exit 1; }
[[ -x $cdir/client.test ]] || { say "no $cdir/client.test: tests/conformance/build-$ver.sh"; exit 1; }
[[ $ver == 1.6 || -x $cdir/runc-fp ]] || { say "no $cdir/runc-fp: tests/conformance/build-$ver.sh"; exit 1; }
[[ $shim == go || -x $repo/build/ctrbox ]] || { say "no build/ctrbox: make"; exit 1; }
for t in runc jq umoci timeout unshare; do command -v "$t" >/dev/null || { say "missing $t"; exit 1; }; done

out=$cdir/${CONFORMANCE_OUT:-$shim}
[[ ${CONFORMANCE_OUT:-$shim} =~ ^[a-z0-9.-]+$ ]] || { say "CONFORMANCE_OUT: a plain name"; exit 2; }
rm -rf "$out"
mkdir -p "$out/logs"
top=$(mktemp -d /tmp/ctrbox-conf.XXXXXX)
chmod 0711 "$top" # TestUserNamespaces: the container's root is uid 1000, it must reach the rootfs
suffix=${top##*.}
suffix=${suffix,,}

# Everything a test process left behind whose command line or paths are under DIR: containers
# (runc state whose bundle is there), processes (its containerds, their shims: SIGKILL), the
# sockets of killed shims, mounts (deepest first), then DIR itself; with NS, the namespace's runc
# state dir and cgroups.
cleanup_dir() {
	local dir=$1 ns_=${2:-} r id pid mp sock i cg
	local -a args
	for r in /run/containerd/runc/*; do
		[[ -d $r ]] || continue
		for id in $(runc --root "$r" list -f json 2>/dev/null |
			jq -r --arg d "$dir/" '.[]? | select(.bundle | startswith($d)) | .id'); do
			runc --root "$r" kill -a "$id" KILL 2>/dev/null || true
			runc --root "$r" delete -f "$id" 2>/dev/null || true
		done
	done
	for pid in $(grep -lsF -- "$dir/" /proc/[0-9]*/cmdline | cut -d/ -f3); do
		[[ $pid != "$$" && $pid != "$BASHPID" ]] || continue
		mapfile -d '' args 2>/dev/null <"/proc/$pid/cmdline" || continue
		local ns='' sid='' addr=''
		for ((i = 1; i < ${#args[@]}; i++)); do
			case ${args[i]} in
			-namespace | --namespace) ns=${args[i + 1]:-} ;;
			-id | --id) sid=${args[i + 1]:-} ;;
			-address | --address) addr=${args[i + 1]:-} ;;
			esac
		done
		kill -KILL "$pid" 2>/dev/null || continue
		if [[ -n $ns && -n $sid && $addr == "$dir/"* ]]; then
			sock=/run/containerd/s/$(printf '%s' "$addr/$ns/$sid" | sha256sum | cut -d' ' -f1)
			rm -f "$sock"
		fi
	done
	# The shims died with the test's PID namespace: their sockets, named in the bundles
	# (2.x bootstrap.json, 1.6 address), of every containerd the test started under DIR.
	find "$dir" \( -name bootstrap.json -o -name address \) -path '*/io.containerd.runtime.v2.task/*' \
		-type f 2>/dev/null | while read -r f; do
		if [[ ${f##*/} == bootstrap.json ]]; then
			sock=$(jq -r '.address // empty' "$f" 2>/dev/null || true)
		else
			sock=$(head -c 4096 "$f" 2>/dev/null || true)
		fi
		sock=${sock#unix://}
		[[ $sock =~ ^/run/containerd/s/[0-9a-f]{64}$ ]] && rm -f "$sock"
	done
	awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
		while read -r mp; do
			umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || say "cannot umount $mp"
		done
	rm -rf "$dir" 2>/dev/null || { sleep 1; rm -rf "$dir"; }
	[[ -n $ns_ ]] || return 0
	# The namespace's processes go after its init: their cgroups empty a moment later.
	for cg in /sys/fs/cgroup/"$ns_" /sys/fs/cgroup/"$ns_"-* /sys/fs/cgroup/*/"$ns_" /sys/fs/cgroup/*/"$ns_"-*; do
		[[ -d $cg ]] || continue
		for ((i = 0; i < 50; i++)); do
			find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
			[[ -d $cg ]] || break
			sleep 0.1
		done
		[[ ! -d $cg ]] || say "cannot remove cgroup $cg"
	done
	# NS-*: namespaces a test derives from the suite's (TestRegressionIssue4769's NS-ID); last,
	# with whatever container state is still in them (all ours: the namespace is the test's).
	for r in "/run/containerd/runc/$ns_" "/run/containerd/runc/$ns_"-*; do
		[[ -d $r ]] || continue
		for id in $(runc --root "$r" list -q 2>/dev/null); do
			runc --root "$r" delete -f "$id" 2>/dev/null || true
		done
		rmdir "$r" 2>/dev/null || say "cannot remove $r: $(ls -A "$r" | head -3 | tr '\n' ' ')"
	done
}

pids=()
on_exit() {
	local p
	# timeout (its own process group) passes TERM on to unshare; the test's PID namespace dies
	# with it (--kill-child), its containerds and shims too.
	for p in "$top"/*/timeout.pid; do [[ -s $p ]] && kill -TERM -- "-$(cat "$p")" 2>/dev/null; done
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	[[ -d $top ]] && cleanup_dir "$top"
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# PATH: the shim under test, runc-fp, then that version's containerd.
bin=$top/bin
mkdir -p "$bin"
if [[ $shim == ctrbox ]]; then
	"$repo/symlinks.sh" "$bin" "$repo/build/ctrbox" >/dev/null
else
	ln -s "$go_shim" "$bin/containerd-shim-runc-v2"
fi
[[ ! -x $cdir/runc-fp ]] || ln -s "$cdir/runc-fp" "$bin/runc-fp" # 1.6 has none (came with 1.7)
export PATH=$bin:$ctrd_bin:$PATH
want=$([[ $shim == ctrbox ]] && readlink -f "$repo/build/ctrbox" || readlink -f "$go_shim")
[[ $(readlink -f "$(command -v containerd-shim-runc-v2)") == "$want" ]] ||
	{ say "containerd-shim-runc-v2 in PATH is not $want"; exit 1; }
[[ $(command -v containerd) == "$ctrd_bin/containerd" ]] || { say "containerd in PATH is not $ctrd_bin/containerd"; exit 1; }

# The image the suite pulls, named as the suite names it: CONFORMANCE_IMAGE_NAME, the build's
# image-name file, or the suite's "Using the following image list" (2.x).
name=${CONFORMANCE_IMAGE_NAME:-$(cat "$cdir/image-name" 2>/dev/null || true)}
[[ -n $name ]] || name=$("$cdir/client.test" -test.short -test.list '^$' 2>&1 | sed -n 's/.*[{ ]BusyBox:\([^ }]*\).*/\1/p' | head -1)
[[ -n $name ]] || { say "cannot tell the suite's busybox image name: set CONFORMANCE_IMAGE_NAME"; exit 1; }
"$here/image.sh" "$cdir/image.tar" "$name"

config() {
	cat <<EOF
version = 2
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
  "io.containerd.cri.v1.images",
  "io.containerd.cri.v1.runtime",
  "io.containerd.podsandbox.controller.v1.podsandbox",
  "io.containerd.grpc.v1.sandbox-controllers",
  "io.containerd.snapshotter.v1.erofs",
  "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.nri.v1.nri",
]

[plugins."io.containerd.runtime.v1.linux"]
  shim_debug = true
EOF
}

declare -A skip=()
if [[ -r $here/$ver/skip ]]; then
	while read -r t reason; do
		[[ -n $t && $t != \#* ]] && skip[$t]=$reason
	done <"$here/$ver/skip"
fi
mapfile -t tests < <("$cdir/client.test" -test.short -test.list '^Test' 2>/dev/null | grep '^Test' |
	{ if [[ -n $only ]]; then grep -E -- "$only" || true; else cat; fi; })
((${#tests[@]} > 0)) || { say "no tests listed"; exit 1; }
echo "conformance $ver $shim: $("$ctrd_bin/containerd" --version | cut -d' ' -f2-3), $(cat "$cdir/version" 2>/dev/null), ${#tests[@]} tests, $runs run(s), $jobs at a time"

# run_one NAME RUN: one test in its own process and dir; writes $top/res/NAME.RUN
run_one() {
	local t=$1 run=$2 idx=$3 dir ns log st secs t0 rc=0 reason
	dir=$top/$run.$idx # short: the suite puts unix sockets under its TMPDIR (sun_path is 108 bytes)
	ns=conf-$suffix-$run-$idx
	mkdir -p "$dir/tmp" "$dir/root" "$dir/state"
	config >"$dir/config.toml"
	log=$dir/test.log
	t0=${EPOCHREALTIME/./}
	(
		cd "$dir"
		export TMPDIR=$dir/tmp CTRBOX_CONFORMANCE_ROOT=$dir/root CTRBOX_CONFORMANCE_STATE=$dir/state
		export CTRBOX_CONFORMANCE_CONFIG=$dir/config.toml CTRBOX_CONFORMANCE_IMAGE=$cdir/image.tar
		export CTRBOX_CONFORMANCE_NAMESPACE=$ns
		# Its own PID namespace (and /proc): the suite's `ps ax` checks (the KillInit tests) see
		# the test's processes only, not the loaded host's.
		timeout -k 15 $((timeout_s + 30)) unshare --pid --fork --kill-child --mount-proc \
			"$cdir/client.test" -test.root -test.v -no-criu \
			-test.timeout "${timeout_s}s" -test.run "^$t\$" -address "$dir/c.sock" &
		echo $! >"$dir/timeout.pid"
		wait $!
	) >"$log" 2>&1 || rc=$?
	secs=$(((${EPOCHREALTIME/./} - t0) / 100000))
	secs=$((secs / 10)).$((secs % 10))
	if ((rc == 0)) && grep -q "^--- SKIP: $t " "$log"; then
		st=SKIP
	elif ((rc == 0)) && grep -q "^--- PASS: $t " "$log"; then
		st=PASS
	else
		st=FAIL
		((rc != 124 && rc != 137)) || echo "run.sh: timed out after ${timeout_s}s (exit $rc)" >>"$log"
	fi
	reason=''
	[[ $st != SKIP ]] || reason=$(grep -B1 "^--- SKIP: $t " "$log" | sed -n '1s/^ *//p' | head -c 120)
	[[ $st != FAIL ]] || cp "$log" "$out/logs/$t.run$run.log"
	cleanup_dir "$dir" "$ns"
	printf '%s %s %s %s\n' "$st" "$t" "$secs" "$reason" >"$top/res/$t.$run"
}

mkdir -p "$top/res"
t_all=${EPOCHREALTIME/./}
declare -A final=()
# flush: the finished results, in the list's order, from test index $next on.
flush() {
	local t st name secs reason
	while ((next < ${#tests[@]})); do
		t=${tests[next]}
		if [[ -n ${skip[$t]:-} ]]; then
			echo "SKIP $t 0.0 (skip list: ${skip[$t]})" | tee -a "$out/lines"
			final[$t]=SKIP
		else
			[[ -e $top/res/$t.$run ]] || return 0
			read -r st name secs reason <"$top/res/$t.$run" || true
			echo "$st $t $secs${reason:+ ($reason)}" | tee -a "$out/lines"
			case $st:${final[$t]:-} in
			FAIL:* | *:FAIL) final[$t]=FAIL ;;
			SKIP:* | *:SKIP) final[$t]=SKIP ;;
			*) final[$t]=PASS ;;
			esac
		fi
		next=$((next + 1))
	done
}
running() { local n=0 p; for p in "${pids[@]}"; do ! kill -0 "$p" 2>/dev/null || n=$((n + 1)); done; echo $n; }
for ((run = 1; run <= runs; run++)); do
	((runs == 1)) || echo "# run $run of $runs"
	next=0 idx=0
	for t in "${tests[@]}"; do
		[[ -z ${skip[$t]:-} ]] || continue
		while (($(running) >= jobs)); do
			wait -n 2>/dev/null || true
			flush
		done
		idx=$((idx + 1)) # here: the expansions of a background command happen in its subshell
		run_one "$t" "$run" "$idx" &
		pids+=($!)
		flush
	done
	wait || true
	pids=()
	flush
done
npass=0 nfail=0 nskip=0
for t in "${tests[@]}"; do
	echo "$t ${final[$t]}" >>"$out/results"
	case ${final[$t]} in PASS) npass=$((npass + 1)) ;; FAIL) nfail=$((nfail + 1)) ;; *) nskip=$((nskip + 1)) ;; esac
done
secs=$(((${EPOCHREALTIME/./} - t_all) / 1000000))
echo "conformance $ver $shim: $npass passed, $nfail failed, $nskip skipped ($runs run(s), ${secs}s)" | tee "$out/summary"
