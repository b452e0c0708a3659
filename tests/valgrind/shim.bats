# The runc shim under valgrind, driven by a real containerd (run by tests/valgrind/valgrind.sh,
# which sets VG_SHIM: a wrapper named containerd-shim-runc-v2 that execs valgrind on ctrbox;
# valgrind.sh then checks the logs of every process traced: shim start, daemon, delete, and the
# ctrbox-journal the shim starts).

load ../bats/helpers

setup() {
	require_root
	[[ -x ${VG_SHIM:-} ]] || skip "VG_SHIM not set (run tests/valgrind/valgrind.sh)"
	# valgrind makes the shim 20-50x slower
	CTRT_TIMEOUT=180
}

teardown() {
	ctrd_clean_ns 60
}

@test "valgrind: runc shim daemon through create, 100 execs, pause/resume, metrics, delete" {
	ctrt run -d --runtime "$VG_SHIM" "$TEST_IMAGE" vg1 sleep 100000
	wait_for 120 task_is vg1 RUNNING
	local i out rc
	for ((i = 1; i <= 100; i++)); do
		out=$(ctrt task exec --exec-id "e$i" vg1 sh -c "echo out-$i; echo err-$i >&2; exit $((i % 3))" 2>&1) &&
			rc=0 || rc=$?
		[[ $rc -eq $((i % 3)) ]] || fail "exec $i: exit $rc, want $((i % 3)): $out"
		[[ $out == *out-$i* && $out == *err-$i* ]] || fail "exec $i: output: $out"
	done
	# stdin into an exec: cat ends only when CloseIO closes the shim's writer, which ctr sends as
	# soon as its stdin ends, while Start may still be in runc exec
	run ctrt task exec --exec-id stdin1 vg1 cat < <(echo from-stdin)
	assert_success
	assert_output "from-stdin"
	run ctrt task ps vg1
	assert_success
	run ctrt task metrics vg1
	assert_success
	run ctrt task pause vg1
	assert_success
	wait_for 60 task_is vg1 PAUSED
	run ctrt task resume vg1
	assert_success
	wait_for 60 task_is vg1 RUNNING
	run ctrt task kill -s KILL vg1 # sleep as pid 1 ignores SIGTERM
	assert_success
	wait_for 120 task_is vg1 STOPPED
	run ctrt task rm vg1
	assert_success
	run ctrt container rm vg1
	assert_success
	# the daemon exits after Shutdown; valgrind's leak check takes a moment
	wait_for 120 test -z "$(shim_pids "$CTRD_SOCK")"
	assert_no_leaks
}

@test "valgrind: a container whose process exits at once (exit before start), with a failing exec" {
	ctrt run -d --runtime "$VG_SHIM" "$TEST_IMAGE" vg2 sh -c 'exit 7'
	wait_for 120 task_is vg2 STOPPED
	run ctrt task exec --exec-id x vg2 true
	assert_failure
	run ctrt task rm vg2
	assert_success
	# a create that runc refuses: the error path, then the shim goes away
	run ctrt run -d --runtime "$VG_SHIM" "$TEST_IMAGE" vg3 /no/such/binary
	assert_failure
	ctrt container rm vg3 || true
	ctrt container rm vg2
	wait_for 120 test -z "$(shim_pids "$CTRD_SOCK")"
	assert_no_leaks
}

@test "valgrind: binary:// logging (ctrbox-journal, file mode, also under valgrind) through the shim" {
	[[ -x ${VG_BIN:-}/ctrbox-journal ]] || skip "VG_BIN/ctrbox-journal missing"
	local d=$BATS_TEST_TMPDIR
	ctrt run -d --runtime "$VG_SHIM" --log-uri "binary://$VG_BIN/ctrbox-journal?mode=file&path=$d/c.log" \
		"$TEST_IMAGE" vg4 sh -c 'i=0; while [ $i -lt 2000 ]; do i=$((i + 1)); echo line $i; echo err $i >&2; done'
	wait_for 120 task_is vg4 STOPPED
	wait_for 60 grep -q ' stdout F line 2000$' "$d/c.log"
	wait_for 60 grep -q ' stderr F err 2000$' "$d/c.log"
	run ctrt task rm vg4
	assert_success
	ctrt container rm vg4
	wait_for 120 test -z "$(shim_pids "$CTRD_SOCK")"
	# the logger got SIGTERM at Delete and exits; valgrind then writes its summary
	wait_for 60 test -z "$(pgrep -f "$VG_BIN/ctrbox-journal")"
	[[ $(grep -c ' stdout F line ' "$d/c.log") -eq 2000 ]] || fail "stdout lines: $(grep -c ' stdout F line ' "$d/c.log")"
	assert_no_leaks
}
