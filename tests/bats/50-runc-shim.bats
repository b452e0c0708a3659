#!/usr/bin/env bats
# containerd-shim-runc-v2 = ctrbox: the core lifecycle through a real containerd and real runc.
# containerd finds the shim through PATH ($SHIMDIR first), so every `ctr run` here uses ctrbox.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	ctrd_log_mark
}

teardown() {
	[[ -n ${EVPID:-} ]] && kill "$EVPID" 2>/dev/null
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		dump_ctrd_log 40
		ctrd_clean_ns 10
	fi
	return 0
}

# The shim serving task ID: its pid, checked to be ctrbox and not the Go shim.
our_shim_pid() {
	local pid
	for pid in $(shim_pids "$CTRD_SOCK"); do
		_cmdline_has "$pid" -id "$1" || continue
		[[ $(readlink -f "/proc/$pid/exe") == $(readlink -f "$CTRBOX") ]] || return 1
		echo "$pid"
		return 0
	done
	return 1
}

@test "ctr run --rm echo hello prints hello" {
	run ctrt run --rm "$TEST_IMAGE" r1 echo hello
	assert_success
	assert_output "hello"
	ctrd_log | grep -q 'msg="starting signal loop".*runtime=io.containerd.runc.v2'
	assert_no_leaks
}

@test "by absolute path (--runtime /abs/shim, no runtime options sent) it runs the same" {
	run ctrt run --rm --runtime "$SHIMDIR/containerd-shim-runc-v2" "$TEST_IMAGE" r1b echo abs
	assert_success
	assert_output "abs"
	ctrt run -d --runtime "$SHIMDIR/containerd-shim-runc-v2" "$TEST_IMAGE" r1c sleep 1000
	wait_for 10 task_is r1c RUNNING
	local b
	b=$(bundle_dir r1c)
	[[ $(cat "$b/options.json") == "{}" ]]
	[[ -f $b/runtime && ! -s $b/runtime ]]
	[[ $(stat -c %a "$b/options.json") == 600 ]]
	[[ $(cat "$b/init.pid") == $(ctrt task ls | awk '$1 == "r1c" { print $2 }') ]]
	[[ $(shim_address r1c) == unix:///run/containerd/s/* ]]
	ctrt task kill -s SIGKILL r1c
	wait_for 10 task_is r1c STOPPED
	ctrt task rm r1c
	ctrt container rm r1c
	assert_no_leaks
}

@test "the container's exit status is ctr run's exit status" {
	run ctrt run --rm "$TEST_IMAGE" r2 sh -c 'echo out; echo err >&2; exit 7'
	assert_failure 7
	assert_line "out"
	assert_line "err"
	assert_no_leaks
}

@test "run -d: RUNNING with the right pid under our shim; SIGTERM stops it; rm cleans up" {
	# PID 1 of a pid namespace ignores SIGTERM unless it handles it (as with the Go shim)
	run ctrt run -d "$TEST_IMAGE" r3 sh -c 'trap "exit 143" TERM; while :; do sleep 1; done'
	assert_success
	wait_for 10 task_is r3 RUNNING
	local pid shim
	pid=$(ctrt task ls | awk '$1 == "r3" { print $2 }')
	shim=$(our_shim_pid r3)
	[[ -n $pid && -n $shim ]]
	[[ $(awk '/^PPid:/ { print $2 }' "/proc/$pid/status") == "$shim" ]] # reparented to the subreaper
	[[ $(tr '\0' ' ' <"/proc/$pid/cmdline") == sh\ -c\ trap* ]]
	[[ $(awk '/^Threads:/ { print $2 }' "/proc/$shim/status") == 1 ]]
	run ctrt task ps r3
	assert_success
	assert_output --partial "$pid"
	run ctrt task kill r3 # SIGTERM
	assert_success
	wait_for 10 task_is r3 STOPPED
	run ! kill -0 "$pid"
	run ctrt task rm r3
	assert_success
	assert_output --partial "exit with non-zero exit code 143"
	run ctrt container rm r3
	assert_success
	wait_for 10 eval '[[ -z $(shim_pids "$CTRD_SOCK") ]]'
	assert_no_leaks
}

@test "SIGKILL and --all stop a task; exit statuses reach containerd (137)" {
	ctrt run -d "$TEST_IMAGE" r4 sh -c 'sleep 1000 & sleep 1000'
	wait_for 10 task_is r4 RUNNING
	run ctrt task kill -s SIGKILL --all r4
	assert_success
	wait_for 10 task_is r4 STOPPED
	run ctrt task rm r4
	assert_success
	assert_output --partial "exit with non-zero exit code 137"
	ctrt container rm r4
	ctrt run -d "$TEST_IMAGE" r5 sleep 1000
	wait_for 10 task_is r5 RUNNING
	ctrt task kill -s SIGKILL r5
	wait_for 10 task_is r5 STOPPED
	run ctrt task delete r5
	assert_output --partial "137"
	ctrt container rm r5
	assert_no_leaks
}

# ctr 1.6 has no -i: a non-detached ctr run always forwards its stdin. ctr sends CloseIO when its
# stdin ends, but only once NewTask has returned: a pipe that is already at EOF then never gets
# CloseIO and `cat` waits forever -- with the Go shim too (checked side by side). So: EOF after
# start goes through CloseIO; an immediate EOF is tested with a reader that needs none.
@test "stdin reaches the container, and CloseIO delivers EOF: (sleep; echo abc) | ctr run cat" {
	run ctrt run --rm "$TEST_IMAGE" r6 cat < <(sleep 1; echo abc)
	assert_success
	assert_output "abc"
	run ctrt run --rm "$TEST_IMAGE" r6b head -n1 < <(echo abc)
	assert_success
	assert_output "abc"
	assert_no_leaks
}

@test "ctr events shows /tasks/create, start, exit, delete in order with the right fields" {
	local out=$BATS_TEST_TMPDIR/events
	events_start "$out"
	run ctrt run --rm "$TEST_IMAGE" r7 sh -c 'exit 3'
	assert_failure 3
	wait_for 10 grep -q '/tasks/delete' "$out"
	run grep -o "$CTRD_NS /tasks/[a-z]*" "$out"
	assert_output "$(printf '%s\n' "$CTRD_NS /tasks/create" "$CTRD_NS /tasks/start" "$CTRD_NS /tasks/exit" "$CTRD_NS /tasks/delete")"
	grep -q "/tasks/create {\"container_id\":\"r7\",\"bundle\":\"$(bundle_dir r7)\",\"rootfs\":\[{\"type\":\"overlay\"" "$out"
	local t
	t=$(ev_time_re)
	grep -qE '/tasks/exit \{"container_id":"r7","id":"r7","pid":[0-9]+,"exit_status":3,"exited_at":'"$t"'\}$' "$out"
	grep -qE '/tasks/delete \{"container_id":"r7","pid":[0-9]+,"exit_status":3,"exited_at":'"$t"'\}$' "$out"
}

@test "a bad command fails with runc's own message and the shim cleans up" {
	run ctrt run --rm "$TEST_IMAGE" r8 /nonexistent
	assert_failure
	assert_output --partial 'OCI runtime create failed: runc create failed: unable to start container process: exec: "/nonexistent": stat /nonexistent: no such file or directory'
	ctrt container rm r8 2>/dev/null || true
	wait_for 10 eval '[[ -z $(shim_pids "$CTRD_SOCK") ]]'
	assert_no_leaks
}

@test "Kill of an unknown exec id answers NotFound; unknown tasks answer NotFound" {
	ctrt run -d "$TEST_IMAGE" r9 sleep 1000
	wait_for 10 task_is r9 RUNNING
	run ctrt task kill --exec-id nope r9
	assert_failure
	assert_output --partial "process does not exist nope: not found"
	ctrt task kill -s SIGKILL r9
	wait_for 10 task_is r9 STOPPED
	run ctrt task kill r9 # already finished
	assert_failure
	assert_output --partial "not found"
	ctrt task rm r9
	ctrt container rm r9
	assert_no_leaks
}

@test "a killed shim is cleaned up by containerd through the delete action" {
	ctrt run -d "$TEST_IMAGE" r10 sleep 1000
	wait_for 10 task_is r10 RUNNING
	local shim pid
	shim=$(our_shim_pid r10)
	pid=$(ctrt task ls | awk '$1 == "r10" { print $2 }')
	kill -KILL "$shim"
	# containerd runs `shim ... delete` (runc delete --force, unmount) and reports 137
	wait_for 15 bash -c "! ctr -a '$CTRD_SOCK' -n '$CTRD_NS' task ls -q | grep -qx r10"
	wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
	ctrd_log | grep -q 'cleaning up dead shim'
	ctrt container rm r10
	assert_no_leaks
}

@test "100 sequential ctr run --rm leave no shim, mount, fifo, socket, cgroup or zombie" {
	local before_fifos i sock
	before_fifos=$(ls "$CTRBOX_TEST_DIR/fifo" 2>/dev/null | sort) # ctr run -d keeps its own
	for i in $(seq 100); do
		out=$(ctrt run --rm "$TEST_IMAGE" "seq$i" echo "run $i") || fail "run $i failed: $out"
		[[ $out == "run $i" ]] || fail "run $i printed: $out"
	done
	assert_no_leaks
	for i in $(seq 100); do # the socket each run's shim served (others share the dir)
		sock=/run/containerd/s/$(printf '%s' "$CTRD_SOCK/$CTRD_NS/seq$i" | sha256sum | cut -c1-64)
		[[ ! -e $sock ]] || fail "socket left for seq$i: $sock"
	done
	[[ $(ls "$CTRBOX_TEST_DIR/fifo" 2>/dev/null | sort) == "$before_fifos" ]] || fail "fifos left: $(ls "$CTRBOX_TEST_DIR/fifo")"
	# no zombie left to containerd or a shim of it (a live parent failed to reap it); other
	# processes on the machine are not this test's business (CI may run other work)
	local parents
	parents=$( (ctrd_pid; shim_pids) | paste -sd'|')
	wait_for 5 bash -c "[[ \$(ps -eo stat=,ppid= | awk '\$1 ~ /^Z/ && \$2 ~ /^($parents)\$/' | wc -l) == 0 ]]" ||
		fail "zombies of containerd or its shims: $(ps -eo pid=,stat=,ppid=,args= | awk '$2 ~ /^Z/')"
}
