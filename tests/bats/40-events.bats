#!/usr/bin/env bats
# lib/publisher against a real containerd: events forwarded over TTRPC (Events/Forward on
# $TTRPC_ADDRESS) reach `ctr events` subscribers, in order, in the right namespace.

load helpers
bats_require_minimum_version 1.5.0

PUBLISH=${REPO:-.}/build/tools/publish-event

setup() {
	[[ -x $PUBLISH ]] || fail "missing $PUBLISH (make e2e builds it)"
}

teardown() {
	[[ -n ${EVPID:-} ]] && kill "$EVPID" 2>/dev/null || true
	return 0
}

@test "published events reach ctr events in order, in our namespace" {
	local out=$BATS_TEST_TMPDIR/events.txt
	events_start "$out"
	run env TTRPC_ADDRESS="$CTRD_TTRPC" "$PUBLISH" "$CTRD_NS" ev-one ev-two ev-three
	assert_success
	assert_output "sent=3 dropped=0 pending=0"
	wait_for 5 grep -q ev-three "$out"
	run grep -o "$CTRD_NS /tasks/oom {\"container_id\":\"ev-[a-z]*\"}" "$out"
	assert_line --index 0 "$CTRD_NS /tasks/oom {\"container_id\":\"ev-one\"}"
	assert_line --index 1 "$CTRD_NS /tasks/oom {\"container_id\":\"ev-two\"}"
	assert_line --index 2 "$CTRD_NS /tasks/oom {\"container_id\":\"ev-three\"}"
}

@test "containerd refusing the envelope (bad namespace) is retried, then dropped and reported" {
	# containerd validates the namespace: "bad ns!" is rejected with InvalidArgument every time;
	# the publisher backs off 1+2+3+4+5 s and then evicts the event. Bounded by timeout.
	run --separate-stderr timeout 30 env TTRPC_ADDRESS="$CTRD_TTRPC" "$PUBLISH" "bad ns!" ev-bad
	assert_failure 1
	assert_output "sent=0 dropped=1 pending=0"
	# five logged retries (1, 2, 3, 4 s apart), then the eviction with containerd's reason
	[[ $(grep -c 'level=warning msg="publish /tasks/oom failed (attempt [1-5])' <<<"$stderr") == 5 ]]
	grep -q 'level=error msg="evicting /tasks/oom from queue because of retry count (last error: event envelope has invalid namespace' <<<"$stderr"
}
