#!/usr/bin/env bats
# Smoke tests of the test rig itself (private containerd, image, cleanup) with the stock Go shim.

load helpers

setup() {
	ctrd_log_mark
}

@test "rig: private containerd answers ctr version" {
	run ctrt version
	assert_success
	assert_line --regexp '^Server:'
	assert_line --regexp "^  Version: +${CTRBOX_CONTAINERD//./\\.}\\."
	[[ -S $CTRD_TTRPC ]] || fail "no ttrpc socket at $CTRD_TTRPC"
	# The daemon must not find a shim in its cwd: only $SHIMDIR (via PATH) may provide one.
	run find "$CTRBOX_TEST_DIR/cwd" -mindepth 1
	assert_output ""
}

@test "rig: the test image is imported and unpacked" {
	run ctrt images ls -q
	assert_success
	assert_line "$TEST_IMAGE"
	run ctrt images check
	assert_line --regexp "^$TEST_IMAGE .* complete .* true"
}

teardown() {
	[[ -n ${EVPID:-} ]] && kill "$EVPID" 2>/dev/null
	[[ -n ${BATS_TEST_COMPLETED:-} ]] || dump_ctrd_log
	return 0
}

@test "rig: stock Go shim runs the image" {
	[[ -x $GO_SHIM ]] || fail "no stock shim at $GO_SHIM"
	# the Go shim of the containerd under test (2.1: make containerd2's, not the system's)
	ctrd_is 1.6 && [[ $GO_SHIM == /usr/bin/containerd-shim-runc-v2 ]]
	ctrd_is 2.1 && [[ $GO_SHIM == $REPO/build/containerd2/* ]]
	events_start "$BATS_TEST_TMPDIR/events"
	run ctrt run --rm --runtime "$GO_SHIM" "$TEST_IMAGE" rig1 echo hello
	assert_success
	assert_output "hello"
	# Our daemon ran the shim, got its log through the FIFO and its events on $CTRD_TTRPC
	# (containerd 1.6 logs each forwarded event at debug level, 2.x only at trace level).
	run ctrd_log
	assert_line --regexp 'msg="starting signal loop" namespace='"$CTRD_NS"' path=[^ ]*/rig1 '
	if ctrd_is 1.6; then
		assert_line --regexp 'msg="event forwarded" ns='"$CTRD_NS"' topic=/tasks/exit '
	fi
	assert_line --regexp 'msg="shim disconnected" id=rig1'
	wait_for 10 eval '[[ -n $(events_exits "$BATS_TEST_TMPDIR/events") ]]'
	run events_exits "$BATS_TEST_TMPDIR/events"
	assert_output "rig1 rig1 0"
}

@test "rig: nothing is left after ctr run --rm" {
	assert_no_leaks
	run find "$CTRD_STATE/io.containerd.runtime.v2.task/$CTRD_NS" -mindepth 1
	assert_output ""
	run ctrt snapshots ls
	refute_output --partial rig1
}
