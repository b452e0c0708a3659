#!/usr/bin/env bats
# Load and fault tests through the real containerd: many containers and racing execs at once,
# then faults -- a shim, containerd, the logging binary and the snapshotter killed with SIGKILL
# mid-work. Each test says what it tried and checks that nothing was lost: every exit seen
# exactly once with the right code, and no container, shim, mount, cgroup, process, fifo or
# socket left.
#
# Sizes come from the environment; the defaults keep the file to about two minutes on CI:
#   LOAD_CONTAINERS  containers started at once (default 50; full run 200)
#   LOAD_EXECS       racing execs into one container (default 200; full run 1000)
#   LOAD_PAR         ctr clients running at once (default 16)

load helpers
bats_require_minimum_version 1.5.0

LOAD_CONTAINERS=${LOAD_CONTAINERS:-50}
LOAD_EXECS=${LOAD_EXECS:-200}
LOAD_PAR=${LOAD_PAR:-16}
PROBE=${REPO:-.}/build/tools/grpc-probe

setup() {
	require_root
	require_ctrbox containerd-shim-runc-v2
	ctrd_log_mark
	T0=$SECONDS
}

teardown() {
	[[ -n ${EVPID:-} ]] && kill "$EVPID" 2>/dev/null
	[[ -n ${BGPID:-} ]] && kill "$BGPID" 2>/dev/null
	# a fault test that failed half-way must not leave the daemons down for the next one
	ctrd_pid >/dev/null || ctrd_start || true
	[[ -x ${CTRBOX:-} ]] && { snap_pid ctrbox >/dev/null || snap_start ctrbox overlayfs || true; }
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		dump_ctrd_log 60
		ctrd_clean_ns 10
	fi
	return 0
}

# note TEXT: a line in bats' TAP output (what the test saw; kept in CI logs).
note() {
	echo "# $BATS_TEST_DESCRIPTION: $* ($((SECONDS - T0))s)" >&3
}

# shim_of ID: the shim daemon serving task ID, if it is ctrbox (not a child it forked that has
# not exec'd yet).
shim_of() {
	local pid ppid
	for pid in $(shim_pids "$CTRD_SOCK"); do
		_cmdline_has "$pid" -id "$1" || continue
		[[ $(readlink -f "/proc/$pid/exe") == $(readlink -f "$CTRBOX") ]] || continue
		ppid=$(awk '/^PPid:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)
		[[ -n $ppid ]] && _cmdline_has "$ppid" -id "$1" && continue
		echo "$pid"
		return 0
	done
	return 1
}

# shim_ids: the ids the ctrbox shim daemons of our containerd serve, one a line.
shim_ids() {
	local pid exe
	local -a args
	exe=$(readlink -f "$CTRBOX")
	for pid in $(shim_pids "$CTRD_SOCK"); do
		[[ $(readlink -f "/proc/$pid/exe") == "$exe" ]] || continue
		mapfile -d '' args 2>/dev/null <"/proc/$pid/cmdline" || continue
		[[ ${args[-1]} != start && ${args[-1]} != delete ]] || continue
		local i
		for ((i = 0; i < ${#args[@]} - 1; i++)); do
			[[ ${args[i]} == -id ]] && echo "${args[i + 1]}"
		done
	done
}

task_pid() {
	ctrt task ls | awk -v id="$1" '$1 == id { print $2 }'
}

# count_status PREFIX STATUS: tasks whose id starts with PREFIX in STATUS.
count_status() {
	ctrt task ls | awk -v p="$1" -v s="$2" 'index($1, p) == 1 && $3 == s' | wc -l
}

# shim_socket ID: the socket containerd 1.6 derives for task ID.
shim_socket() {
	echo "/run/containerd/s/$(printf '%s' "$CTRD_SOCK/$CTRD_NS/$1" | sha256sum | cut -c1-64)"
}

# no_zombies: no zombie child of our containerd, of a shim or of the snapshotter (a live parent
# that failed to reap). Other processes on the machine are not ours to judge.
no_zombies() {
	local z parents
	parents=" $(ctrd_pid) $(snap_pid ctrbox) $(shim_pids | tr '\n' ' ') "
	z=$(ps -eo pid=,stat=,ppid=,comm= | awk -v p="$parents" '$2 ~ /^Z/ && index(p, " " $3 " ")')
	[[ -z $z ]] || fail "zombies: $z"
}

_run_sleeper() { ctrt run -d "$TEST_IMAGE" "ld$1" sleep 100000; }
_kill_task() { ctrt task kill -s SIGKILL "ld$1"; }
_rm_task() { ctrt task rm "ld$1" && ctrt container rm "ld$1"; }

@test "load: LOAD_CONTAINERS containers started at once (ctr run -d in parallel): all RUNNING, one shim each, all SIGKILLed (one exit 137 each), removed; nothing left" {
	local n=$LOAD_CONTAINERS ev=$BATS_TEST_TMPDIR/events i
	local fifos0
	fifos0=$(ls "$CTRBOX_TEST_DIR/fifo" 2>/dev/null | wc -l)
	events_start "$ev"
	seq "$n" | par_each "$LOAD_PAR" _run_sleeper
	run par_failed "$n"
	assert_output ''
	local t_run=$((SECONDS - T0))
	wait_for 60 eval '[[ $(count_status ld RUNNING) -eq '"$n"' ]]' ||
		fail "RUNNING: $(count_status ld RUNNING) of $n: $(ctrt task ls | awk '{ print $3 }' | sort | uniq -c | tr '\n' ' '); containers: $(ctrt container ls -q | wc -l)"
	# one shim daemon per container (the start actions have exited)
	wait_for 30 eval '[[ $(shim_pids | wc -l) -eq '"$n"' ]]' || fail "shims: $(shim_pids | wc -l) for $n containers"
	run shim_ids
	[[ $(sort <<<"$output") == $(for i in $(seq "$n"); do echo "ld$i"; done | sort) ]] ||
		fail "ctrbox shims serve: $output"
	local t_shims=$((SECONDS - T0))
	par_reset
	seq "$n" | par_each "$LOAD_PAR" _kill_task
	run par_failed "$n"
	assert_output ''
	local t_kill=$((SECONDS - T0))
	wait_for 60 eval '[[ $(count_status ld STOPPED) -eq '"$n"' ]]' ||
		fail "STOPPED: $(count_status ld STOPPED) of $n"
	# every exit reached containerd exactly once, with SIGKILL's status
	wait_for 20 eval '[[ $(events_exits '"$ev"' | wc -l) -ge '"$n"' ]]' || true
	run events_exits "$ev"
	[[ $(sort <<<"$output") == $(for i in $(seq "$n"); do echo "ld$i ld$i 137"; done | sort) ]] ||
		fail "exit events differ: $(sort <<<"$output" | uniq -c | awk '$1 != 1 || $4 != 137' | head)"
	local t_stopped=$((SECONDS - T0))
	par_reset
	seq "$n" | par_each "$LOAD_PAR" _rm_task
	local t_rm=$((SECONDS - T0))
	run par_failed "$n"
	assert_output ''
	wait_for 10 eval '[[ $(events_topic '"$ev"' /tasks/delete | wc -l) -eq '"$n"' ]]' ||
		fail "delete events: $(events_topic "$ev" /tasks/delete | wc -l) for $n"
	wait_for 20 eval '[[ -z $(shim_pids) ]]'
	assert_no_leaks
	for i in $(seq "$n"); do
		[[ ! -e $(shim_socket "ld$i") ]] || fail "socket left for ld$i"
	done
	no_zombies
	note "$n containers: run done at ${t_run}s, shims checked ${t_shims}s, killed ${t_kill}s, all STOPPED ${t_stopped}s, removed ${t_rm}s; $n RUNNING, $n shims, $n exits (137), nothing left; fifos ctr keeps for -d: $(($(ls "$CTRBOX_TEST_DIR/fifo" 2>/dev/null | wc -l) - fifos0))"
}

# exec I: exec eI exits with I % 256; a wrong code is reported.
_exec_code() {
	local rc=0 want=$(($1 % 256))
	ctrt task exec --exec-id "e$1" lx sh -c "exit $want" </dev/null || rc=$?
	[[ $rc == "$want" ]] || { echo "exec e$1 exited $rc, want $want"; return 1; }
}

@test "load: LOAD_EXECS racing execs into one container: every ctr exit code right, one exec-started and one exit event each, nothing left in the shim" {
	local m=$LOAD_EXECS ev=$BATS_TEST_TMPDIR/events i shim
	ctrt run -d "$TEST_IMAGE" lx sleep 100000
	wait_for 10 task_is lx RUNNING
	shim=$(shim_of lx)
	local fifos0
	fifos0=$(ls "$CTRBOX_TEST_DIR/fifo" 2>/dev/null | sort)
	events_start "$ev"
	seq "$m" | par_each "$LOAD_PAR" _exec_code
	run par_failed "$m"
	assert_output ''
	local t_exec=$((SECONDS - T0))
	wait_for 20 eval '[[ $(events_exits '"$ev"' | grep -c "^lx e") -ge '"$m"' ]]' || true
	run bash -c "sed -n 's|^.* $CTRD_NS /tasks/exit ||p' '$ev' | jq -r 'select(.id != \"lx\") | \"\(.container_id) \(.id) \(.exit_status // 0)\"' | sort"
	[[ $output == $(for i in $(seq "$m"); do echo "lx e$i $((i % 256))"; done | sort) ]] ||
		fail "exit events differ (count $(wc -l <<<"$output") for $m): $(diff <(echo "$output") <(for i in $(seq "$m"); do echo "lx e$i $((i % 256))"; done | sort) | head)"
	[[ $(events_topic "$ev" /tasks/exec-started | grep -c '"container_id":"lx"') -eq $m ]]
	[[ $(events_topic "$ev" /tasks/exec-added | grep -c '"container_id":"lx"') -eq $m ]]
	# every exec was deleted: the shim has only the init left, and no zombie child
	run ctrt task ps lx
	assert_success
	[[ ${#lines[@]} -eq 2 ]] || fail "task ps: $output"
	[[ $(ps_children "$shim" | wc -l) -eq 1 ]] || fail "shim children: $(ps_children "$shim")"
	_alive "$shim"
	[[ $(ls "$CTRBOX_TEST_DIR/fifo" 2>/dev/null | sort) == "$fifos0" ]] || fail "exec fifos left"
	ctrt task kill -s SIGKILL lx
	wait_for 10 task_is lx STOPPED
	ctrt task rm lx
	ctrt container rm lx
	wait_for 10 eval '[[ -z $(shim_pids) ]]'
	assert_no_leaks
	no_zombies
	note "$m execs in ${t_exec}s, $m exit codes right, $m exit events (each once, codes right)"
}

@test "fault: SIGKILL of the shims of 3 busy containers (running execs): containerd cleans up through the delete action; no task, process, mount, cgroup left" {
	local ev=$BATS_TEST_TMPDIR/events i shim
	local -a pids=() epids=()
	events_start "$ev"
	for i in 1 2 3; do
		ctrt run -d "$TEST_IMAGE" "lk$i" sleep 100000
		wait_for 10 task_is "lk$i" RUNNING
		ctrt task exec -d --exec-id busy "lk$i" sh -c 'while :; do sleep 1; done'
		pids+=("$(task_pid "lk$i")")
		epids+=("$(ps_exec_pid "lk$i" busy)")
		[[ -n ${epids[-1]} ]]
	done
	# an exec in flight while the shim dies: its ctr must fail, not hang
	ctrt task exec --exec-id inflight lk1 sleep 100000 </dev/null >/dev/null 2>&1 &
	BGPID=$!
	wait_for 10 eval '[[ -n $(ps_exec_pid lk1 inflight) ]]'
	for i in 1 2 3; do
		shim=$(shim_of "lk$i")
		kill -KILL "$shim"
	done
	for i in 1 2 3; do
		wait_for 20 bash -c "! ctr -a '$CTRD_SOCK' -n '$CTRD_NS' task ls -q | grep -qx lk$i" ||
			fail "task lk$i still listed: $(ctrt task ls)"
	done
	local rc=0
	timeout 20 tail --pid="$BGPID" -f /dev/null || fail "ctr exec did not return after its shim died"
	wait "$BGPID" || rc=$?
	BGPID=
	[[ $rc != 0 ]] || fail "the in-flight exec reported success"
	for i in 0 1 2; do
		wait_for 10 eval "! _alive ${pids[i]}" || fail "container process ${pids[i]} left"
		wait_for 10 eval "! _alive ${epids[i]}" || fail "exec process ${epids[i]} left"
	done
	ctrd_log | grep -q 'cleaning up dead shim'
	# containerd reports the init's exit once, with the status the delete action gave (137)
	wait_for 10 eval '[[ $(events_exits '"$ev"' | grep -c "^lk") -ge 3 ]]' || true
	run events_exits "$ev"
	echo "exit events: $output"
	[[ $(grep '^lk' <<<"$output" | awk '{ print $1, $3 }' | sort) == "$(printf 'lk%s 137\n' 1 2 3)" ]]
	for i in 1 2 3; do
		ctrt container rm "lk$i"
	done
	assert_no_leaks
	no_zombies
	local left=0
	for i in 1 2 3; do
		[[ -e $(shim_socket "lk$i") ]] && left=$((left + 1)) && rm -f "$(shim_socket "lk$i")"
	done
	note "3 shims killed: 3 tasks cleaned, 3 exits (137), in-flight exec failed rc=$rc; shim sockets left by the killed shims: $left (the Go shim's delete action does not remove them either)"
}

# _storm I: exec sI into lr(I%4+1); exits I%200+10 (ctr itself fails with 1 when containerd is
# gone); prints "ok", "down" (ctr failed to reach containerd) or "WRONG".
_storm() {
	local rc=0 want=$(($1 % 200 + 10))
	CTRT_TIMEOUT=30 ctrt task exec --exec-id "s$1" "lr$(($1 % 4 + 1))" sh -c "exit $want" </dev/null || rc=$?
	if [[ $rc == "$want" ]]; then
		echo ok
	elif [[ $rc == 1 ]]; then
		echo down # not an exit code: ctr's own error
	else
		echo "WRONG $rc want $want"
		return 1
	fi
}

@test "fault: containerd SIGKILLed and restarted while 5 containers run and execs race: every task still managed (same pid, exec, kill, rm), an exit during the outage keeps its code (1.6; 2.x removes that task)" {
	local i pid
	local -A tpid=()
	for i in 1 2 3 4; do
		ctrt run -d "$TEST_IMAGE" "lr$i" sleep 100000
		wait_for 10 task_is "lr$i" RUNNING
		ctrt task exec -d --exec-id keep "lr$i" sleep 100000
		tpid[lr$i]=$(task_pid "lr$i")
	done
	# lrx exits 42 when the host creates /go in its rootfs: it will do so while containerd is down
	ctrt run -d "$TEST_IMAGE" lrx sh -c 'while [ ! -e /go ]; do usleep 50000; done; exit 42'
	wait_for 10 task_is lrx RUNNING
	tpid[lrx]=$(task_pid lrx)
	local n=$((LOAD_EXECS / 2))
	(seq "$n" | par_each 4 _storm) 3>&- &
	BGPID=$!
	# the kill lands after a quarter of the storm (and a random bit more), whatever the speed
	wait_for 60 eval '[[ $(ls '"$BATS_TEST_TMPDIR"'/par/*.rc 2>/dev/null | wc -l) -ge '"$((n / 4))"' ]]'
	sleep "0.$((RANDOM % 5))"
	local ctrd
	ctrd=$(ctrd_pid)
	kill -KILL "$ctrd"
	wait_for 10 eval "! _alive $ctrd"
	touch "$(bundle_dir lrx)/rootfs/go"
	wait_for 10 eval "! _alive ${tpid[lrx]}" || fail "lrx did not exit"
	sleep 1
	ctrd_start
	wait "$BGPID" || true
	BGPID=
	local ok down wrong
	ok=$(cat "$BATS_TEST_TMPDIR"/par/*.out | grep -cx ok) || true
	down=$(cat "$BATS_TEST_TMPDIR"/par/*.out | grep -cx down) || true
	wrong=$(cat "$BATS_TEST_TMPDIR"/par/*.out | grep WRONG) || true
	[[ -z $wrong ]] || fail "execs with a wrong exit code: $wrong"
	[[ $((ok + down)) -eq $n ]] || fail "storm: $ok ok, $down failed, of $n"
	# every task is still there, with its pid; the one that exited meanwhile is STOPPED
	for i in 1 2 3 4; do
		wait_for 10 task_is "lr$i" RUNNING || fail "lr$i: $(task_status "lr$i")"
		[[ $(task_pid "lr$i") == "${tpid[lr$i]}" ]]
		run ctrt task exec --exec-id post "lr$i" sh -c 'exit 7'
		assert_failure 7
		run ctrt task ps "lr$i"
		assert_output --partial "$(ps_exec_info keep)"
		pid=$(ps_exec_pid "lr$i" keep)
		ctrt task kill --exec-id keep -s SIGKILL "lr$i"
		wait_for 10 eval "! _alive $pid"
	done
	local lrx_end
	if ctrd_is 1.6; then
		wait_for 10 task_is lrx STOPPED
		run ctrt task rm lrx
		assert_success
		assert_output --partial "exit with non-zero exit code 42"
		lrx_end="lrx's 42 survived the outage"
	else
		# containerd 2.x cleans up a shim it loads with no process left (core/runtime/v2/
		# shim_load.go, "cleaning leaked shim process"; the Go shim's task goes the same way):
		# lrx's task is gone, its container and nothing else of it is left
		wait_for 10 eval 'ctrd_log | grep -q "msg=\"cleaning leaked shim process\" id=lrx "'
		wait_for 10 eval '[[ -z $(task_status lrx) ]]'
		[[ ! -e $(bundle_dir lrx) ]]
		lrx_end="containerd 2.x removed lrx's task at its restart (no process left)"
	fi
	ctrt container rm lrx
	for i in 1 2 3 4; do
		ctrt task kill -s SIGKILL "lr$i"
		wait_for 10 task_is "lr$i" STOPPED
		run ctrt task rm "lr$i"
		assert_output --partial "exit code 137"
		ctrt container rm "lr$i"
	done
	wait_for 10 eval '[[ -z $(shim_pids) ]]'
	assert_no_leaks
	no_zombies
	note "containerd killed mid-storm: $ok execs ok, $down failed (rc 1: containerd down or gone mid-call), 0 wrong; 4 tasks kept their pids and keep-execs; $lrx_end"
}

@test "fault: the logging binary (ctrbox-journal, file mode) SIGKILLed mid-stream: the writer gets EPIPE (never blocks) and keeps running, the shim survives and reaps it, lines before the kill are in the file" {
	local f=$BATS_TEST_TMPDIR/c.log shim logger
	# the writer ignores SIGPIPE (a writer that does not dies of it: the pipe's read end is gone)
	ctrt run -d --log-uri "binary://$SHIMDIR/ctrbox-journal?mode=file&path=$f" "$TEST_IMAGE" lj \
		sh -c 'trap "" PIPE; i=0; while :; do i=$((i + 1)); echo "line $i" 2>/dev/null; if [ $((i % 100)) -eq 0 ]; then echo $i >/n; usleep 5000; fi; done'
	wait_for 10 task_is lj RUNNING
	shim=$(shim_of lj)
	logger=$(pgrep -P "$shim" -x ctrbox-journal)
	[[ -n $logger ]]
	wait_for 20 eval '[[ $(wc -l <'"$f"') -ge 2000 ]]'
	local before
	before=$(wc -l <"$f")
	kill -KILL "$logger"
	wait_for 10 eval "[[ ! -e /proc/$logger ]]" || fail "the shim did not reap its logger: $(ps_children "$shim")"
	# the writer keeps going: its counter advances, and it is not blocked in a pipe write
	local n1 n2 root
	root=$(bundle_dir lj)/rootfs
	sleep 0.5
	n1=$(counter "$root/n")
	sleep 1
	n2=$(counter "$root/n")
	((n2 > n1 + 100)) || fail "writer stalled: counter $n1 -> $n2"
	_alive "$shim"
	task_is lj RUNNING
	# nothing more reaches the file; what is there is an unbroken run of lines from 1
	local after
	after=$(wc -l <"$f")
	((after >= before))
	run bash -c "awk '\$2 == \"stdout\" { if (\$5 != NR) { print \"gap at\", NR, \$0; exit } n = NR } END { print \"last\", n }' '$f'"
	assert_output "last $after"
	[[ $(grep -cvE '^[0-9-]{10}T[0-9:.]{18}Z stdout F line [0-9]+$' "$f") == 0 ]]
	ctrt task kill -s SIGKILL lj
	wait_for 10 task_is lj STOPPED
	run ctrt task rm lj
	assert_output --partial "exit code 137"
	ctrt container rm lj
	wait_for 10 eval '[[ -z $(shim_pids) ]]'
	assert_no_leaks
	no_zombies
	note "logger killed at $before lines in the file ($after after): lines 1..$after kept; the writer had written $n2+ lines by then, the rest got EPIPE (lost)"
}

# counter FILE: the number the writer keeps in FILE (it truncates and rewrites it: retry).
counter() {
	local v i
	for i in $(seq 50); do
		v=$(cat "$1" 2>/dev/null)
		[[ -n $v ]] && { echo "$v"; return 0; }
		sleep 0.02
	done
	return 1
}

# snap_dirs_match: after Cleanup, ctrbox keeps exactly one directory per snapshot it knows.
snap_dirs_match() {
	local sock root listed dirs
	sock=$(snap_sock ctrbox)
	root=$(snap_root ctrbox)
	"$PROBE" "$sock" cleanup >/dev/null || return 1
	listed=$("$PROBE" "$sock" list | grep -c . || true)
	dirs=$(ls "$root/snapshots" | wc -l)
	echo "snapshots: $listed listed, $dirs dirs"
	[[ $listed -eq $dirs ]]
}

@test "fault: the ctrbox snapshotter SIGKILLed mid-import (3 rounds, random points), restarted: the import retried succeeds, ctr run works, Cleanup leaves one dir per snapshot" {
	require_ctrbox ctrbox-snapshotter
	[[ -x $PROBE ]] || skip "build/tools/grpc-probe not built"
	local tar=$BATS_TEST_TMPDIR/img.tar r rc chain t0 dt hit=''
	"$REPO/tests/bats/mkimage.sh" "$tar" "$TEST_IMAGE" # (not ctr 2.x's export: see 95-snapshotter.bats)
	chain=$(ctrt snapshots --snapshotter overlayfs ls | awk '$NF == "Committed" { print $1; exit }')
	[[ -n $chain ]]
	# how long an import that unpacks takes here: the kills land in [0, that)
	ctrt snapshots --snapshotter ctrbox rm "$chain" >/dev/null 2>&1 || true
	t0=${EPOCHREALTIME/./}
	ctrt images import --snapshotter ctrbox "$tar" >/dev/null
	local span=$(((${EPOCHREALTIME/./} - t0) / 1000))
	for r in 1 2 3; do
		# drop ctrbox's copy of the layer so the import unpacks it again (best effort)
		ctrt snapshots --snapshotter ctrbox rm "$chain" >/dev/null 2>&1 || true
		t0=${EPOCHREALTIME/./}
		ctrt images import --snapshotter ctrbox "$tar" >/dev/null 2>&1 &
		BGPID=$!
		sleep "$(printf '0.%03d' $((RANDOM % (span > 999 ? 999 : span + 1))))"
		snap_stop ctrbox KILL
		dt=$(((${EPOCHREALTIME/./} - t0) / 1000))
		rc=0
		wait "$BGPID" || rc=$?
		BGPID=
		hit+=" ${dt}ms:rc=$rc"
		snap_start ctrbox overlayfs
		# containerd's gRPC client backs off before it reconnects: retry until it does
		wait_for 30 ctrt images import --snapshotter ctrbox "$tar" ||
			fail "import after restart $r: $(ctrt images import --snapshotter ctrbox "$tar" 2>&1)"
		ctrt snapshots --snapshotter ctrbox ls | grep -q "^$chain .*Committed"
		run ctrt run --snapshotter ctrbox --rm "$TEST_IMAGE" "ls$r" echo hi
		assert_success
		assert_output hi
	done
	run ctrt images check
	assert_line --regexp "^$TEST_IMAGE .*complete"
	# what the killed unpacks left (active extract-* snapshots) goes with containerd's GC; then
	# the snapshotter's Cleanup removes directories without a snapshot
	wait_for 20 snap_dirs_match || fail "$(snap_dirs_match)"
	run snap_dirs_match
	assert_success
	assert_no_leaks
	note "import takes ${span}ms; kills at$hit (ms after import start: exit code of the killed import); $output: $("$PROBE" "$(snap_sock ctrbox)" list | cut -d'|' -f1,3 | sed 's|^[^/]*/[0-9]*/||' | tr '\n' ' ')"
}
