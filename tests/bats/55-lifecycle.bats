#!/usr/bin/env bats
# The runc shim's lifecycle where order matters (issue: exits in the Go shim's order, cancelled
# creates cleaned up, a loop that never blocks). Each test widens the race window with a
# BinaryName wrapper around runc, so that the order is checked, not hoped for.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	ctrd_log_mark
	D=$BATS_TEST_TMPDIR
	HOGS=()
}

teardown() {
	local p
	for p in "${HOGS[@]}"; do kill "$p" 2>/dev/null || true; done
	[[ -n ${EVPID:-} ]] && kill "$EVPID" 2>/dev/null
	rm -f "$D/gate"
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		dump_ctrd_log 60
		ctrd_clean_ns 10
		# what a broken shim may have left behind: runc's own state
		for p in $(runc_state "$CTRD_NS"); do
			runc --root "/run/containerd/runc/$CTRD_NS" delete --force "$p" 2>/dev/null || true
		done
	fi
	return 0
}

# hogs: a busy loop on each core for the rest of the test (the load the races showed under).
hogs() {
	local i
	for i in 1 2; do
		timeout 600 sh -c 'while :; do :; done' &
		HOGS+=("$!")
	done
}

# wrapper NAME BODY: an executable runc wrapper; BODY is shell run before `exec runc "$@"`,
# with $D the test's directory.
wrapper() {
	cat >"$D/$1" <<EOF
#!/bin/sh
D='$D'
$2
exec runc "\$@"
EOF
	chmod 0755 "$D/$1"
	echo "$D/$1"
}

# pause_ns NAME: a running container whose pid namespace others join (a pod's shared pid ns);
# prints the namespace path.
pause_ns() {
	ctrt run -d --null-io "$TEST_IMAGE" "$1" sleep 100000 >/dev/null
	wait_for 10 task_is "$1" RUNNING
	echo "/proc/$(ctrt task ls | awk -v id="$1" '$1 == id { print $2 }')/ns/pid"
}

task_pid() {
	ctrt task ls | awk -v id="$1" '$1 == id { print $2 }'
}

# ev_ns FILE TOPIC ID: the ctr events line's timestamp (ns since the epoch) of ID's TOPIC event.
ev_ns() {
	local line
	line=$(grep -F " $CTRD_NS $2 " "$1" | grep -F "\"container_id\":\"$3\"" | head -1)
	[[ -n $line ]] || return 1
	date -d "$(awk '{ print $1, $2, $3 }' <<<"$line")" +%s%N
}

@test "the exit comes after kill --all has completed (shared pid namespace, 50 runs, loaded)" {
	local ns wrap i marks t_ev t_kill
	ns=$(pause_ns lc-pause)
	# kill --all is slow: the wrapper sleeps before it and notes when runc returned
	wrap=$(wrapper slowkill 'case " $* " in *" kill --all "*)
	sleep 0.3; runc "$@"; rc=$?; echo "$(date +%s%N) $*" >>"$D/killed"; exit $rc ;;
esac')
	events_start "$D/events"
	hogs
	for ((i = 0; i < 50; i++)); do
		# the init leaves a child behind in the shared namespace
		run ctrt run --rm --null-io --runc-binary "$wrap" --with-ns "pid:$ns" "$TEST_IMAGE" \
			"lc-k$i" sh -c "sleep 7${i}77 & exit 3"
		[[ $status -eq 3 ]] || fail "run $i: status $status: $output"
		# Wait answered: the kill was done before, and the child is gone with it
		grep -q " lc-k$i 9\$" "$D/killed" || fail "run $i: Wait answered before kill --all completed"
		! pgrep -f "sleep 7${i}77" >/dev/null || fail "run $i: the init's child outlived its exit"
	done
	kill "${HOGS[@]}"
	HOGS=()
	wait_for 10 ev_ns "$D/events" /tasks/delete lc-k49
	for ((i = 0; i < 50; i++)); do
		t_ev=$(ev_ns "$D/events" /tasks/exit "lc-k$i") || fail "no /tasks/exit for lc-k$i"
		t_kill=$(awk -v id="lc-k$i" '$NF == 9 && $(NF-1) == id { print $1 }' "$D/killed")
		((t_ev > t_kill)) || fail "lc-k$i: /tasks/exit at $t_ev before kill --all returned at $t_kill"
	done
	! ctrd_log | grep -q 'invalid state transition'
	ctrt task kill -s KILL lc-pause
	wait_for 10 task_is lc-pause STOPPED
	ctrt task rm lc-pause
	ctrt container rm lc-pause
	assert_no_leaks
}

@test "the init's /tasks/exit comes after the exits of its running execs" {
	local ns pid
	ns=$(pause_ns lc-pause2)
	ctrt run -d --null-io --with-ns "pid:$ns" "$TEST_IMAGE" lc-x sleep 100000 >/dev/null
	wait_for 10 task_is lc-x RUNNING
	ctrt task exec -d --exec-id lc-x-e1 lc-x sleep 100000
	wait_for 10 eval "ctrt task ps lc-x | awk 'NR > 1' | wc -l | grep -qx 2"
	events_start "$D/events"
	pid=$(task_pid lc-x)
	kill -KILL "$pid" # the init alone: kill --all takes the exec with it
	wait_for 20 task_is lc-x STOPPED
	wait_for 10 eval "events_exits '$D/events' | grep -c '^lc-x ' | grep -qx 2"
	run events_exits "$D/events"
	assert_line --index 0 "lc-x lc-x-e1 137"
	assert_line --index 1 "lc-x lc-x 137"
	ctrt task rm lc-x
	ctrt container rm lc-x
	ctrt task kill -s KILL lc-pause2
	wait_for 10 task_is lc-pause2 STOPPED
	ctrt task rm lc-pause2
	ctrt container rm lc-pause2
	assert_no_leaks
}

@test "an init killed while an exec starts: Exec is still accepted, exits come exec first, init last" {
	local wrap pid
	# runc exec waits at a gate until the test opens it
	wrap=$(wrapper gateexec 'case " $* " in *" exec "*)
	touch "$D/exec-waiting"; while [ -e "$D/gate" ]; do sleep 0.05; done ;;
esac')
	ctrt run -d --null-io --runc-binary "$wrap" "$TEST_IMAGE" lc-s sleep 100000 >/dev/null
	wait_for 10 task_is lc-s RUNNING
	events_start "$D/events"
	touch "$D/gate"
	ctrt task exec --exec-id lc-s-e1 lc-s sleep 1000 >"$D/e1.out" 2>&1 &
	wait_for 20 test -e "$D/exec-waiting"
	pid=$(task_pid lc-s)
	kill -KILL "$pid"
	wait_for 10 eval "! test -e /proc/$pid" # reaped by the shim
	# the init's exit is held while an exec is starting: still running for containerd
	[[ $(task_status lc-s) == RUNNING ]]
	run ctrt task exec --exec-id lc-s-e2 lc-s true
	assert_failure
	refute_output --partial "cannot exec in a stopped state"
	assert_output --partial "init process is not running"
	rm -f "$D/gate"
	wait_for 20 task_is lc-s STOPPED
	wait_for 10 eval "events_exits '$D/events' | grep -q '^lc-s lc-s '"
	run events_exits "$D/events"
	# the init's exit is the container's last
	[[ $(grep '^lc-s ' <<<"$output" | tail -1) == "lc-s lc-s 137" ]]
	ctrt task rm lc-s
	ctrt container rm lc-s
	assert_no_leaks
}

@test "a Create that containerd cancels: Delete waits for runc create, nothing is left, the shim exits" {
	local wrap cg
	# runc create runs 6 s late, in a child that outlives a killed wrapper (as a real runc
	# create would go on changing the host after a shim that did not wait for it)
	wrap=$(wrapper slowcreate 'case " $* " in *" create "*)
	( sleep 6; exec runc "$@" ) & wait $!; rc=$?; touch "$D/created"; exit $rc ;;
esac')
	run ctrt --timeout 3s run -d --null-io --runc-binary "$wrap" "$TEST_IMAGE" lc-c sleep 1000
	assert_failure
	assert_output --partial "context deadline exceeded"
	wait_for 20 test -e "$D/created"
	wait_for 20 eval "[[ -z \$(shim_pids) ]]" # the shim exits once the Delete is done
	[[ -z $(runc_state "$CTRD_NS") ]] || fail "runc state left: $(runc_state "$CTRD_NS")"
	for cg in /sys/fs/cgroup/*/"$CTRD_NS"/lc-c /sys/fs/cgroup/"$CTRD_NS"/lc-c; do
		[[ ! -e $cg ]] || fail "cgroup left: $cg"
	done
	[[ -z $(mounts_under "$CTRD_STATE") ]]
	ctrt container rm lc-c
	assert_no_leaks
}

# probe_ms ADDRESS ARGS...: one timed TTRPC request to the shim; prints its ms.
probe_ms() {
	local out
	out=$("$REPO/build/tools/ttrpc-probe" "$@") || return 1
	grep -q '^stream=1 ' <<<"$out" || { echo "$out" >&2; return 1; }
	sed -n 's/^ms=//p' <<<"$out"
}

@test "the loop never blocks: a logger that never gets ready holds only its own Create" {
	local logger addr ms g=lc-grp-$RANDOM
	cat >"$D/logger" <<EOF
#!/bin/sh
echo \$\$ >"$D/logger.pid"
exec sleep 1000
EOF
	chmod 0755 "$D/logger"
	# one shim for both (the group annotation), the first container running
	ctrt run -d --null-io --annotation "io.containerd.runc.v2.group=$g" "$TEST_IMAGE" lc-g1 sleep 1000
	wait_for 10 task_is lc-g1 RUNNING
	addr=$(shim_address lc-g1)
	addr=${addr#unix://}
	ctrt run -d --log-uri "binary://$D/logger" --annotation "io.containerd.runc.v2.group=$g" \
		"$TEST_IMAGE" lc-g2 sleep 1000 >"$D/g2.out" 2>&1 &
	local g2=$!
	wait_for 10 test -s "$D/logger.pid"
	wait_for 10 shim_address lc-g2
	[[ $(shim_address lc-g2) == "unix://$addr" ]] # the same shim
	# each request is answered while the Create still waits (its ctr is still running): an
	# answer that came only after the Create gave up would mean the loop was blocked. The ms
	# are for the log, not a bound (a loaded machine or ASan may take its time).
	local -a took=()
	ms=$(probe_ms "$addr" state lc-g1)
	kill -0 "$g2" 2>/dev/null || fail "State answered only after the other Create ended"
	took+=("State ${ms}ms")
	ms=$(probe_ms "$addr" exec-add lc-g1 lc-g1-e1)
	kill -0 "$g2" 2>/dev/null || fail "Exec answered only after the other Create ended"
	took+=("Exec ${ms}ms")
	ms=$(probe_ms "$addr" kill lc-g1 0)
	kill -0 "$g2" 2>/dev/null || fail "Kill answered only after the other Create ended"
	took+=("Kill ${ms}ms")
	echo "# while a Create waits for its logger, on the same shim: ${took[*]}" >&3
	ctrt task exec --exec-id lc-g1-e2 lc-g1 true # and a whole exec, through containerd
	# the bound: the Create fails with a clear error, and takes its logger and rootfs along
	wait "$g2" && fail "lc-g2 was created: $(cat "$D/g2.out")"
	grep -q "logging binary not ready" "$D/g2.out" || fail "unclear error: $(cat "$D/g2.out")"
	wait_for 15 eval "! _alive $(cat "$D/logger.pid")"
	[[ -z $(mounts_under "$(bundle_dir lc-g2)") ]]
	[[ -z $(ctrt task ls -q | grep -x lc-g2) ]]
	ctrt container rm lc-g2
	ctrt task kill -s KILL lc-g1
	wait_for 10 task_is lc-g1 STOPPED
	ctrt task rm lc-g1
	ctrt container rm lc-g1
	assert_no_leaks
}

@test "options.json larger than 8 KiB is valid JSON (long BinaryName and Root)" {
	local dir root name i bin
	# '<' is 6 bytes in Go's JSON (\u003c): the document passes 8 KiB
	name=$(printf '<%.0s' {1..200})
	dir=$D
	for i in 1 2 3 4 5 6 7 8; do dir=$dir/$name; done
	mkdir -p "$dir"
	bin=$dir/runc
	printf '#!/bin/sh\nexec runc "$@"\n' >"$bin"
	chmod 0755 "$bin"
	root=$D/root
	for i in 1 2 3 4 5 6 7 8 9 10; do root=$root/$(printf 'r%.0s' {1..200}); done
	ctrt run -d --null-io --runc-binary "$bin" --runc-root "$root" "$TEST_IMAGE" lc-o sleep 1000
	wait_for 10 task_is lc-o RUNNING
	local f
	f=$(bundle_dir lc-o)/options.json
	(($(stat -c %s "$f") > 8192))
	[[ $(jq -r .binary_name "$f") == "$bin" ]]
	[[ $(jq -r .root "$f") == "$root" ]]
	ctrt task kill -s KILL lc-o
	wait_for 10 task_is lc-o STOPPED
	ctrt task rm lc-o
	ctrt container rm lc-o
	rm -rf "$D/root"
	assert_no_leaks
}

# one_pipe SECS RUNTIME ID: `echo abc | ctr run --rm IMG ID cat`; 0 if cat printed abc and
# exited within SECS (a cat that never sees EOF waits for ever).
one_pipe() {
	local out
	out=$(echo abc | CTRT_TIMEOUT=$1 ctrt run --rm --runtime "$2" "$TEST_IMAGE" "$3" cat 2>&1) &&
		[[ $out == abc ]]
}

@test "piped stdin: echo abc | ctr run --rm IMG id cat ends as often as with the Go shim (20 each)" {
	[[ -x $GO_SHIM ]] || skip "Go shim $GO_SHIM not installed"
	local i ours=0 go=0
	for ((i = 0; i < 20; i++)); do
		one_pipe 15 io.containerd.runc.v2 "lc-p$i" && ours=$((ours + 1))
		ctrd_clean_ns 10 >/dev/null 2>&1
		one_pipe 4 "$GO_SHIM" "lc-pg$i" && go=$((go + 1)) # a clean exit takes < 1 s
		ctrd_clean_ns 10 >/dev/null 2>&1
	done
	echo "# piped stdin, clean exits of 20: ctrbox $ours, Go shim $go" >&3
	((ours >= go)) || fail "ctrbox $ours < Go shim $go"
	((ours == 20)) || fail "ctrbox: $ours of 20 (the container must see EOF when ctr's input ends)"
	assert_no_leaks
}
