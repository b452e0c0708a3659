#!/usr/bin/env bats
# The skeleton shim on lib/shim: start -> connect -> shutdown against a real containerd's
# socket and TTRPC address, the delete action, signals, and a real `ctr run` through it.

load helpers

setup() {
	ctrd_log_mark
}

teardown() {
	sk_cleanup
	[[ -z ${BATS_TEST_COMPLETED:-} ]] && dump_ctrd_log 30
	return 0
}

@test "start prints only the address, derived as containerd derives it, and writes ./address" {
	local b addr
	b=$(sk_bundle sk1)
	run sk_start sk1
	assert_success
	addr=$(sk_address sk1)
	assert_output "$addr" # nothing else on stdout/stderr, no newline needed
	[[ $(cat "$b/address") == "$addr" ]]
	[[ $(stat -c %a "${addr#unix://}") == 600 ]]
	[[ $(stat -c %a /run/containerd/s) == 700 ]]
	[[ -S ${addr#unix://} ]]
}

@test "the daemon: own session and process group, fd 3 the listener, stdio /dev/null, oom +1" {
	local b pid stat
	b=$(sk_bundle sk2)
	sk_start sk2 >/dev/null
	pid=$(sk_pids sk2)
	[[ -n $pid && $(wc -w <<<"$pid") -eq 1 ]]
	read -r -a stat <"/proc/$pid/stat"
	[[ ${stat[4]} == "$pid" && ${stat[5]} == "$pid" ]] # pgrp and session are its own pid
	[[ $(readlink "/proc/$pid/fd/0") == /dev/null ]]
	[[ $(readlink "/proc/$pid/fd/1") == /dev/null ]]
	[[ $(readlink "/proc/$pid/fd/2") == "$b/log" ]]
	[[ $(readlink "/proc/$pid/fd/3") == socket:* ]]
	[[ $(readlink "/proc/$pid/cwd") == "$b" ]]
	local want=$(($(cat /proc/self/oom_score_adj) + 1))
	((want > 1000)) && want=1000
	[[ $(cat "/proc/$pid/oom_score_adj") == "$want" ]]
	tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "TTRPC_ADDRESS=$CTRD_TTRPC"
}

@test "skeleton flow: start, shim-proto-connect (Connect, Shutdown), the shim exits and cleans up" {
	local b pid addr
	b=$(sk_bundle sk3)
	addr=$(sk_start sk3)
	pid=$(sk_pids sk3)
	run "$SHIMDIR/shim-proto-connect" "$addr" sk3
	assert_success
	assert_line --index 0 "Connecting to $addr..."
	assert_line --index 1 'Sending `Connect` request...'
	assert_line --index 2 "Connect response: shim_pid: $pid version: \"example\""
	assert_line --index 3 'Sending `Shutdown` request...'
	assert_line --index 4 'Shutdown response: ""'
	wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
	[[ ! -e ${addr#unix://} ]]
	# log lines in containerd's key=value format, on the bundle's log fifo
	wait_for 5 grep -q 'msg="shim exited"' "$b/log.txt"
	local ts='time="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}(Z|[+-][0-9]{2}:[0-9]{2})"'
	local tail="namespace=$CTRD_NS pid=$pid runtime=io.containerd.skeleton.v1"
	grep -Eq "^$ts level=info msg=\"Connect request\" $tail\$" "$b/log.txt"
	grep -Eq "^$ts level=info msg=\"Shutdown request\" $tail\$" "$b/log.txt"
}

@test "a second start for a running shim returns its address and starts nothing" {
	local b addr pid
	b=$(sk_bundle sk4)
	addr=$(sk_start sk4)
	pid=$(sk_pids sk4)
	run sk_start sk4
	assert_success
	assert_output "$addr"
	[[ $(sk_pids sk4) == "$pid" ]]
}

@test "a stale socket left by a killed shim is replaced on the next start" {
	local b addr pid
	b=$(sk_bundle sk5)
	addr=$(sk_start sk5)
	pid=$(sk_pids sk5)
	kill -KILL "$pid"
	wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
	[[ -S ${addr#unix://} ]]
	run sk_start sk5
	assert_success
	assert_output "$addr"
	[[ -n $(sk_pids sk5) && $(sk_pids sk5) != "$pid" ]]
	run "$SHIMDIR/shim-proto-connect" "$addr"
	assert_success
}

@test "SIGTERM shuts the daemon down in order and removes its socket" {
	local b addr pid
	b=$(sk_bundle sk6)
	addr=$(sk_start sk6)
	pid=$(sk_pids sk6)
	kill -TERM "$pid"
	wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
	[[ ! -e ${addr#unix://} ]]
	wait_for 5 grep -q 'msg="shim exited"' "$b/log.txt"
	grep -q 'received signal 15, shutting down' "$b/log.txt"
}

@test "delete action prints a DeleteResponse (exit status 137, exited_at now) on stdout" {
	local b
	b=$(sk_bundle sk7)
	run bash -c "cd '$b' && '$SHIMDIR/$SKELETON' -namespace '$CTRD_NS' -address '$CTRD_SOCK' \
		-publish-binary /usr/bin/containerd -id sk7 -bundle '$b' delete </dev/null | od -An -tx1 -v | tr -d '\n'"
	assert_success
	# 10 89 01 = exit_status 137; 1a 0b 08 ... = exited_at{seconds, nanos}
	[[ $output =~ ^\ 10\ 89\ 01\ 1a\ 0[0-9a-f]\ 08 ]]
}

@test "real containerd runs the skeleton by absolute path: Create answers Unimplemented, nothing leaks" {
	run ctrt run --runtime "$SHIMDIR/$SKELETON" "$TEST_IMAGE" skc1 true
	assert_failure
	assert_output --partial "method Create"
	# containerd shut the shim down (Shutdown RPC + delete action) and removed the bundle
	wait_for 10 test -z "$(sk_pids skc1)"
	wait_for 10 test ! -e "$(bundle_dir skc1)"
	ctrt containers rm skc1
	ctrd_log | grep -q 'runtime=io.containerd.skeleton.v1'
}
