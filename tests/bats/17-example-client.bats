#!/usr/bin/env bats
# The client crate (ctrbox/client.h) as its example uses it: containerd-client, built out of tree
# against the installed libctrbox, prints containerd's version and the containers and tasks of
# a namespace of the suite's private containerd.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	ex_setup
}

setup() {
	ctrd_log_mark
}

teardown() {
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		dump_ctrd_log 30
	fi
	ctrd_clean_ns 10
	return 0
}

# task_stopped ID: ctr lists ID as STOPPED.
task_stopped() {
	[[ $(ctrt task ls | awk -v id="$1" '$1 == id { print $3 }') == STOPPED ]]
}

excli() {
	"$EXDIR/containerd-client" --address "$CTRD_SOCK" --namespace "$CTRD_NS" "$@"
}

@test "containerd-client: the version line is ctr version's server version" {
	local v r
	v=$(ctrt version | awk '/^Server:/ { s = 1 } s && $1 == "Version:" { print $2; exit }')
	r=$(ctrt version | awk '/^Server:/ { s = 1 } s && $1 == "Revision:" { print $2; exit }')
	[[ -n $v ]]
	run excli
	assert_success
	assert_line --index 0 "Version: $v $r"
}

@test "containerd-client: a running task with its pid and RUNNING; a created container in containers only" {
	local pid
	ctrt run -d "$TEST_IMAGE" exc-run sleep 1000
	ctrt containers create "$TEST_IMAGE" exc-created sleep 1000
	pid=$(ctrt task ls | awk '$1 == "exc-run" { print $2 }')
	[[ $pid =~ ^[0-9]+$ && $pid -gt 0 ]]
	run excli
	assert_success
	assert_line "CONTAINER	IMAGE	RUNTIME"
	assert_line "exc-run	$TEST_IMAGE	io.containerd.runc.v2"
	assert_line "exc-created	$TEST_IMAGE	io.containerd.runc.v2"
	assert_line "TASK	PID	STATUS"
	assert_line "exc-run	$pid	RUNNING"
	refute_line --regexp '^exc-created	[0-9]+	'
	# the namespace is sent: another namespace sees none of them
	run "$EXDIR/containerd-client" --address "$CTRD_SOCK" --namespace exc-empty-ns
	assert_success
	refute_output --partial exc-
	ctrt task kill -s SIGKILL exc-run
	wait_for 10 task_stopped exc-run
	ctrt task rm exc-run
	ctrt container rm exc-run exc-created
	assert_no_leaks
}

@test "containerd-client: a bad address is a clear error and exit 1" {
	run "$EXDIR/containerd-client" --address "$BATS_TEST_TMPDIR/no.sock" --namespace "$CTRD_NS"
	assert_failure 1
	assert_output "containerd-client: cannot connect to $BATS_TEST_TMPDIR/no.sock: No such file or directory"
	run "$EXDIR/containerd-client" --bogus
	assert_failure 2
}
