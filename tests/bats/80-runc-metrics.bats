#!/usr/bin/env bats
# containerd-shim-runc-v2 = ctrbox: Stats (ctr task metrics) and OOM events, on this cgroup v1 host
# (v2 parsing is covered by unit tests on fixture trees).

load helpers
bats_require_minimum_version 1.5.0

setup() {
	ctrd_log_mark
}

teardown() {
	[[ -n ${EVPID:-} ]] && kill "$EVPID" 2>/dev/null
	[[ -z ${BATS_TEST_COMPLETED:-} ]] && dump_ctrd_log 40
	ctrd_clean_ns 10
	return 0
}

@test "ctr task metrics shows memory, cpu and pids (io.containerd.cgroups.v1.Metrics)" {
	ctrt run -d --memory-limit 67108864 "$TEST_IMAGE" m1 sh -c 'sleep 100000 & sleep 100000'
	wait_for 10 task_is m1 RUNNING
	run ctrt task metrics m1
	assert_success
	assert_line --regexp '^memory\.limit_in_bytes[[:space:]]+67108864[[:space:]]*$'
	assert_line --regexp '^memory\.usage_in_bytes[[:space:]]+[1-9][0-9]*[[:space:]]*$'
	assert_line --regexp '^cpuacct\.usage[[:space:]]+[0-9]+[[:space:]]*$'
	assert_line --regexp '^pids\.current[[:space:]]+2[[:space:]]*$' # sh execs its last command: sh's child + it
	run ctrt task metrics nosuch
	assert_failure
}

@test "a container over its memory limit produces /tasks/oom, then exits 137" {
	local out=$BATS_TEST_TMPDIR/events
	events_start "$out"
	run ctrt run --rm --memory-limit 16777216 "$TEST_IMAGE" oom1 sh -c 'a=xxxxxxxxxxxxxxxx; while :; do a="$a$a"; done'
	assert_failure 137
	wait_for 10 grep -q '/tasks/delete {"container_id":"oom1"' "$out"
	grep -q "/tasks/oom {\"container_id\":\"oom1\"}" "$out"
	grep -q '/tasks/exit {"container_id":"oom1","id":"oom1","pid":[0-9]*,"exit_status":137' "$out"
}
