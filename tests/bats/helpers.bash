# Shared helpers for the bats suite: a private containerd, bounded waits, leak checks.
#
# setup_suite.bash starts the daemon once and exports:
#   CTRBOX_TEST_DIR  private temp dir (/tmp/ctrbox-bats.XXXXXX), removed by teardown_suite
#   CTRD_SOCK        containerd gRPC socket ($CTRBOX_TEST_DIR/c.sock)
#   CTRD_TTRPC       containerd TTRPC socket (events from shims; $CTRD_SOCK.ttrpc)
#   CTRD_NS          unique namespace of this run (ctrbox-test-<suffix>)
#   CTRD_STATE       containerd state dir; bundles in $CTRD_STATE/io.containerd.runtime.v2.task/$CTRD_NS/
#   CTRD_ROOT        containerd root dir
#   (containerd and so its shims run with TMPDIR=$CTRBOX_TEST_DIR/tmp, XDG_RUNTIME_DIR unset)
#   TEST_IMAGE       imported busybox image (ctrbox.test/busybox:latest)
#   SHIMDIR          first in containerd's PATH: symlinks to build/ctrbox live here
#   CTRBOX           path of build/ctrbox (may not exist yet)
#   REPO             the repository root
#   GO_SHIM          the stock Go shim of that containerd (1.6: /usr/bin/containerd-shim-runc-v2)
#   CTRBOX_CONTAINERD  1.6 or 2.1: the containerd the suite runs on (ctrd_is)
# Tests run `ctrt ...` for ctr against that daemon.

bats_load_library bats-support
bats_load_library bats-assert

# ---- the containerd version axis (CTRBOX_CONTAINERD, set by setup_suite) ----
# Where containerd's or ctr's output differs between the versions, the assertion follows the
# version through these helpers; everything else is asserted the same on both.

# ctrd_is VERSION: the suite runs on containerd VERSION (1.6: Debian 12's, 2.1: make containerd2's).
ctrd_is() {
	[[ ${CTRBOX_CONTAINERD:-1.6} == "$1" ]]
}

# ev_time_re: an extended regex of a timestamp's value in the JSON of `ctr events` (exited_at):
# ctr 1.6 prints a string ("2026-12-02T05:11:47.576196001Z"), ctr 2.x Go's encoding of a
# protobuf Timestamp ({"seconds":N,"nanos":N}, nanos left out when 0).
ev_time_re() {
	if ctrd_is 1.6; then
		echo '"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"'
	else
		echo '\{"seconds":[0-9]+(,"nanos":[0-9]+)?\}'
	fi
}

# ps_exec_info EXEC_ID: the INFO column `ctr task ps` prints for an exec (the runc shim's
# ProcessDetails): ctr 1.6 "&ProcessDetails{ExecID:EXEC_ID,}", ctr 2.x 'exec_id:"EXEC_ID"'
# (the start of each, enough to tell the exec).
ps_exec_info() {
	if ctrd_is 1.6; then
		echo "&ProcessDetails{ExecID:$1,"
	else
		echo "exec_id:\"$1\""
	fi
}

# ps_exec_pid ID EXEC_ID: the pid `ctr task ps ID` shows for exec EXEC_ID (nothing if none).
ps_exec_pid() {
	ctrt task ps "$1" | awk -v s="$(ps_exec_info "$2")" 'NR > 1 && index($2, s) == 1 { print $1 }'
}

GO_SHIM=${GO_SHIM:-/usr/bin/containerd-shim-runc-v2}
CTRT_TIMEOUT=${CTRT_TIMEOUT:-60}

# ctrt ARGS...: ctr against the private daemon in the test namespace, killed after $CTRT_TIMEOUT s.
# run / task start / task exec get --fifo-dir $CTRBOX_TEST_DIR/fifo (a later --fifo-dir wins):
# ctr never removes the FIFOs of detached tasks, and the default is the global /run/containerd/fifo.
# --foreground: ctr copies stdin into the container, and must not be stopped by SIGTTIN on a tty.
ctrt() {
	[[ -n ${CTRD_SOCK:-} ]] || { echo "ctrt: no CTRD_SOCK (run bats on tests/bats/ so setup_suite.bash is used)" >&2; return 2; }
	local -a args=("$@")
	case "${1:-} ${2:-}" in
	"run "*) args=(run --fifo-dir "$CTRBOX_TEST_DIR/fifo" "${@:2}") ;;
	t\ start | task\ start | tasks\ start | t\ exec | task\ exec | tasks\ exec)
		args=("$1" "$2" --fifo-dir "$CTRBOX_TEST_DIR/fifo" "${@:3}") ;;
	esac
	timeout --foreground -k 5 "$CTRT_TIMEOUT" ctr -a "$CTRD_SOCK" -n "$CTRD_NS" "${args[@]}"
}

# wait_for SECS CMD [ARGS...]: run CMD every 0.1 s until it succeeds; fail after SECS.
wait_for() {
	local secs=$1 deadline
	shift
	deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if ((SECONDS >= deadline)); then
			echo "wait_for: timed out after ${secs}s: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# file_skip REASON, in setup_file (then return 0 there): bats 1.8 reports a skip in setup_file
# as a failure of the file, so the reason is kept and each test skips with it in setup
# (skip_if_file_skipped).
file_skip() { export CTRBOX_FILE_SKIP=$1; }
skip_if_file_skipped() { [[ -z ${CTRBOX_FILE_SKIP:-} ]] || skip "$CTRBOX_FILE_SKIP"; }

# require_root: skip (with the reason) when not root.
require_root() {
	[[ $EUID -eq 0 ]] || skip "needs root (euid $EUID)"
}

# require_ctrbox [APPLET]: skip unless build/ctrbox exists (and SHIMDIR has APPLET's symlink).
require_ctrbox() {
	[[ -x ${CTRBOX:-} ]] || skip "build/ctrbox not built (run make)"
	[[ -z ${1:-} || -e $SHIMDIR/$1 ]] || skip "$SHIMDIR/$1 missing (symlinks.sh did not create it)"
}

# bundle_dir ID: the runtime-v2 bundle containerd made for container ID.
bundle_dir() {
	echo "$CTRD_STATE/io.containerd.runtime.v2.task/$CTRD_NS/$1"
}

# shim_address ID: the address (unix://...) of the shim serving task ID, as its bundle keeps it:
# containerd 1.6 reads the `address` file the shim's start action writes there, 2.x writes the
# start action's answer to bootstrap.json (and the Go shim 2.x writes no address file). Fails
# while there is none yet (for wait_for).
shim_address() {
	local b a
	b=$(bundle_dir "$1")
	if ctrd_is 1.6; then
		a=$(cat "$b/address" 2>/dev/null)
	else
		a=$(jq -r '.address // empty' "$b/bootstrap.json" 2>/dev/null)
	fi
	[[ -n $a ]] && echo "$a"
}

# task_status ID: the task's status as `ctr task ls` shows it (RUNNING, STOPPED, ...), or nothing.
task_status() {
	ctrt task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'
}

# task_is ID STATUS: for wait_for, e.g. `wait_for 5 task_is c1 STOPPED`.
task_is() {
	[[ $(task_status "$1") == "$2" ]]
}

# _cmdline_has PID WORD VALUE: true if /proc/PID/cmdline has "WORD VALUE" or "WORD=VALUE"
# (WORD given with one dash; Go's flag package also takes two).
_cmdline_has() {
	local -a args
	local i
	mapfile -d '' args 2>/dev/null <"/proc/$1/cmdline" || return 1
	for ((i = 0; i < ${#args[@]}; i++)); do
		case ${args[i]} in
		"$2=$3" | "-$2=$3") return 0 ;;
		"$2" | "-$2") [[ ${args[i + 1]:-} == "$3" ]] && return 0 ;;
		esac
	done
	return 1
}

# shim_pids [SOCK]: pids of every shim process (start/delete/daemon, any binary) that was
# started with -address SOCK (default: our containerd), one per line.
shim_pids() {
	local sock=${1:-$CTRD_SOCK} p pid
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[[ $pid != "$$" && $pid != "$BASHPID" ]] || continue
		_cmdline_has "$pid" -address "$sock" && echo "$pid"
	done
	return 0
}

# mounts_under DIR: mount points at or below DIR (default $CTRBOX_TEST_DIR), deepest first.
mounts_under() {
	local dir=${1:-$CTRBOX_TEST_DIR} mp
	dir=${dir%/}
	while read -r _ _ _ _ mp _; do
		mp=$(printf '%b' "$mp") # mountinfo escapes space, tab, newline, backslash as \ooo
		[[ $mp == "$dir" || $mp == "$dir"/* ]] && echo "$mp"
	done </proc/self/mountinfo | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-
}

# runc_state [NS]: container dirs runc keeps for NS under the default runc root.
runc_state() {
	local d=/run/containerd/runc/${1:-$CTRD_NS}
	[[ -d $d ]] && find "$d" -mindepth 1 -maxdepth 1 -printf '%f\n'
	return 0
}

# assert_no_leaks: nothing of ours left in the namespace — tasks, containers, bundles, shim
# processes, mounts under the state dir, runc state, container cgroups. Call after a test
# removed its containers.
assert_no_leaks() {
	local out
	out=$(ctrt task ls -q) || fail "ctr task ls failed: $out"
	[[ -z $out ]] || fail "tasks left: $out"
	out=$(ctrt container ls -q) || fail "ctr container ls failed: $out"
	[[ -z $out ]] || fail "containers left: $out"
	out=$(ls -A "$CTRD_STATE/io.containerd.runtime.v2.task/$CTRD_NS" 2>/dev/null) || true
	[[ -z $out ]] || fail "bundles left: $out"
	out=$(shim_pids "$CTRD_SOCK")
	[[ -z $out ]] || fail "shim processes left: $(for p in $out; do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done)"
	out=$(mounts_under "$CTRD_STATE")
	[[ -z $out ]] || fail "mounts left: $out"
	out=$(runc_state "$CTRD_NS")
	[[ -z $out ]] || fail "runc state left in /run/containerd/runc/$CTRD_NS: $out"
	# runc leaves the per-namespace parent cgroup; a container's own cgroup must go.
	out=$(find /sys/fs/cgroup/"$CTRD_NS" /sys/fs/cgroup/*/"$CTRD_NS" -mindepth 1 -maxdepth 1 -type d 2>/dev/null) || true
	[[ -z $out ]] || fail "cgroups left: $out"
}

# ctrd_clean_ns [SECS]: kill and remove every task and container of the namespace (best effort).
ctrd_clean_ns() {
	local secs=${1:-10} id
	for id in $(CTRT_TIMEOUT=$secs ctrt task ls -q 2>/dev/null); do
		CTRT_TIMEOUT=$secs ctrt task kill -a -s KILL "$id" >/dev/null 2>&1 || true
	done
	for id in $(CTRT_TIMEOUT=$secs ctrt task ls -q 2>/dev/null); do
		CTRT_TIMEOUT=$secs ctrt task rm -f "$id" >/dev/null 2>&1 || true
	done
	for id in $(CTRT_TIMEOUT=$secs ctrt container ls -q 2>/dev/null); do
		CTRT_TIMEOUT=$secs ctrt container rm "$id" >/dev/null 2>&1 || true
	done
}

# ctrd_log_mark: remember the log position; dump_ctrd_log then shows only what came after.
ctrd_log_mark() {
	CTRD_LOG_MARK=$(stat -c %s "$CTRBOX_TEST_DIR/containerd.log" 2>/dev/null || echo 0)
}

# ctrd_log: containerd's log (with the shims' FIFO output) since ctrd_log_mark.
ctrd_log() {
	tail -c +"$((${CTRD_LOG_MARK:-0} + 1))" "$CTRBOX_TEST_DIR/containerd.log"
}

# dump_ctrd_log [LINES]: the last LINES (100) lines of ctrd_log, prefixed with "# "
# (bats shows them with a failing test's output).
dump_ctrd_log() {
	[[ -f ${CTRBOX_TEST_DIR:-}/containerd.log ]] || return 0
	echo "# --- containerd.log (tail) ---"
	ctrd_log | tail -n "${1:-100}" | sed 's/^/# /'
}

# _alive PID: true while PID exists and is not a zombie.
_alive() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	[[ ${stat%% *} != Z ]]
}

# ctrd_pid: pid of the private containerd, if it runs.
ctrd_pid() {
	local pid p
	pid=$(cat "$CTRBOX_TEST_DIR/containerd.pid" 2>/dev/null)
	if [[ -n $pid ]] && _alive "$pid" && _cmdline_has "$pid" --config "$CTRBOX_TEST_DIR/config.toml"; then
		echo "$pid"
		return 0
	fi
	for p in /proc/[0-9]*; do # started some other way (or the pid file is stale)
		pid=${p#/proc/}
		_alive "$pid" && _cmdline_has "$pid" --config "$CTRBOX_TEST_DIR/config.toml" &&
			{ echo "$pid"; return 0; }
	done
	return 1
}

# ctrd_start: start the private containerd (cwd without shims, PATH=$SHIMDIR:$PATH) and wait
# until it answers. Used by setup_suite and by tests that restart the daemon.
ctrd_start() {
	local dir=$CTRBOX_TEST_DIR pid
	(
		# Do not hand bats' pipes (fd 3 and friends) to the daemon and its shims: bats would
		# wait for them to close.
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-"
		done
		cd "$dir/cwd" || exit 1
		# Temporary files of the shims (console socket dirs /tmp/pty*, exec specs) in a dir of
		# this run: other runs on the machine make their own in /tmp, and tests look for leaks.
		mkdir -p "$dir/tmp" || exit 1
		unset XDG_RUNTIME_DIR # preferred over TMPDIR by the shims (Go's and ctrbox's)
		TMPDIR=$dir/tmp PATH="$SHIMDIR:$PATH" exec setsid containerd --config "$dir/config.toml" \
			</dev/null >>"$dir/containerd.log" 2>&1
	) &
	pid=$!
	disown "$pid" # no "Killed" job report when a test SIGKILLs it
	echo "$pid" >"$dir/containerd.pid"
	wait_for 10 test -S "$CTRD_SOCK" || { dump_ctrd_log 30 >&2; return 1; }
	wait_for 10 ctr -a "$CTRD_SOCK" --timeout 2s version || { dump_ctrd_log 30 >&2; return 1; }
}

# ctrd_stop [SECS]: SIGTERM the daemon, SIGKILL it after SECS (10). Shims keep running.
ctrd_stop() {
	local pid
	pid=$(ctrd_pid) || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	if ! wait_for "${1:-10}" eval "! _alive $pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait_for 5 eval "! _alive $pid" || true
	fi
	rm -f "$CTRBOX_TEST_DIR/containerd.pid"
}

# ---- proxy snapshotter (ctrbox-snapshotter) ----

snap_sock() { echo "$CTRBOX_TEST_DIR/snap-$1.sock"; }
snap_root() { echo "$CTRBOX_TEST_DIR/snap-$1"; }

# snap_pid NAME: the pid of the snapshotter serving NAME, if alive.
snap_pid() {
	local f=$CTRBOX_TEST_DIR/snap-$1.pid pid
	[[ -f $f ]] || return 1
	pid=$(cat "$f")
	_alive "$pid" || return 1
	echo "$pid"
}

# snap_start NAME BACKEND [ROOT] [SOCK]: starts ctrbox-snapshotter in the background (log in
# snap-NAME.log) and waits for its socket to answer.
snap_start() {
	local name=$1 backend=$2 root=${3:-$(snap_root "$1")} sock=${4:-$(snap_sock "$1")} pid
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-"
		done
		exec setsid "$SHIMDIR/ctrbox-snapshotter" --root "$root" --address "$sock" \
			--backend "$backend" --log-level debug </dev/null >>"$CTRBOX_TEST_DIR/snap-$name.log" 2>&1
	) &
	pid=$!
	disown "$pid"
	echo "$pid" >"$CTRBOX_TEST_DIR/snap-$name.pid"
	# a killed predecessor leaves its socket file: wait for an answer, not for the file
	wait_for 10 "$REPO/build/tools/grpc-probe" "$sock" list 'name==__ready__' ||
		{ tail -20 "$CTRBOX_TEST_DIR/snap-$name.log" >&2; return 1; }
}

# snap_stop NAME [SIGNAL]: stops it (TERM by default; KILL for crash tests) and waits.
snap_stop() {
	local pid
	pid=$(snap_pid "$1") || return 0
	kill "-${2:-TERM}" "$pid" 2>/dev/null || return 0
	wait_for 10 eval "! _alive $pid" || { kill -KILL "$pid"; wait_for 5 eval "! _alive $pid"; }
	rm -f "$CTRBOX_TEST_DIR/snap-$1.pid"
}

# ---- skeleton shim helpers (the shim CLI contract, driven the way containerd drives it) ----

SKELETON=containerd-shim-skeleton-v1

# sk_bundle ID: a bundle dir as containerd makes it, with a `log` fifo that a reader holds open
# O_RDWR (as containerd does) and copies to log.txt. Prints the dir.
sk_bundle() {
	local b=$BATS_TEST_TMPDIR/bundle-$1
	mkdir -p "$b"
	mkfifo -m 0700 "$b/log"
	(exec cat <>"$b/log" >"$b/log.txt") 3>&- &
	echo $! >"$b/logcat.pid"
	echo "$b"
}

# sk_start ID [BUNDLE]: runs the skeleton's start action in the bundle, as containerd does
# (SK_BIN=PATH: another shim binary's).
sk_start() {
	local b=${2:-$BATS_TEST_TMPDIR/bundle-$1}
	(cd "$b" && TTRPC_ADDRESS=$CTRD_TTRPC exec "${SK_BIN:-$SHIMDIR/$SKELETON}" -namespace "$CTRD_NS" \
		-address "$CTRD_SOCK" -publish-binary /usr/bin/containerd -id "$1" start </dev/null)
}

# sk_address ID: the address containerd 1.6 expects for ID.
sk_address() {
	echo "unix:///run/containerd/s/$(printf '%s' "$CTRD_SOCK/$CTRD_NS/$1" | sha256sum | cut -c1-64)"
}

# sk_pids ID: skeleton daemons serving ID.
sk_pids() {
	local pid
	for pid in $(pgrep -f "(^|/)$SKELETON -namespace $CTRD_NS -id $1 " || true); do
		echo "$pid"
	done
}

# sk_gone ID: no skeleton daemon serves ID, for wait_for (`wait_for 5 sk_gone ID`: the check
# runs again each time, unlike `wait_for 5 test -z "$(sk_pids ID)"`, whose $(...) is expanded
# once, before wait_for starts, so a daemon that was still exiting then fails it for good).
sk_gone() {
	[[ -z $(sk_pids "$1") ]]
}

# sk_cleanup: kills skeleton daemons and log readers this test started, removes their sockets.
sk_cleanup() {
	local b pid
	for pid in $(pgrep -f "(^|/)$SKELETON -namespace $CTRD_NS " || true); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for b in "$BATS_TEST_TMPDIR"/bundle-*; do
		[[ -d $b ]] || continue
		[[ -f $b/logcat.pid ]] && kill "$(cat "$b/logcat.pid")" 2>/dev/null || true
		[[ -f $b/address ]] && rm -f "$(sed 's|^unix://||' "$b/address")"
	done
	return 0
}

# ---- ctrbox-ctr ----

CTRX_TIMEOUT=${CTRX_TIMEOUT:-60}

# ctrx ARGS...: ctrbox-ctr against the private daemon, as ctrt runs ctr: namespace $CTRX_NS
# (default the test namespace), the same --fifo-dir for run / task start / task exec, killed
# after $CTRX_TIMEOUT s.
ctrx() {
	local -a args=("$@")
	case "${1:-} ${2:-}" in
	"run "*) args=(run --fifo-dir "$CTRBOX_TEST_DIR/fifo" "${@:2}") ;;
	t\ start | task\ start | tasks\ start | t\ exec | task\ exec | tasks\ exec)
		args=("$1" "$2" --fifo-dir "$CTRBOX_TEST_DIR/fifo" "${@:3}") ;;
	esac
	timeout --foreground -k 5 "$CTRX_TIMEOUT" "$SHIMDIR/ctrbox-ctr" -a "$CTRD_SOCK" \
		-n "${CTRX_NS:-$CTRD_NS}" "${args[@]}"
}

# ctr_both NAME ARGS...: runs ARGS with ctr (ctrt), then with ctrbox-ctr (ctrx), stdin from
# /dev/null. In ARGS, "{}" stands for NAME-t with ctr and NAME-x with ctrbox-ctr (objects of
# their own); "{}" is the pair's "NAME-?" in the outputs. The two must agree on: stdout, the
# "ctr: ..." lines of stderr (ctr's logrus warnings are not compared), the exit code. Extra
# masking: $CTR_NORM, a sed -E script applied to both; CTR_SORT=1 sorts the lines of stdout
# (lists that containerd keeps in a Go map: tasks). Prints both sides and the diff on a
# mismatch and returns 1. Leaves ctr's normalized stdout in $both_out, its exit code in
# $both_status.
ctr_both() {
	local name=$1 d n
	shift
	local -a at=("${@//\{\}/$name-t}") ax=("${@//\{\}/$name-x}")
	n=${CTR_BOTH_N:-0}
	CTR_BOTH_N=$((n + 1))
	d=$BATS_TEST_TMPDIR/both.$n
	mkdir -p "$d"
	local rt=0 rx=0
	ctrt "${at[@]}" </dev/null >"$d/t.out" 2>"$d/t.err" || rt=$?
	ctrx "${ax[@]}" </dev/null >"$d/x.out" 2>"$d/x.err" || rx=$?
	local s
	for s in t x; do
		{
			sed -E -e "s|$name-[tx]|$name-?|g" -e "${CTR_NORM:-}" "$d/$s.out" |
				if [[ -n ${CTR_SORT:-} ]]; then sort; else cat; fi
			echo "== stderr"
			grep '^ctr: ' "$d/$s.err" | sed -E -e "s|$name-[tx]|$name-?|g" -e "${CTR_NORM:-}"
			echo "== exit"
		} >"$d/$s.cmp"
	done
	echo "$rt" >>"$d/t.cmp"
	echo "$rx" >>"$d/x.cmp"
	both_out=$(sed -E -e "s|$name-[tx]|$name-?|g" -e "${CTR_NORM:-}" "$d/t.out")
	both_status=$rt
	if ! diff -u "$d/t.cmp" "$d/x.cmp" >"$d/diff"; then
		echo "ctr_both: ctr and ctrbox-ctr differ on: ${*}"
		echo "--- ctr ${at[*]} (exit $rt), stderr:"
		cat "$d/t.err"
		echo "--- ctrbox-ctr ${ax[*]} (exit $rx), stderr:"
		cat "$d/x.err"
		echo "--- diff (- ctr, + ctrbox-ctr):"
		cat "$d/diff"
		return 1
	fi
}

# ctr_same ARGS...: ctr_both on the same objects (no "{}"): read-only commands.
ctr_same() {
	ctr_both _same_ "$@"
}

# ---- load and faults ----

# par_each P FUNC [ARGS...]: for every word I read from stdin runs `FUNC ARGS... I` in a
# background subshell (stdin /dev/null: ctr would eat the list), at most P at once, and waits
# for all of them (and only them). Each run's
# output goes to $BATS_TEST_TMPDIR/par/I.out, its exit code to I.rc.
par_each() {
	local p=$1 i j dir=$BATS_TEST_TMPDIR/par
	shift
	local -a running=() alive
	mkdir -p "$dir"
	while read -r i; do
		while ((${#running[@]} >= p)); do
			wait -n "${running[@]}" 2>/dev/null || true
			alive=()
			for j in "${running[@]}"; do
				[[ -e /proc/$j && $(awk '{ print $3 }' "/proc/$j/stat" 2>/dev/null) != Z ]] && alive+=("$j")
			done
			running=("${alive[@]}")
		done
		(
			rc=0
			"$@" "$i" </dev/null >"$dir/$i.out" 2>&1 || rc=$?
			echo "$rc" >"$dir/$i.rc"
		) &
		running+=("$!")
	done
	((${#running[@]} == 0)) || wait "${running[@]}" 2>/dev/null || true
}

# par_failed [N]: the runs of the last par_each that did not exit 0, as "I rc=N: output" lines
# (and a line if not N runs reported).
par_failed() {
	local f i
	if [[ -n ${1:-} && $(ls "$BATS_TEST_TMPDIR"/par/*.rc 2>/dev/null | wc -l) -ne $1 ]]; then
		echo "only $(ls "$BATS_TEST_TMPDIR"/par/*.rc 2>/dev/null | wc -l) of $1 runs reported"
	fi
	for f in "$BATS_TEST_TMPDIR"/par/*.rc; do
		[[ -e $f ]] || continue
		i=${f##*/}
		i=${i%.rc}
		[[ $(cat "$f") == 0 ]] || echo "$i rc=$(cat "$f"): $(tr '\n' ' ' <"$BATS_TEST_TMPDIR/par/$i.out")"
	done
}

# par_reset: forget the results of the last par_each.
par_reset() {
	rm -rf "$BATS_TEST_TMPDIR/par"
}

# events_start FILE: `ctr events` (all namespaces) into FILE in the background, its pid in
# EVPID; returns once the reader is subscribed (events_sync).
events_start() {
	ctr -a "$CTRD_SOCK" events >"$1" 2>&1 &
	EVPID=$!
	events_sync "$1"
}

# events_sync FILE...: labels the test namespace (ctrbox.test/evsync=N, N counting up) until
# every FILE, the output of a `ctr events` reader, shows the update: containerd does not replay
# what was published before a reader subscribed, so a test starts only once they listen.
events_sync() {
	local f i ok
	for ((i = 0; i < 100; i++)); do
		ctr -a "$CTRD_SOCK" namespaces label "$CTRD_NS" "ctrbox.test/evsync=$i" >/dev/null || return 1
		ok=1
		for f; do
			grep -F " /namespaces/update {\"name\":\"$CTRD_NS\"," "$f" 2>/dev/null |
				grep -qF "\"ctrbox.test/evsync\":\"$i\"" || ok=0
		done
		((ok)) && return 0
		sleep 0.1
	done
	echo "events_sync: no reader showed the namespace's update: $(head -c 300 "$1")" >&2
	return 1
}

# events_topic FILE TOPIC: the JSON bodies of our namespace's TOPIC events in FILE, one a line.
events_topic() {
	sed -n "s|^.* $CTRD_NS $2 \({.*}\)\$|\1|p" "$1"
}

# events_exits FILE: our namespace's /tasks/exit events as "CONTAINER ID STATUS" lines.
events_exits() {
	events_topic "$1" /tasks/exit | jq -r '"\(.container_id) \(.id) \(.exit_status // 0)"'
}

# ps_children PID: "PID STAT COMM" of PID's children.
ps_children() {
	ps --ppid "$1" -o pid=,stat=,comm= 2>/dev/null || true
}

# ---- libctrbox examples, built out of tree against an installed library ----

# ex_setup: for a setup_file. `make install` into $BATS_FILE_TMPDIR/dest (PREFIX /usr/local),
# pkg-config pointed at it (PKG_CONFIG_PATH, PKG_CONFIG_SYSROOT_DIR), examples/ copied to $EXDIR
# and every example built there by examples/Makefile with pkg-config alone, statically.
ex_setup() {
	export LIBDEST=$BATS_FILE_TMPDIR/dest PFX=/usr/local
	make -C "$REPO" --no-print-directory install PREFIX=$PFX DESTDIR="$LIBDEST" >"$BATS_FILE_TMPDIR/install.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/install.log" >&2; return 1; }
	# pkg-config from the staged prefix: the sysroot is prepended to its -I/-L paths
	export PKG_CONFIG_PATH=$LIBDEST$PFX/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$LIBDEST
	export EXDIR=$BATS_FILE_TMPDIR/examples
	rm -rf "$EXDIR"
	cp -r "$REPO/examples" "$EXDIR"
	make -C "$EXDIR" CFLAGS="-O2 -Wall -Wextra -Werror -Wno-unused-parameter" >"$BATS_FILE_TMPDIR/examples.log" 2>&1 ||
		{ cat "$BATS_FILE_TMPDIR/examples.log" >&2; return 1; }
}

# ctrd_disabled_plugins [-NAME | +NAME]...: the disabled_plugins line of the tests' containerd
# configs: CRI (slow start, netns/CNI; 2.x splits it into cri.v1.*), "opt" (creates
# /opt/containerd), tracing, and the snapshotters that only probe (names of either version: the
# other ignores them); less each -NAME, plus each +NAME (e.g. +io.containerd.nri.v1.nri).
ctrd_disabled_plugins() {
	local -a l=(io.containerd.grpc.v1.cri io.containerd.internal.v1.opt
		io.containerd.snapshotter.v1.aufs io.containerd.snapshotter.v1.btrfs
		io.containerd.snapshotter.v1.devmapper io.containerd.snapshotter.v1.zfs
		io.containerd.tracing.processor.v1.otlp io.containerd.internal.v1.tracing
		io.containerd.cri.v1.images io.containerd.cri.v1.runtime
		io.containerd.podsandbox.controller.v1.podsandbox io.containerd.snapshotter.v1.erofs
		io.containerd.snapshotter.v1.blockfile)
	local a i
	for a in "$@"; do
		case $a in
		-*) for i in "${!l[@]}"; do [[ ${l[i]} != "${a#-}" ]] || unset 'l[i]'; done ;;
		+*) l+=("${a#+}") ;;
		esac
	done
	printf 'disabled_plugins = ['
	printf '\n  "%s",' "${l[@]}"
	printf '\n]\n'
}

# bg_run DIR NAME CMD...: CMD in the background with stdio to DIR/NAME.log and bats' fds closed
# (bats waits for them otherwise), its pid in DIR/NAME.pid.
bg_run() {
	local dir=$1 name=$2
	shift 2
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-"
		done
		exec "$@" </dev/null >"$dir/$name.log" 2>&1
	) &
	echo $! >"$dir/$name.pid"
	disown
}

# bg_stop DIR NAME: the process bg_run DIR NAME started: SIGTERM, SIGKILL if it is not gone in
# 10 s; its pid file removed.
bg_stop() {
	local f=$1/$2.pid pid
	[[ -f $f ]] || return 0
	pid=$(cat "$f")
	kill -TERM "$pid" 2>/dev/null && wait_for 10 eval "! _alive $pid" || kill -KILL "$pid" 2>/dev/null || true
	rm -f "$f"
}
