#!/usr/bin/env bats
# The TTRPC server under bad input: every broken client gets its answer (or is cut off) and the
# shim goes on serving the next one. Frames come from tests/tools/ttrpc-probe.

load helpers

PROBE=${REPO:-.}/build/tools/ttrpc-probe

setup() {
	[[ -x $PROBE ]] || fail "missing $PROBE (make e2e builds it)"
	sk_bundle tt >/dev/null
	ADDR=$(sk_start tt)
	PID=$(sk_pids tt)
}

teardown() {
	sk_cleanup
}

# The shim is alive and a fresh client gets a normal Connect answer.
still_serving() {
	kill -0 "$PID"
	run "$PROBE" "$ADDR" connect
	assert_success
	assert_output --regexp '^stream=1 code=0 \(OK\) message= payload=[0-9]+$'
}

@test "a 5 MiB frame is discarded and answered ResourceExhausted; the same connection goes on" {
	run "$PROBE" "$ADDR" oversize
	assert_success
	assert_line --index 0 "stream=1 code=8 (ResourceExhausted) message=message length 5242880 exceed maximum message size of 4194304 payload=0"
	assert_line --index 1 --regexp '^stream=3 code=0 \(OK\) message= payload=[0-9]+$'
	still_serving
}

@test "garbage that is not TTRPC: the connection ends with a log line, the server serves on" {
	run "$PROBE" "$ADDR" garbage
	assert_success
	assert_output "closed"
	still_serving
	wait_for 5 grep -q 'connection closed inside a frame' "$BATS_TEST_TMPDIR/bundle-tt/log.txt"
}

@test "a truncated frame closes that connection with a log line; nothing else is disturbed" {
	run "$PROBE" "$ADDR" truncated
	assert_success
	assert_output "closed"
	wait_for 5 grep -q 'truncated frame, 20 of 100 payload bytes' "$BATS_TEST_TMPDIR/bundle-tt/log.txt"
	still_serving
}

@test "a body that is not a Request answers InvalidArgument and the connection stays usable" {
	run "$PROBE" "$ADDR" garbage-body
	assert_success
	assert_line --index 0 "stream=1 code=3 (InvalidArgument) message=unmarshal request error: invalid protobuf encoding payload=0"
	assert_line --index 1 --regexp '^stream=3 code=0 \(OK\) message= payload=[0-9]+$'
}

@test "unknown method and unknown service answer Unimplemented, as ttrpc does" {
	run "$PROBE" "$ADDR" call containerd.task.v2.Task Frobnicate
	assert_output "stream=1 code=12 (Unimplemented) message=method Frobnicate payload=0"
	run "$PROBE" "$ADDR" call x.Y Z
	assert_output "stream=1 code=12 (Unimplemented) message=service x.Y payload=0"
	# a Task method the skeleton does not implement
	run "$PROBE" "$ADDR" call containerd.task.v2.Task Create
	assert_output "stream=1 code=12 (Unimplemented) message=method Create payload=0"
	still_serving
}

@test "even stream ids are refused; non-request frames are ignored" {
	run "$PROBE" "$ADDR" even-stream
	assert_output "stream=2 code=3 (InvalidArgument) message=StreamID must be odd for client initiated streams payload=0"
	run "$PROBE" "$ADDR" non-request
	assert_output --regexp '^stream=3 code=0 \(OK\) message= payload=[0-9]+$'
}

@test "peers with another gid are refused at accept (SO_PEERCRED), others are served" {
	command -v setpriv >/dev/null || fail "setpriv (util-linux) missing"
	run setpriv --regid=65534 --clear-groups "$PROBE" "$ADDR" connect
	assert_output "closed"
	wait_for 5 grep -q 'refusing connection from pid .* gid 65534' "$BATS_TEST_TMPDIR/bundle-tt/log.txt"
	still_serving
}

@test "50 clients at once are all served by the single-threaded loop" {
	local i pids=()
	for i in $(seq 50); do
		"$PROBE" "$ADDR" connect >"$BATS_TEST_TMPDIR/c$i.out" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for i in $(seq 50); do
		[[ $(cat "$BATS_TEST_TMPDIR/c$i.out") =~ ^stream=1\ code=0\ \(OK\)\ message=\ payload=[0-9]+$ ]]
	done
	[[ $(grep -c '^Threads:' "/proc/$PID/status") == 1 && $(awk '/^Threads:/{print $2}' "/proc/$PID/status") == 1 ]]
	still_serving
}

@test "after all that the shim holds no leaked connection fds" {
	local before after
	before=$(ls "/proc/$PID/fd" | wc -l)
	"$PROBE" "$ADDR" garbage >/dev/null
	"$PROBE" "$ADDR" truncated >/dev/null
	"$PROBE" "$ADDR" oversize >/dev/null
	for i in $(seq 20); do "$PROBE" "$ADDR" connect >/dev/null; done
	wait_for 5 eval '[[ $(ls /proc/'"$PID"'/fd | wc -l) -eq '"$before"' ]]' # counted each time
}
