#!/usr/bin/env bats
# containerd-shim-runc-v2 = ctrbox: log URIs, runtime options, grouping, containerd restarts.

load helpers
bats_require_minimum_version 1.5.0

setup() {
	ctrd_log_mark
}

teardown() {
	[[ -n ${EVPID:-} ]] && kill "$EVPID" 2>/dev/null
	ctrd_pid >/dev/null || ctrd_start || true # a restart test that failed half-way
	[[ -z ${BATS_TEST_COMPLETED:-} ]] && dump_ctrd_log 40
	ctrd_clean_ns 10
	return 0
}

@test "--log-uri file:/// delivers stdout and stderr to the file" {
	local f=$BATS_TEST_TMPDIR/logs/c.log
	run ctrt run --rm --log-uri "file://$f" "$TEST_IMAGE" lf1 sh -c 'echo o1; echo e1 >&2'
	assert_success
	[[ $(sort "$f") == "$(printf 'e1\no1')" ]]
	assert_no_leaks
}

@test "runtime options: BinaryName reaches runc's invocation, Root moves runc's state dir" {
	local wrap=$BATS_TEST_TMPDIR/runc-wrap root=$BATS_TEST_TMPDIR/runc-root
	printf '#!/bin/sh\necho "$*" >>%s/calls\nexec runc "$@"\n' "$BATS_TEST_TMPDIR" >"$wrap"
	chmod +x "$wrap"
	run ctrt run -d --runc-binary "$wrap" --runc-root "$root" "$TEST_IMAGE" opt1 sleep 1000
	assert_success
	wait_for 10 task_is opt1 RUNNING
	[[ -d $root/$CTRD_NS/opt1 ]]
	[[ ! -e /run/containerd/runc/$CTRD_NS/opt1 ]]
	grep -q -- "--root $root/$CTRD_NS --log $(bundle_dir opt1)/log.json --log-format json create --bundle $(bundle_dir opt1)" "$BATS_TEST_TMPDIR/calls"
	grep -q -- "start opt1" "$BATS_TEST_TMPDIR/calls"
	[[ $(cat "$(bundle_dir opt1)/runtime") == "$wrap" ]]
	ctrt task kill -s SIGKILL opt1
	wait_for 10 task_is opt1 STOPPED
	ctrt task rm opt1
	ctrt container rm opt1
	grep -q -- "delete opt1" "$BATS_TEST_TMPDIR/calls"
	[[ ! -e $root/$CTRD_NS/opt1 ]]
	assert_no_leaks
}

@test "grouping: two containers with one group label share one shim process, killed independently" {
	ctrt run -d --annotation io.containerd.runc.v2.group=grp1 "$TEST_IMAGE" g1 sleep 1000
	ctrt run -d --annotation io.containerd.runc.v2.group=grp1 "$TEST_IMAGE" g2 sleep 1000
	wait_for 10 task_is g1 RUNNING
	wait_for 10 task_is g2 RUNNING
	[[ $(shim_pids "$CTRD_SOCK" | wc -l) == 1 ]]
	[[ -n $(shim_address g1) && $(shim_address g1) == $(shim_address g2) ]]
	local shim
	shim=$(shim_pids "$CTRD_SOCK")
	ctrt task kill -s SIGKILL g1
	wait_for 10 task_is g1 STOPPED
	[[ $(task_status g2) == RUNNING ]]
	ctrt task rm g1
	ctrt container rm g1
	kill -0 "$shim" # still serving g2
	[[ $(task_status g2) == RUNNING ]]
	ctrt task kill -s SIGKILL g2
	wait_for 10 task_is g2 STOPPED
	ctrt task rm g2
	ctrt container rm g2
	wait_for 10 bash -c "! kill -0 $shim 2>/dev/null"
	assert_no_leaks
}

@test "containerd restart with 20 running tasks: 20/20 RUNNING after, 20 exits delivered" {
	local i
	for i in $(seq 20); do
		ctrt run -d "$TEST_IMAGE" "rs$i" sleep 100000 >/dev/null
	done
	for i in $(seq 20); do wait_for 10 task_is "rs$i" RUNNING; done
	ctrd_stop 10
	ctrd_start
	for i in $(seq 20); do
		[[ $(task_status "rs$i") == RUNNING ]] || fail "rs$i is $(task_status "rs$i") after the restart"
	done
	[[ $(shim_pids "$CTRD_SOCK" | wc -l) == 20 ]]
	# the shims publish to the new daemon: one exit event each, SIGKILL's status
	local ev=$BATS_TEST_TMPDIR/events
	events_start "$ev"
	for i in $(seq 20); do ctrt task kill -s SIGKILL "rs$i"; done
	for i in $(seq 20); do wait_for 10 task_is "rs$i" STOPPED; done
	wait_for 10 eval '[[ $(events_exits "$ev" | wc -l) -ge 20 ]]' || true
	run events_exits "$ev"
	[[ $(sort <<<"$output") == $(for i in $(seq 20); do echo "rs$i rs$i 137"; done | sort) ]] ||
		fail "exit events after the restart: $output"
	for i in $(seq 20); do
		run ctrt task rm "rs$i"
		assert_output --partial "137"
		ctrt container rm "rs$i"
	done
	wait_for 15 eval '[[ -z $(shim_pids "$CTRD_SOCK") ]]'
	assert_no_leaks
}

@test "--log-uri binary:/// starts the logger with fds 3/4/5, its args and env; it gets both streams" {
	local d=$BATS_TEST_TMPDIR logger=$BATS_TEST_TMPDIR/logger.sh
	# no PATH in the logger's environment (as with the Go shim): absolute paths only
	cat >"$logger" <<-EOS
		#!/bin/sh
		trap '' TERM # Delete sends SIGTERM after closing the pipes: drain to EOF instead
		echo "\$@" >$d/args
		/usr/bin/env >$d/env
		exec 5>&-
		/bin/cat <&3 >$d/out &
		/bin/cat <&4 >$d/err &
		wait
		echo done >$d/exited
	EOS
	chmod +x "$logger"
	run ctrt run --rm --log-uri "binary://$logger?--tag=web&flag" "$TEST_IMAGE" bl1 sh -c 'echo o1; echo e1 >&2'
	assert_success
	wait_for 10 test -f "$d/exited" # pipes closed at Delete -> EOF -> the logger ends
	[[ $(cat "$d/out") == o1 && $(cat "$d/err") == e1 ]]
	grep -q -- '--tag web' "$d/args"
	grep -q -- 'flag' "$d/args"
	# exactly the two variables (sh adds its own PWD/SHLVL-style ones, so check ours and no PATH)
	grep -qx "CONTAINER_ID=bl1" "$d/env"
	grep -qx "CONTAINER_NAMESPACE=$CTRD_NS" "$d/env"
	run grep -c '^PATH=' "$d/env"
	assert_output "0"
	assert_no_leaks
}

@test "checkpoint: runc checkpoint runs with the Go shim's argv; CRIU's failure comes back with its log" {
	local reason
	if reason=$(criu check 2>&1); then
		echo "# criu check passes: a full checkpoint/restore would be possible here" >&3
	else
		echo "# criu check fails on this kernel ($(echo "$reason" | tail -1)): checking the path up to runc's error" >&3
	fi
	ctrt run -d "$TEST_IMAGE" ck1 sleep 100000
	wait_for 10 task_is ck1 RUNNING
	run ctrt task checkpoint ck1
	if criu check >/dev/null 2>&1; then
		assert_success
	else
		assert_failure
		assert_output --partial "runc did not terminate successfully: exit status 1: criu failed: type DUMP"
		assert_output --partial "path= $(bundle_dir ck1)/criu-dump.log"
		[[ -s $(bundle_dir ck1)/criu-dump.log ]]
		[[ ! -e $(bundle_dir ck1)/work/criu-work ]]
		[[ $(task_status ck1) == RUNNING ]] # --leave-running: the container survives a failed dump
	fi
	run ctrt task kill -s SIGKILL ck1
	wait_for 10 task_is ck1 STOPPED
	run ctrt task checkpoint ck1
	assert_failure
	assert_output --partial "cannot pause a stopped container" # ctr pauses before checkpointing
}

@test "shim_cgroup from the start action's stdin options moves the shim daemon into that cgroup" {
	local cg=ctrbox-shimcg-$$ b addr pid
	mkdir -p "/sys/fs/cgroup/memory/$cg" "/sys/fs/cgroup/pids/$cg"
	b=$(sk_bundle scg)
	# google.protobuf.Any{type_url: containerd.runc.v1.Options, value: Options{shim_cgroup (3)}}
	byte() { printf "\\x$(printf %02x "$1")"; }
	options() { printf '\x0a\x1acontainerd.runc.v1.Options\x12'; byte $((${#cg} + 2)); printf '\x1a'; byte "${#cg}"; printf '%s' "$cg"; }
	addr=$( (cd "$b" && options |
		TTRPC_ADDRESS=$CTRD_TTRPC "$SHIMDIR/containerd-shim-runc-v2" -namespace "$CTRD_NS" \
			-address "$CTRD_SOCK" -publish-binary /usr/bin/containerd -id scg start))
	[[ $addr == unix:///run/containerd/s/* ]]
	pid=$(pgrep -f "(^|/)containerd-shim-runc-v2 -namespace $CTRD_NS -id scg ")
	[[ -n $pid ]]
	grep -q ":memory:/$cg\$" "/proc/$pid/cgroup"
	grep -q ":pids:/$cg\$" "/proc/$pid/cgroup"
	# nothing to serve: a Shutdown makes it exit
	"$SHIMDIR/shim-proto-connect" "$addr" >/dev/null
	wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
	kill "$(cat "$b/logcat.pid")" 2>/dev/null || true
	rmdir "/sys/fs/cgroup/memory/$cg" "/sys/fs/cgroup/pids/$cg"
}

@test "Create from a checkpoint defers to Start, which runs runc restore and returns its error" {
	# (CRIU cannot dump on this kernel, so there is no real image: the path runs up to runc's
	# own error.) A second container in the shim of a running one, with a copy of its bundle.
	ctrt run -d "$TEST_IMAGE" rh1 sleep 100000
	wait_for 10 task_is rh1 RUNNING
	local addr b=$BATS_TEST_TMPDIR/rbundle
	addr=$(shim_address rh1)
	mkdir -p "$b/rootfs" "$BATS_TEST_TMPDIR/ckpt"
	cp "$(bundle_dir rh1)/config.json" "$b/"
	run "$REPO/build/tools/ttrpc-probe" "$addr" create-restore rr1 "$b" "$BATS_TEST_TMPDIR/ckpt"
	assert_output --regexp '^stream=1 code=0 \(OK\) message= payload=0$' # pid 0: not restored yet
	run "$REPO/build/tools/ttrpc-probe" "$addr" start rr1
	assert_output --partial "code=2 (Unknown) message=OCI runtime restore failed:"
	run "$REPO/build/tools/ttrpc-probe" "$addr" delete rr1
	assert_output --partial "code=0 (OK)"
	[[ $(task_status rh1) == RUNNING ]] # its neighbour in the shim is untouched
}
