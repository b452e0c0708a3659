#!/usr/bin/env bats
# ctrbox-ctr: the ctr-compatible gRPC client, run side by side with containerd 1.6's ctr against
# the suite's containerd. For each command (version, namespaces, plugins, images, containers,
# snapshots, tasks, events, run and its flags) both tools run the same command, each on objects of
# its own where the command changes something (ctr_both: "{}" is ID-t for ctr, ID-x for
# ctrbox-ctr), and must print the same (stdout, "ctr: ..." error lines) and exit the same; a
# container or task made by one is listed and managed by the other. Also: images import + run
# --rm in a namespace ctr never touched, events streaming, global flags and environment, errors
# (unknown objects, a socket nobody listens on, a connection dropped mid-stream, --timeout).
# Normalized only where values legitimately differ: timestamps, the client's version, the
# memory/cpu numbers of metrics, and ctr's logrus warnings (not compared). Every object a test
# makes is named cx-* (namespaces, snapshots, containers, images) and removed by teardown.
# On containerd 2.1 the reference is still 1.6's ctr (Debian 12's /usr/bin/ctr, first in PATH
# for this file), now against containerd 2.1: ctrbox-ctr is that ctr again, not ctr 2.x, whose
# output differs (events' timestamps, task ps, import through the transfer service).

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	[[ -x ${CTRBOX:-} ]] || return 0
	if ! ctrd_is 1.6; then
		[[ -x /usr/bin/ctr ]] || { echo "97-ctr.bats: no /usr/bin/ctr (containerd 1.6's ctr)" >&2; return 1; }
		mkdir -p "$BATS_FILE_TMPDIR/ctr-1.6"
		ln -s /usr/bin/ctr "$BATS_FILE_TMPDIR/ctr-1.6/ctr"
		export PATH=$BATS_FILE_TMPDIR/ctr-1.6:$PATH
	fi
	[[ $(ctr --version) == "ctr github.com/containerd/containerd 1.6."* ]] || { ctr --version >&2; return 1; }
	ctrt images export "$BATS_FILE_TMPDIR/img.tar" "$TEST_IMAGE"
}

# nothing of this file is left once its tests ran: namespaces, snapshots, images, containers
teardown_file() {
	[[ -x ${CTRBOX:-} ]] || return 0
	local left
	left=$(ctr -a "$CTRD_SOCK" namespaces ls -q | grep '^cx-'; ctrt snapshots ls | awk '$1 ~ /^cx-/';
		ctrt images ls -q | grep '^cx\.test/'; ctrt containers ls -q; ctrt tasks ls -q) || true
	[[ -z $left ]] || { echo "97-ctr.bats left: $left" >&2; return 1; }
}

setup() {
	require_root
	require_ctrbox ctrbox-ctr
	TAR=$BATS_FILE_TMPDIR/img.tar
	CHAIN=$(ctrt snapshots ls | awk '$NF == "Committed" { print $1; exit }')
}

teardown() {
	local id ns img pass pid
	[[ -n ${BATS_TEST_COMPLETED:-} ]] || dump_ctrd_log 40
	# a test that made containerd exit (that is its failure) must not take the others down
	if ! ctrd_pid >/dev/null; then
		echo "# $BATS_TEST_DESCRIPTION: containerd is gone; restarting it" >&3
		ctrd_start || return 1
	fi
	# the background event readers of the events test
	for pid in ${EVPID:-} ${TPID:-}; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	ctrd_clean_ns 10
	# snapshots of ours: leaves first (a committed one is the parent of the active ones)
	for pass in 1 2 3; do
		for id in $(ctrt snapshots ls 2>/dev/null | awk 'NR > 1 && $1 ~ /^cx-/ { print $1 }'); do
			ctrt snapshots rm "$id" >/dev/null 2>&1 || true
		done
	done
	for img in $(ctrt images ls -q 2>/dev/null | grep '^cx\.test/'); do
		ctrt images rm --sync "$img" >/dev/null 2>&1 || true
	done
	for ns in $(ctr -a "$CTRD_SOCK" namespaces ls -q 2>/dev/null | grep '^cx-'); do
		for id in $(ctr -a "$CTRD_SOCK" -n "$ns" task ls -q 2>/dev/null); do
			ctr -a "$CTRD_SOCK" -n "$ns" task kill -s KILL "$id" >/dev/null 2>&1 || true
			ctr -a "$CTRD_SOCK" -n "$ns" task rm -f "$id" >/dev/null 2>&1 || true
		done
		for id in $(ctr -a "$CTRD_SOCK" -n "$ns" container ls -q 2>/dev/null); do
			ctr -a "$CTRD_SOCK" -n "$ns" container rm "$id" >/dev/null 2>&1 || true
		done
		for img in $(ctr -a "$CTRD_SOCK" -n "$ns" images ls -q 2>/dev/null); do
			ctr -a "$CTRD_SOCK" -n "$ns" images rm --sync "$img" >/dev/null 2>&1 || true
		done
		for pass in 1 2 3; do
			for id in $(ctr -a "$CTRD_SOCK" -n "$ns" snapshots ls 2>/dev/null | awk 'NR > 1 { print $1 }'); do
				ctr -a "$CTRD_SOCK" -n "$ns" snapshots rm "$id" >/dev/null 2>&1 || true
			done
		done
		ctr -a "$CTRD_SOCK" namespaces rm "$ns" >/dev/null 2>&1 || true
	done
	return 0
}

# cx_ns NS ARGS...: ctrbox-ctr in namespace NS.
cx_ns() {
	local ns=$1
	shift
	CTRX_NS=$ns ctrx "$@"
}

# ctrt_ns NS ARGS...: ctr in namespace NS (ctrt's fifo dir and timeout).
ctrt_ns() {
	local ns=$1
	shift
	timeout --foreground -k 5 "$CTRT_TIMEOUT" ctr -a "$CTRD_SOCK" -n "$ns" "$@"
}

# content_norm NS: `ctr content ls` of NS as "DIGEST SIZE LABEL" lines, sorted (ctr prints the
# labels in Go's map order, and the age).
content_norm() {
	ctrt_ns "$1" content ls | awk 'NR > 1 {
		n = split($NF, l, ",")
		for (i = 1; i <= n; i++) print $1, $2, l[i] }' | sort
}

# info_norm TOOL ID: `containers info ID` without the times, keys sorted.
info_norm() {
	"$1" containers info "$2" | jq -S 'del(.CreatedAt, .UpdatedAt)'
}

# piped CMD...: CMD with two lines on its stdin.
piped() {
	printf 'one\ntwo\n' | "$@"
}

# ev_ready FILE...: labels namespace cx-evsync (n=0, 1, ...) until each FILE, the output of an
# events reader started in the background, shows a /namespaces/update: the readers are
# subscribed (containerd does not replay what was published before).
ev_ready() {
	local f i ok
	ctr -a "$CTRD_SOCK" namespaces create cx-evsync >/dev/null 2>&1 || true
	for ((i = 0; i < 100; i++)); do
		ctr -a "$CTRD_SOCK" namespaces label cx-evsync "n=$i" >/dev/null
		ok=1
		for f; do grep -q ' /namespaces/update {"name":"cx-evsync"' "$f" || ok=0; done
		((ok)) && return 0
		sleep 0.1
	done
	echo "ev_ready: the events readers never showed cx-evsync's updates" >&2
	return 1
}

# ctr -t needs a terminal on its own stdin: script(1) gives it one (as in 60-runc-exec.bats),
# with stdin kept open and a size we choose.
in_pty() {
	timeout -k 2 30 script -qec "stty rows 33 cols 77; $*" /dev/null < <(sleep 10)
}

@test "ctr: version: the server part is containerd's, as ctr prints it" {
	# stdout only: ctr warns on stderr when the client's version is not the server's (ours is not)
	run --separate-stderr ctrx version
	assert_success
	assert_line --index 0 "Client:"
	assert_line --regexp '^  Version: +[^ ]+'
	# the server part (Version, Revision, UUID) is the same as ctr's; the client's is our own
	ctrt version | sed -n '/^Server:/,$p' >"$BATS_TEST_TMPDIR/t"
	sed -n '/^Server:/,$p' <<<"$output" >"$BATS_TEST_TMPDIR/x"
	diff -u "$BATS_TEST_TMPDIR/t" "$BATS_TEST_TMPDIR/x"
	grep -q '^  UUID: ' "$BATS_TEST_TMPDIR/x"
}

@test "ctr: namespaces create/ls/label/rm: same output and exit codes as ctr" {
	# created with two labels (ctr sorts them when it lists them)
	ctr_both cx-ns namespaces create {} cx=1 b=2
	ctr_both cx-ns namespaces create {}
	assert_equal "$both_status" 1 # already exists
	ctr_same namespaces ls
	ctr_same namespaces ls -q
	[[ $both_out == *cx-ns-t*cx-ns-x* ]]
	ctr_both cx-ns ns label {} cx=2
	ctr_same ns ls
	[[ $both_out == *"cx-ns-t"*"cx=2"*"cx-ns-x"*"cx=2"* ]]
	ctr_both cx-ns ns label {} cx=
	ctr_both cx-ns ns label {}
	ctr_same ns ls
	# rm: a missing one is printed and not an error (ctr ignores NotFound); a non-empty one fails
	ctr_both cx-ns ns rm {} cx-nope
	ctr_both cx-ns ns rm "$CTRD_NS"
	assert_equal "$both_status" 1
	ctr_same ns ls
	[[ $both_out != *cx-ns* ]]
	# made by one, managed by the other
	ctrx ns create cx-ns2 a=b
	run ctrt ns ls
	assert_line --regexp '^cx-ns2 +a=b *$'
	ctrt ns label cx-ns2 a=c
	run ctrx ns ls
	assert_line --regexp '^cx-ns2 +a=c *$'
	ctrx ns rm cx-ns2
	run ctrt ns ls -q
	refute_line cx-ns2
}

@test "ctr: plugins ls: the same plugins, columns and states as ctr" {
	ctr_same plugins ls
	[[ $both_out == *"io.containerd.snapshotter.v1"*"ctrbox"*"ok"* ]]
	ctr_same plugins ls -q
	ctr_same plugin ls --quiet
}

@test "ctr: images ls/check/label/rm: same output as ctr; an image tagged by ctr is removed by ctrbox-ctr" {
	ctr_same images ls
	ctr_same images ls -q
	ctr_same images ls "name==$TEST_IMAGE"
	ctr_same images check
	ctr_same images check "name==$TEST_IMAGE"
	ctrt images tag "$TEST_IMAGE" cx.test/a-t:1 >/dev/null
	ctrt images tag "$TEST_IMAGE" cx.test/a-x:1 >/dev/null
	ctr_same images ls
	ctr_both cx.test/a images label {}:1 cx=1
	ctr_same images ls
	[[ $both_out == *"cx=1"* ]]
	ctr_both cx.test/a images label {}:1 cx=
	ctr_both cx.test/a images label {}:1
	# unknown image: containerd's message, exit 1
	ctr_both cx.test/nope images label {}:1 cx=1
	assert_equal "$both_status" 1
	ctr_both cx.test/a images rm {}:1
	run ctrt images ls -q
	refute_output --partial cx.test/a
	# rm of an image that is not there: a warning only, exit 0 (as ctr)
	ctr_both cx.test/a images rm {}:1
	assert_equal "$both_status" 0
	ctr_same images ls
}

@test "ctr: images import: the same lines as ctr, and the same image in each namespace" {
	ctrx ns create cx-imp-x
	ctrt ns create cx-imp-t
	run ctrt_ns cx-imp-t images import "$TAR"
	local t_out=$output t_st=$status
	run cx_ns cx-imp-x images import "$TAR"
	assert_equal "$status" "$t_st"
	assert_equal "$output" "$t_out"
	assert_output --partial "unpacking $TEST_IMAGE (sha256:"
	assert_output --partial "...done"
	# the same image record and unpacked layer, seen by either tool
	assert_equal "$(ctrt_ns cx-imp-x images ls)" "$(ctrt_ns cx-imp-t images ls)"
	assert_equal "$(cx_ns cx-imp-t images check)" "$(ctrt_ns cx-imp-x images check)"
	run ctrt_ns cx-imp-x snapshots ls
	assert_output --partial "$CHAIN"
	# the same blobs with the same labels (the gc references containerd's GC follows), and the
	# same unpacked layer with the same labels. Not the tar's index.json blob when the image
	# points at its manifest: nothing references it once the import's lease is gone, and
	# containerd's GC removes it when it runs (2.x's, often before the listing: seen under load)
	local index
	index=sha256:$(tar -xOf "$TAR" index.json | sha256sum | cut -c1-64)
	if ctrt_ns cx-imp-t images ls | grep -q " $index "; then index=none; fi
	diff -u <(content_norm cx-imp-t | grep -v "^$index ") <(content_norm cx-imp-x | grep -v "^$index ")
	diff -u <(ctrt_ns cx-imp-t snapshots info "$CHAIN" | jq -S 'del(.Created, .Updated)') \
		<(ctrt_ns cx-imp-x snapshots info "$CHAIN" | jq -S 'del(.Created, .Updated)')
	# --sync: the snapshots are gone when it returns, so the namespace can go
	run cx_ns cx-imp-x images rm --sync "$TEST_IMAGE"
	assert_success
	run ctrx ns rm cx-imp-x
	assert_success
	ctrt_ns cx-imp-t images rm --sync "$TEST_IMAGE" >/dev/null
	ctrt ns rm cx-imp-t >/dev/null
}

# A second private containerd would be overkill: a fresh namespace of the suite's daemon has no
# image, content reference, snapshot or container of its own, so everything there is made by
# ctrbox-ctr. No ctr command is run with -n cx-fresh before the checks at the end: every ctr
# call of the test goes through the ctr() below, which records those that name the namespace
# (the teardown is the only other ctr user, and only when the test failed halfway).
@test "ctr: images import then run --rm, all with ctrbox-ctr, in a namespace ctr never touched" {
	ctr() {
		[[ " $* " != *" cx-fresh "* ]] || echo "ctr $*" >>"$BATS_TEST_TMPDIR/ctr-fresh"
		command ctr "$@"
	}
	run ctrt ns ls -q
	refute_line cx-fresh
	run ctrx ns create cx-fresh
	assert_success
	run cx_ns cx-fresh images import "$TAR"
	assert_success
	assert_output --partial "unpacking $TEST_IMAGE"
	run cx_ns cx-fresh images check
	assert_success
	assert_line --regexp "^$TEST_IMAGE .*complete \(2/2\)"
	run cx_ns cx-fresh snapshots ls
	assert_line --regexp "^$CHAIN +Committed *$"
	run cx_ns cx-fresh run --rm "$TEST_IMAGE" cx-fr1 sh -c 'echo hello from ctrbox; exit 3'
	assert_failure 3
	assert_output "hello from ctrbox"
	run cx_ns cx-fresh containers ls -q
	assert_output ''
	# run unpacks into a snapshotter the import did not use
	run cx_ns cx-fresh run --rm --snapshotter native "$TEST_IMAGE" cx-fr2 echo native
	assert_success
	assert_output native
	run cx_ns cx-fresh snapshots --snapshotter native ls
	assert_line --regexp "^$CHAIN +Committed *$"
	[[ ! -e $BATS_TEST_TMPDIR/ctr-fresh ]] || fail "ctr touched cx-fresh: $(cat "$BATS_TEST_TMPDIR/ctr-fresh")"
	# what ctr sees there now: the image ctrbox-ctr imported, nothing else
	run ctrt_ns cx-fresh images check
	assert_line --regexp "^$TEST_IMAGE .*complete \(2/2\)"
	run ctrt_ns cx-fresh containers ls -q
	assert_output ''
	run cx_ns cx-fresh images rm --sync "$TEST_IMAGE"
	assert_success
	run ctrx ns rm cx-fresh
	assert_success
	run ctrt ns ls -q
	refute_line cx-fresh
}

@test "ctr: containers create/ls/info/label/rm: same as ctr; created by one, started by the other" {
	ctr_both cx-c containers create "$TEST_IMAGE" {} -- sh -c 'echo started; exit 2'
	ctr_same containers ls
	ctr_same containers ls -q
	ctr_same c ls "image==$TEST_IMAGE"
	# info: the same record and spec (ids and times aside)
	diff -u <(info_norm ctrt cx-c-t | sed 's/cx-c-t/ID/g') <(info_norm ctrx cx-c-x | sed 's/cx-c-x/ID/g')
	ctr_same containers info cx-c-t >/dev/null # same text of ctr's own container
	# label prints every label, comma-separated in Go's map order: compared as a set
	CTR_NORM='s/,/\n/g' CTR_SORT=1 ctr_both cx-c containers label {} cx=1
	ctr_same containers info cx-c-x
	CTR_NORM='s/,/\n/g' CTR_SORT=1 ctr_both cx-c containers label {} cx=
	# already exists / unknown container: containerd's message, exit 1
	ctr_both cx-c containers create "$TEST_IMAGE" {} true
	assert_equal "$both_status" 1
	ctr_both cx-nope containers info {}
	assert_equal "$both_status" 1
	ctr_both cx-nope containers label {} a=b
	assert_equal "$both_status" 1
	# the one ctrbox-ctr created runs with ctr, and ctr's with ctrbox-ctr
	run ctrt task start cx-c-x
	assert_failure 2
	assert_output started
	run ctrx task start cx-c-t
	assert_failure 2
	assert_output started
	ctr_both cx-c task rm {}
	ctr_both cx-c containers rm {}
	ctr_both cx-c containers rm {}
	assert_equal "$both_status" 1
	ctr_same containers ls
	assert_no_leaks
}

@test "ctr: --snapshotter-label on containers create and run -d: the snapshot's labels as ctr sets them" {
	local n
	ctr_both sl-c containers create --snapshotter-label sl=1 --snapshotter-label x.y=z --snapshotter-label sl=2 \
		"$TEST_IMAGE" {} true
	ctr_both sl-r run -d --snapshotter-label r=1 "$TEST_IMAGE" {} sleep 100
	for n in sl-c sl-r; do
		diff -u <(ctrt snapshots info $n-t | jq -S .Labels) <(ctrt snapshots info $n-x | jq -S .Labels)
	done
	ctrt snapshots info sl-c-x | jq -e '.Labels.sl == "2" and .Labels["x.y"] == "z"'
	ctrt snapshots info sl-r-x | jq -e '.Labels.r == "1"'
	ctr_both sl-r task kill -s KILL {}
	wait_for 10 task_is sl-r-t STOPPED
	wait_for 10 task_is sl-r-x STOPPED
	ctr_both sl-r task rm {}
	ctr_both sl-r containers rm {}
	ctr_both sl-c containers rm {}
	assert_no_leaks
}

@test "ctr: snapshots ls/info/usage/prepare/commit/rm: same as ctr" {
	[[ -n $CHAIN ]]
	ctr_same snapshots ls
	ctr_same snapshots info "$CHAIN"
	CTR_NORM='s/"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"/"TIME"/g'
	ctr_both cx-sp snapshots prepare {} "$CHAIN"
	ctr_both cx-sp snapshots prepare {} "$CHAIN"
	assert_equal "$both_status" 1 # already exists
	ctr_both cx-sp snapshots info {}
	ctr_both cx-sp snapshots usage {}
	ctr_same snapshots usage "$CHAIN"
	CTR_NORM=''
	ctr_same snapshots ls
	ctr_both cx-sp snapshots commit {}-c {}
	ctr_same snapshots ls
	[[ $both_out =~ cx-sp-t-c\ +$CHAIN\ +Committed && $both_out =~ cx-sp-x-c\ +$CHAIN\ +Committed ]]
	ctr_both cx-sp snapshots prepare {}-a {}-c
	ctr_same snapshots --snapshotter overlayfs ls
	# rm: a parent with children fails; leaves then parents work; a missing one fails
	ctr_both cx-sp snapshots rm {}-c
	assert_equal "$both_status" 1
	ctr_both cx-sp snapshots rm {}-a
	ctr_both cx-sp snapshots rm {}-c
	ctr_both cx-sp snapshots rm {}-c
	assert_equal "$both_status" 1
	ctr_both cx-sp snapshots info {}
	assert_equal "$both_status" 1
	ctr_same snapshots ls
	ctr_same snapshots --snapshotter native ls
	# made by one, removed by the other
	ctrx snapshots prepare cx-sp2 "$CHAIN"
	run ctrt snapshots info cx-sp2
	assert_success
	ctrt snapshots commit cx-sp3 cx-sp2
	run ctrx snapshots ls
	assert_line --regexp "^cx-sp3 +$CHAIN +Committed *$"
	ctrx snapshots rm cx-sp3
	run ctrt snapshots ls
	refute_output --partial cx-sp
	run ctrx snapshots --snapshotter ctrbox ls
	assert_success
	assert_line --index 0 --regexp '^KEY +PARENT +KIND *$'
}

@test "ctr: a task run -d by ctr: ls/ps/metrics/pause/resume/exec/kill/rm with ctrbox-ctr" {
	ctrt run -d "$TEST_IMAGE" cx-t1 sleep 300 >/dev/null
	wait_for 10 task_is cx-t1 RUNNING
	CTR_SORT=1 ctr_same tasks ls
	CTR_SORT=1 ctr_same tasks ls -q
	ctr_same tasks ps cx-t1
	# metrics: the same rows; the numbers move
	diff -u <(ctrt tasks metrics cx-t1 | awk '{ print $1 }') <(ctrx tasks metrics cx-t1 | awk '{ print $1 }')
	run ctrx tasks metrics --format json cx-t1
	assert_success
	jq -e . <<<"$output" >/dev/null
	# the JSON has ctr's shape: the same groups with the same fields in each
	local shape='map_values(if type == "object" then keys else type end)'
	diff -u <(ctrt tasks metrics --format json cx-t1 | jq -S "$shape") <(jq -S "$shape" <<<"$output")
	run ctrx tasks pause cx-t1
	assert_success
	assert_equal "$(task_status cx-t1)" PAUSED
	CTR_SORT=1 ctr_same tasks ls
	run ctrx tasks resume cx-t1
	assert_success
	assert_equal "$(task_status cx-t1)" RUNNING
	# exec: output, exit code, --cwd, like ctr's
	ctr_both cx-e tasks exec --exec-id {} cx-t1 sh -c 'echo in; pwd; exit 4'
	assert_equal "$both_status" 4
	ctr_both cx-e tasks exec --cwd /etc --exec-id {} cx-t1 pwd
	assert_equal "$both_out" /etc
	ctr_both cx-e tasks exec --exec-id {} cx-t1 /nonexistent
	# execs started -d by each are in the other's ps, and killed by exec id
	ctr_both cx-ed tasks exec -d --exec-id {} cx-t1 sleep 300
	ctr_same tasks ps cx-t1
	assert_equal "$(wc -l <<<"$both_out")" 4 # header, init, two execs
	ctr_both cx-ed tasks kill --exec-id {} -s KILL cx-t1
	# errors: unknown task, rm of a running one
	ctr_both cx-nope tasks kill {}
	assert_equal "$both_status" 1
	ctr_same tasks rm cx-t1
	assert_equal "$both_status" 1
	run ctrx tasks kill -s KILL cx-t1
	assert_success
	wait_for 10 task_is cx-t1 STOPPED
	CTR_SORT=1 ctr_same tasks ls
	run ctrx tasks rm cx-t1
	assert_success
	run ctrx containers rm cx-t1
	assert_success
	assert_no_leaks
}

@test "ctr: a container run -d by ctrbox-ctr: ctr lists, pauses, execs, kills and removes it" {
	run ctrx run -d "$TEST_IMAGE" cx-t2 sleep 300
	assert_success
	assert_output ''
	wait_for 10 task_is cx-t2 RUNNING
	CTR_SORT=1 ctr_same tasks ls
	ctr_same containers ls
	run ctrt tasks pause cx-t2
	assert_success
	run ctrx tasks ls
	assert_line --regexp '^cx-t2 +[0-9]+ +PAUSED *$'
	ctrt tasks resume cx-t2
	run ctrt tasks exec --exec-id e1 cx-t2 sh -c 'echo ok; exit 5'
	assert_failure 5
	assert_output ok
	ctrt tasks kill -s KILL cx-t2
	wait_for 10 task_is cx-t2 STOPPED
	ctrt tasks rm cx-t2
	ctrt containers rm cx-t2
	assert_no_leaks
}

@test "ctr: tasks start, attached and -d, as ctr" {
	ctr_both cx-s containers create "$TEST_IMAGE" {} -- sh -c 'echo out; exit 6'
	ctr_both cx-s tasks start {}
	assert_equal "$both_status" 6
	assert_equal "$both_out" out
	# an attached start deletes the task once it exited
	ctr_both cx-s tasks rm {}
	assert_equal "$both_status" 1
	ctr_both cx-s containers rm {}
	# the container's stderr goes to the client's stderr
	ctrx containers create "$TEST_IMAGE" cx-s2 -- sh -c 'echo out; echo err >&2'
	ctrx tasks start cx-s2 >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/out")" out
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" err
	ctrx containers rm cx-s2
	ctr_both cx-d containers create "$TEST_IMAGE" {} sleep 300
	ctr_both cx-d tasks start -d {}
	wait_for 10 task_is cx-d-x RUNNING
	CTR_SORT=1 ctr_same tasks ls -q
	ctr_both cx-d tasks start -d {}
	assert_equal "$both_status" 1 # already exists
	ctr_both cx-d tasks kill -s KILL {}
	wait_for 10 task_is cx-d-t STOPPED
	wait_for 10 task_is cx-d-x STOPPED
	ctr_both cx-d tasks rm {}
	ctr_both cx-d containers rm {}
	assert_no_leaks
}

# ctr 1.6 has no `tasks wait` ("No help topic for 'wait'"): ctrbox-ctr's is its own. It waits
# for the task's exit and prints its exit status (exit 0); --timeout bounds it.
@test "ctr: tasks wait returns at the task's exit; --timeout on a running task: context deadline exceeded" {
	ctrt run -d "$TEST_IMAGE" cx-w sh -c 'sleep 2; exit 3' >/dev/null
	wait_for 10 task_is cx-w RUNNING
	local t0=$SECONDS
	run "$SHIMDIR/ctrbox-ctr" -a "$CTRD_SOCK" -n "$CTRD_NS" --timeout 300ms tasks wait cx-w
	assert_failure
	assert_output --partial "context deadline exceeded"
	((SECONDS - t0 < 2))
	assert_equal "$(task_status cx-w)" RUNNING
	run ctrx tasks wait cx-w
	assert_success
	assert_output 3
	assert_equal "$(task_status cx-w)" STOPPED
	ctrt tasks rm cx-w >/dev/null
	ctrt containers rm cx-w
}

@test "ctr: events streams a run by ctr in another shell (create, start, exit, delete)" {
	local ev=$BATS_TEST_TMPDIR/events
	"$SHIMDIR/ctrbox-ctr" -a "$CTRD_SOCK" -n "$CTRD_NS" events >"$ev" 2>&1 3>&- &
	EVPID=$!
	ev_ready "$ev"
	run ctrt run --rm "$TEST_IMAGE" cx-ev1 true
	assert_success
	wait_for 5 grep -q '/containers/delete' "$ev" || { cat "$ev"; false; }
	_alive "$EVPID" || fail "events exited: $(cat "$ev")"
	kill "$EVPID"
	wait "$EVPID" 2>/dev/null || true
	EVPID=
	cat "$ev"
	# ctr's format: TIME NAMESPACE TOPIC JSON, in containerd's order
	local topics
	topics=$(awk '$5 == "'"$CTRD_NS"'" && $7 ~ /"cx-ev1"/ { print $6 }' "$ev" | tr '\n' ' ')
	assert_equal "$topics" "/snapshot/prepare /containers/create /tasks/create /tasks/start /tasks/exit /tasks/delete /snapshot/remove /containers/delete "
	run grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ \+0000 UTC $CTRD_NS /tasks/start \{\"container_id\":\"cx-ev1\",\"pid\":[0-9]+\}$" "$ev"
	assert_success
	# and ctrbox-ctr's stream is the same as ctr's, listening side by side to a second run
	"$SHIMDIR/ctrbox-ctr" -a "$CTRD_SOCK" -n "$CTRD_NS" events >"$ev.x" 2>&1 3>&- &
	EVPID=$!
	# (ctr itself, not the ctrt function: $! must be the process that gets killed)
	ctr -a "$CTRD_SOCK" -n "$CTRD_NS" events >"$ev.t" 2>&1 3>&- &
	TPID=$!
	ev_ready "$ev.t" "$ev.x"
	ctrt run --rm "$TEST_IMAGE" cx-ev2 true
	wait_for 5 grep -q '/containers/delete' "$ev.x" || true
	wait_for 5 grep -q '/containers/delete' "$ev.t" || true
	kill "$EVPID" "$TPID"
	wait "$EVPID" "$TPID" 2>/dev/null || true
	EVPID= TPID=
	# the same events, printed the same (time, namespace, topic, event JSON), from the run on
	# (the readers may have seen a different number of cx-evsync's updates)
	diff -u <(sed -n '/cx-ev2/,$p' "$ev.t") <(sed -n '/cx-ev2/,$p' "$ev.x")
	ctr -a "$CTRD_SOCK" namespaces rm cx-evsync
}

@test "ctr: run --rm: output and exit code as ctr; --env, --cwd; no container left" {
	ctr_both cx-r run --rm "$TEST_IMAGE" {} sh -c 'echo out; echo err >&2; exit 7'
	assert_equal "$both_status" 7
	ctr_both cx-r run --rm --env FOO=bar --env X=1 --cwd /tmp "$TEST_IMAGE" {} sh -c 'echo $FOO$X; pwd'
	assert_equal "$both_out" "$(printf 'bar1\n/tmp')"
	ctr_both cx-r run --rm "$TEST_IMAGE" {} /nonexistent
	# killed from the other tool: 128 + 9, and --rm still removes it
	local tool pid rc
	for tool in ctrt ctrx; do
		"$tool" run --rm "$TEST_IMAGE" "cx-k-$tool" sleep 300 </dev/null >/dev/null 2>&1 3>&- &
		pid=$!
		wait_for 10 task_is "cx-k-$tool" RUNNING
		if [[ $tool == ctrt ]]; then ctrx tasks kill -s KILL "cx-k-$tool"; else ctrt tasks kill -s KILL "cx-k-$tool"; fi
		rc=0
		wait "$pid" || rc=$?
		assert_equal "$tool:$rc" "$tool:137"
	done
	# stdin reaches the container; its end closes the container's stdin. (Not compared: ctr
	# 1.6 with a pipe on stdin exits 137 here at once, leaving the container running.)
	run piped ctrx run --rm "$TEST_IMAGE" cx-in-x sh -c 'cat; echo end'
	assert_success
	assert_output "$(printf 'one\ntwo\nend')"
	ctr_both cx-r run --rm cx.test/nope:1 {} true
	assert_equal "$both_status" 1
	ctr_same containers ls -q
	assert_equal "$both_out" ''
	assert_no_leaks
}

@test "ctr: run -d: the same container record and spec as ctr's; ctrbox-ctr's is managed by ctr" {
	ctr_both cx-d run -d "$TEST_IMAGE" {} sleep 300
	wait_for 10 task_is cx-d-t RUNNING
	wait_for 10 task_is cx-d-x RUNNING
	diff -u <(info_norm ctrt cx-d-t | sed 's/cx-d-t/ID/g') <(info_norm ctrt cx-d-x | sed 's/cx-d-x/ID/g')
	ctr_both cx-d run -d "$TEST_IMAGE" {} sleep 300
	assert_equal "$both_status" 1 # already exists
	ctrt tasks kill -s KILL cx-d-x
	ctrx tasks kill -s KILL cx-d-t
	wait_for 10 task_is cx-d-t STOPPED
	wait_for 10 task_is cx-d-x STOPPED
	ctr_both cx-d tasks rm {}
	ctr_both cx-d containers rm {}
	assert_no_leaks
}

@test "ctr: run -t: a tty of the client's size, as with ctr" {
	local cmd="sh -c 'sleep 1; tty; stty size; sleep 1; exit 4'"
	run in_pty ctr -a "$CTRD_SOCK" -n "$CTRD_NS" run --fifo-dir "$CTRBOX_TEST_DIR/fifo" --rm -t "$TEST_IMAGE" cx-tty-t "$cmd"
	assert_failure 4
	local t_out=$output
	run in_pty "$SHIMDIR/ctrbox-ctr" -a "$CTRD_SOCK" -n "$CTRD_NS" run --fifo-dir "$CTRBOX_TEST_DIR/fifo" --rm -t "$TEST_IMAGE" cx-tty-x "$cmd"
	assert_failure 4
	assert_output --partial "/dev/pts/"
	assert_output --partial "33 77"
	# the same lines; carriage returns aside: ctr leaves the client's terminal with output
	# post-processing on (the container's "\r\n" arrives as "\r\r\n"), which shows the same
	assert_equal "${output//$'\r'/}" "${t_out//$'\r'/}"
	# exec -t too
	ctrt run -d "$TEST_IMAGE" cx-tty sleep 300 >/dev/null
	run in_pty ctr -a "$CTRD_SOCK" -n "$CTRD_NS" tasks exec --fifo-dir "$CTRBOX_TEST_DIR/fifo" -t --exec-id e0 cx-tty "$cmd"
	assert_failure 4
	t_out=$output
	run in_pty "$SHIMDIR/ctrbox-ctr" -a "$CTRD_SOCK" -n "$CTRD_NS" tasks exec --fifo-dir "$CTRBOX_TEST_DIR/fifo" -t --exec-id e1 cx-tty "$cmd"
	assert_failure 4
	assert_output --partial "/dev/pts/"
	assert_output --partial "33 77"
	# each exec gets a pty of its own: the number may differ
	assert_equal "$(tr -d '\r' <<<"$output" | sed 's|/dev/pts/[0-9]*|PTS|')" "$(tr -d '\r' <<<"$t_out" | sed 's|/dev/pts/[0-9]*|PTS|')"
	ctrt tasks kill -s KILL cx-tty
	wait_for 10 task_is cx-tty STOPPED
	ctrt tasks rm cx-tty
	ctrt containers rm cx-tty
	assert_no_leaks
}

@test "ctr: run --snapshotter/--runtime/--runc-binary/--log-uri/--memory-limit: as ctr" {
	local sn
	# ctr run unpacks the image into the snapshotter when needed (the first of the pair does);
	# the unpacked snapshots stay, as after 95-snapshotter.bats
	for sn in overlayfs native ctrbox ctrbox-native; do
		ctr_both "cx-$sn" run --rm --snapshotter "$sn" "$TEST_IMAGE" {} echo hi
		assert_equal "$both_out" hi
	done
	if [[ -x $GO_SHIM ]]; then
		ctr_both cx-go run --rm --runtime "$GO_SHIM" "$TEST_IMAGE" {} echo hi
		assert_equal "$both_out" hi
	fi
	ctr_both cx-rb run --rm --runc-binary "$(command -v runc)" "$TEST_IMAGE" {} echo hi
	assert_equal "$both_out" hi
	# the options in the container record: runtime name and runc options, memory limit
	ctr_both cx-o run -d --runc-binary "$(command -v runc)" --memory-limit 67108864 "$TEST_IMAGE" {} sleep 300
	wait_for 10 task_is cx-o-x RUNNING
	diff -u <(info_norm ctrt cx-o-t | sed 's/cx-o-t/ID/g') <(info_norm ctrt cx-o-x | sed 's/cx-o-x/ID/g')
	run ctrt containers info cx-o-x
	assert_output --partial '"limit": 67108864'
	local cg
	cg=$(find /sys/fs/cgroup/memory /sys/fs/cgroup -maxdepth 3 -type d -name cx-o-x -path "*$CTRD_NS*" 2>/dev/null | head -1)
	if [[ -f $cg/memory.limit_in_bytes ]]; then
		assert_equal "$(cat "$cg/memory.limit_in_bytes")" 67108864
	elif [[ -f $cg/memory.max ]]; then
		assert_equal "$(cat "$cg/memory.max")" 67108864
	fi
	# --log-uri file://: the output goes to the file, not to the client
	ctr_both cx-l run --rm --log-uri "file://$BATS_TEST_TMPDIR/{}.log" "$TEST_IMAGE" {} echo logged
	assert_equal "$both_out" ''
	assert_equal "$(cat "$BATS_TEST_TMPDIR/cx-l-x.log")" logged
	assert_equal "$(cat "$BATS_TEST_TMPDIR/cx-l-t.log")" logged
	ctrt tasks kill -s KILL cx-o-t
	ctrt tasks kill -s KILL cx-o-x
	wait_for 10 task_is cx-o-t STOPPED
	wait_for 10 task_is cx-o-x STOPPED
	ctr_both cx-o tasks rm {}
	ctr_both cx-o containers rm {}
	assert_no_leaks
}

@test "ctr: global flags and environment: -a/--address, -n/--namespace, CONTAINERD_ADDRESS/NAMESPACE" {
	local want
	want=$(ctrt containers ls)
	run "$SHIMDIR/ctrbox-ctr" --address "$CTRD_SOCK" --namespace "$CTRD_NS" containers ls
	assert_success
	assert_output "$want"
	run "$SHIMDIR/ctrbox-ctr" -a "unix://$CTRD_SOCK" -n "$CTRD_NS" images ls -q
	assert_success
	assert_output "$(ctrt images ls -q)"
	run env CONTAINERD_ADDRESS="$CTRD_SOCK" CONTAINERD_NAMESPACE="$CTRD_NS" "$SHIMDIR/ctrbox-ctr" images ls -q
	assert_success
	assert_output "$(ctrt images ls -q)"
	# a flag wins over the environment
	run env CONTAINERD_ADDRESS=/nonexistent.sock CONTAINERD_NAMESPACE=cx-none "$SHIMDIR/ctrbox-ctr" -a "$CTRD_SOCK" -n "$CTRD_NS" images ls -q
	assert_success
	assert_output "$(ctrt images ls -q)"
	# another namespace: empty
	run "$SHIMDIR/ctrbox-ctr" -a "$CTRD_SOCK" -n cx-empty images ls -q
	assert_success
	assert_output ''
	run ctr -a "$CTRD_SOCK" ns ls -q
	refute_line cx-empty
}

@test "ctr: errors: containerd's message and exit 1 for unknown objects; a dead socket says so" {
	ctr_both cx-nope containers info {}
	assert_equal "$both_status" 1
	[[ $(ctrx containers info cx-nope 2>&1) == 'ctr: container "cx-nope" in namespace "'"$CTRD_NS"'": not found' ]]
	ctr_both cx-nope run --rm cx.test/{}:1 x true
	assert_equal "$both_status" 1
	ctr_both cx-nope tasks kill {}
	ctr_both cx-nope tasks ps {}
	ctr_both cx-nope tasks pause {}
	ctr_both cx-nope images check name==cx.test/{}
	ctr_both cx-nope snapshots info {}
	ctr_both cx-nope snapshots rm {}
	# usage errors: ctr's text and exit code
	ctr_both cx-nope containers info
	ctr_both cx-nope tasks kill
	run ctrx nosuchcommand
	assert_failure 3
	# a socket nobody listens on (bound, never listening: connect is refused)
	local sock=$BATS_TEST_TMPDIR/dead.sock
	python3 -c 'import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$sock"
	[[ -S $sock ]]
	run timeout 30 ctr -a "$sock" --connect-timeout 1s version
	assert_failure
	local t_out=$output
	run timeout 30 "$SHIMDIR/ctrbox-ctr" -a "$sock" --connect-timeout 1s images ls
	assert_failure 1
	assert_output --regexp "^ctr: failed to dial \"$sock\""
	[[ $t_out == *"ctr: failed to dial \"$sock\""* ]]
	run timeout 30 "$SHIMDIR/ctrbox-ctr" -a "$BATS_TEST_TMPDIR/none.sock" version
	assert_failure 1
	assert_output --partial "ctr: failed to dial \"$BATS_TEST_TMPDIR/none.sock\""
	# --timeout: a stream that would run forever ends with the deadline (as ctr's)
	run ctr -a "$CTRD_SOCK" -n "$CTRD_NS" --timeout 300ms events
	assert_failure 1
	if ctrd_is 1.6; then
		assert_output --partial "context deadline exceeded"
	else
		# containerd 2.1 ends the stream itself at the grpc-timeout ctr sent (RST_STREAM CANCEL),
		# racing ctr's own timer: ctr 1.6 then prints the DeadlineExceeded status it made of it
		assert_output --regexp "context deadline exceeded|code = DeadlineExceeded desc = stream terminated by RST_STREAM with error code: CANCEL"
	fi
	run "$SHIMDIR/ctrbox-ctr" -a "$CTRD_SOCK" -n "$CTRD_NS" --timeout 300ms events
	assert_failure 1
	assert_output --partial "context deadline exceeded"
	run "$SHIMDIR/ctrbox-ctr" -a "$CTRD_SOCK" --timeout nonsense version
	assert_failure 1
}

@test "ctr: a connection dropped mid-stream (containerd stops under events) ends with an error" {
	local ev=$BATS_TEST_TMPDIR/events
	"$SHIMDIR/ctrbox-ctr" -a "$CTRD_SOCK" -n "$CTRD_NS" events >"$ev.x" 2>&1 3>&- &
	EVPID=$!
	ctr -a "$CTRD_SOCK" -n "$CTRD_NS" events >"$ev.t" 2>&1 3>&- &
	TPID=$!
	ev_ready "$ev.t" "$ev.x"
	ctrd_stop
	local rx=0 rt=0
	wait_for 10 eval "! _alive $EVPID" || { ctrd_start; fail "ctrbox-ctr events still runs without containerd"; }
	wait "$EVPID" || rx=$?
	wait_for 10 eval "! _alive $TPID" || true
	wait "$TPID" || rt=$?
	EVPID= TPID=
	ctrd_start
	cat "$ev.t" "$ev.x"
	assert_equal "$rx" "$rt"
	assert_equal "$rx" 1
	grep -Eq '^ctr: .*(Unavailable|connection|closed)' "$ev.x"
	# and the restarted daemon answers again
	run ctrx version
	assert_success
}
