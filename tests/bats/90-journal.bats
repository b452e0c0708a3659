#!/usr/bin/env bats
# ctrbox-journal: the binary:// logger, against a real systemd-journald in a private namespace
# (/run/systemd/journal.$JNS/socket, read back with journalctl --namespace), standalone and
# through containerd; file mode with rotation.

load helpers

JOURNALD=/lib/systemd/systemd-journald

setup_file() {
	export JNS JSOCK JPID JMID JRUNLOG_NEW
	[[ -x $JOURNALD ]] || return 0 # tests skip with the reason
	[[ -e /run/log/journal ]] || JRUNLOG_NEW=1 # journald may create it: removed again at the end
	JNS=ctrboxbats${CTRD_NS##*-}
	JSOCK=/run/systemd/journal.$JNS/socket
	JMID=$(cat /etc/machine-id 2>/dev/null)
	# setsid and no inherited bats fds: bats waits for every holder of its pipes
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-"
		done
		exec setsid "$JOURNALD" "$JNS" </dev/null >"$BATS_FILE_TMPDIR/journald.log" 2>&1
	) &
	JPID=$!
	disown "$JPID"
	wait_for 10 test -S "$JSOCK" || true
}

teardown_file() {
	[[ -n ${JPID:-} ]] || return 0
	kill -TERM "$JPID" 2>/dev/null || true
	wait_for 10 eval "! _alive $JPID" || { kill -KILL "$JPID" 2>/dev/null; wait_for 5 eval "! _alive $JPID"; } || true
	rm -rf "/run/systemd/journal.$JNS"
	[[ -n $JMID ]] && rm -rf "/var/log/journal/$JMID.$JNS" "/run/log/journal/$JMID.$JNS"
	[[ -z ${JRUNLOG_NEW:-} ]] || rmdir /run/log/journal 2>/dev/null || true
	return 0
}

setup() {
	require_root
	require_ctrbox ctrbox-journal
	[[ -x $JOURNALD ]] || skip "$JOURNALD missing (package systemd)"
	[[ -S $JSOCK ]] || fail "systemd-journald $JNS did not create $JSOCK: $(cat "$BATS_FILE_TMPDIR/journald.log")"
	J=$SHIMDIR/ctrbox-journal
}

# jlog TAG: the entries with SYSLOG_IDENTIFIER=TAG as JSON lines (long fields in full).
jlog() {
	journalctl --namespace="$JNS" -o json --all --no-pager "SYSLOG_IDENTIFIER=$1" 2>/dev/null
}

# jcount TAG N: true once the journal holds N entries for TAG (for wait_for).
jcount() {
	[[ $(jlog "$1" | wc -l) -ge $2 ]]
}

# jl ID ARGS...: runs the logger the way the shim does: env, fds 3/4 from $BATS_TEST_TMPDIR/out
# and err, fd 5 to /dev/null.
jl() {
	local id=$1
	shift
	CONTAINER_ID=$id CONTAINER_NAMESPACE=nsj "$J" "$@" 3<"$BATS_TEST_TMPDIR/out" 4<"$BATS_TEST_TMPDIR/err" 5>/dev/null
}

@test "journal: --help documents the drop policy and split size" {
	run "$J" --help
	assert_success
	assert_output --partial "dropped and counted"
	assert_output --partial "default 256k"
	assert_output --partial "stats-file"
}

@test "journal: stdout and stderr lines with PRIORITY 6/3, tag, container fields and extra fields" {
	printf 'out one\nout two\nno newline at the end' >"$BATS_TEST_TMPDIR/out"
	printf 'err one\n' >"$BATS_TEST_TMPDIR/err"
	run jl 0123456789abcdef0123 socket "$JSOCK" --tag t-basic field FOO=bar field2=BAZ=q stats-file "$BATS_TEST_TMPDIR/stats"
	assert_success
	wait_for 5 jcount t-basic 4
	run bash -c "journalctl --namespace=$JNS -o json --no-pager SYSLOG_IDENTIFIER=t-basic | jq -r '[.PRIORITY, .MESSAGE, .CONTAINER_ID, .CONTAINER_ID_FULL, .CONTAINER_NAMESPACE, .CONTAINER_TAG, .FOO, .BAZ] | join(\"|\")' | sort"
	assert_output - <<-EOF
		3|err one|0123456789ab|0123456789abcdef0123|nsj|t-basic|bar|q
		6|no newline at the end|0123456789ab|0123456789abcdef0123|nsj|t-basic|bar|q
		6|out one|0123456789ab|0123456789abcdef0123|nsj|t-basic|bar|q
		6|out two|0123456789ab|0123456789abcdef0123|nsj|t-basic|bar|q
	EOF
	grep -qx 'lines=4' "$BATS_TEST_TMPDIR/stats"
	grep -qx 'dropped_lines=0' "$BATS_TEST_TMPDIR/stats"
}

@test "journal: SYSLOG_IDENTIFIER defaults to the container id" {
	echo hi >"$BATS_TEST_TMPDIR/out"
	: >"$BATS_TEST_TMPDIR/err"
	jl t-defid-c1 namespace "$JNS"
	wait_for 5 jcount t-defid-c1 1
	[[ $(jlog t-defid-c1 | jq -r .MESSAGE) == hi ]]
}

@test "journal: a 100 KiB line arrives whole, through a sealed memfd" {
	head -c 102400 /dev/zero | tr '\0' x >"$BATS_TEST_TMPDIR/out"
	echo >>"$BATS_TEST_TMPDIR/out"
	: >"$BATS_TEST_TMPDIR/err"
	jl c1 socket "$JSOCK" tag t-big stats-file "$BATS_TEST_TMPDIR/stats"
	wait_for 5 jcount t-big 1
	[[ $(jlog t-big | jq -r '.MESSAGE | length') == 102400 ]]
	[[ $(jlog t-big | jq -r '.MESSAGE | test("^x+$")') == true ]]
	grep -qx 'memfd=1' "$BATS_TEST_TMPDIR/stats"
}

@test "journal: binary bytes and a CR survive (binary-safe field form)" {
	printf 'a\001b\000c\377d\re\n' >"$BATS_TEST_TMPDIR/out"
	: >"$BATS_TEST_TMPDIR/err"
	jl c1 socket "$JSOCK" tag t-bin
	wait_for 5 jcount t-bin 1
	[[ $(jlog t-bin | jq -c .MESSAGE) == "[97,1,98,0,99,255,100,13,101]" ]]
}

@test "journal: lines longer than max-line are split, CONTAINER_PARTIAL_MESSAGE on all but the last" {
	head -c 2500 /dev/zero | tr '\0' y >"$BATS_TEST_TMPDIR/out"
	echo >>"$BATS_TEST_TMPDIR/out"
	: >"$BATS_TEST_TMPDIR/err"
	jl c1 socket "$JSOCK" tag t-split max-line 1k
	wait_for 5 jcount t-split 3
	run bash -c "journalctl --namespace=$JNS -o json --no-pager SYSLOG_IDENTIFIER=t-split | jq -r '\"\(.MESSAGE|length) \(.CONTAINER_PARTIAL_MESSAGE)\"'"
	assert_output - <<-EOF
		1024 true
		1024 true
		452 null
	EOF
}

@test "journal: socket missing or a bad option -> a clear error on stderr, non-zero exit" {
	: >"$BATS_TEST_TMPDIR/out"
	: >"$BATS_TEST_TMPDIR/err"
	run jl c1 socket "$BATS_TEST_TMPDIR/nope/socket"
	assert_failure 1
	assert_output --partial "journal socket $BATS_TEST_TMPDIR/nope/socket: No such file or directory"
	run jl c1 bogus-option 1
	assert_failure 2
	assert_output --partial "unknown option 'bogus-option'"
}

@test "journal: fd 5 is closed once connected; SIGTERM drains, flushes the partial line, exits 0" {
	local d=$BATS_TEST_TMPDIR pid
	mkfifo "$d/ready" "$d/pipe"
	# fd 3 is a fifo we hold open for writing: no EOF, only SIGTERM ends the logger
	CONTAINER_ID=c1 CONTAINER_NAMESPACE=nsj "$J" socket "$JSOCK" tag t-term stats-file "$d/stats" \
		3<>"$d/pipe" 4</dev/null 5>"$d/ready" &
	pid=$!
	timeout 5 cat "$d/ready" # EOF: the logger closed fd 5
	_alive "$pid"
	exec 7>"$d/pipe"
	printf 'l1\nl2\ntail-without-newline' >&7
	wait_for 5 jcount t-term 2
	kill -TERM "$pid"
	local rc=0
	wait "$pid" || rc=$?
	[[ $rc == 0 ]] || fail "exit status $rc after SIGTERM"
	exec 7>&-
	wait_for 5 jcount t-term 3
	[[ $(jlog t-term | jq -r .MESSAGE | tr '\n' ,) == "l1,l2,tail-without-newline," ]]
}

@test "journal: a burst far beyond journald's socket queue is queued and delivered, none dropped" {
	seq 1 30000 >"$BATS_TEST_TMPDIR/out"
	: >"$BATS_TEST_TMPDIR/err"
	jl c1 socket "$JSOCK" tag t-burst stats-file "$BATS_TEST_TMPDIR/stats"
	cat "$BATS_TEST_TMPDIR/stats"
	grep -qx 'dropped_lines=0' "$BATS_TEST_TMPDIR/stats"
	grep -q '^queued=[1-9]' "$BATS_TEST_TMPDIR/stats" # the queue was used (max_dgram_qlen is small)
	wait_for 10 jcount t-burst 30000
	[[ $(jlog t-burst | jq -r .MESSAGE | sort -n | uniq | wc -l) == 30000 ]]
}

@test "journal: a stopped journald never blocks the writer; drops are counted and reported" {
	local d=$BATS_TEST_TMPDIR pid dropped
	mkfifo "$d/pipe"
	CONTAINER_ID=c1 CONTAINER_NAMESPACE=nsj "$J" socket "$JSOCK" tag t-slow buffer 64k \
		stats-file "$d/stats" 3<"$d/pipe" 4</dev/null 5>/dev/null &
	pid=$!
	exec 7>"$d/pipe"
	kill -STOP "$JPID"
	# 200000 lines into the pipe (64 KiB) while journald takes nothing: must not stall
	run timeout 20 bash -c 'seq 1 200000 >&7'
	echo "# writer: $status; logger: $(grep State /proc/$pid/status) $(cat /proc/$pid/wchan)"
	kill -CONT "$JPID"
	assert_success
	exec 7>&-
	run timeout 10 bash -c "while kill -0 $pid 2>/dev/null; do sleep 0.1; done"
	assert_success
	cat "$d/stats"
	grep -qx 'lines=200000' "$d/stats"
	grep -q '^queued=[1-9]' "$d/stats"
	dropped=$(sed -n 's/^dropped_lines=//p' "$d/stats")
	((dropped > 0))
	wait_for 10 jcount t-slow $((200000 - dropped + 1))
	run bash -c "journalctl --namespace=$JNS -o json --no-pager SYSLOG_IDENTIFIER=t-slow PRIORITY=4 | jq -r .MESSAGE"
	assert_output "ctrbox-journal: dropped $dropped of 200000 log lines ($(sed -n 's/^dropped_bytes=//p' "$d/stats") bytes): journald was slow or absent"
}

@test "journal: end to end through containerd with --log-uri binary://.../ctrbox-journal" {
	run ctrt run --rm --log-uri "binary://$SHIMDIR/ctrbox-journal?namespace=$JNS&tag=t-e2e&--field=IMAGE_NAME=busybox" \
		"$TEST_IMAGE" jr1 sh -c 'echo o1; echo e1 >&2; printf "last"'
	assert_success
	wait_for 10 jcount t-e2e 3
	run bash -c "journalctl --namespace=$JNS -o json --no-pager SYSLOG_IDENTIFIER=t-e2e | jq -r '[.PRIORITY, .MESSAGE, .CONTAINER_ID_FULL, .CONTAINER_NAMESPACE, .IMAGE_NAME] | join(\"|\")' | sort"
	assert_output - <<-EOF
		3|e1|jr1|$CTRD_NS|busybox
		6|last|jr1|$CTRD_NS|busybox
		6|o1|jr1|$CTRD_NS|busybox
	EOF
	assert_no_leaks
}

@test "journal: end to end, the journal socket missing fails nothing in containerd but logs nothing" {
	# The shim reads EOF on fd 5 either way (spec A.3): the run still completes.
	run ctrt run --rm --log-uri "binary://$SHIMDIR/ctrbox-journal?socket=$BATS_TEST_TMPDIR/none" \
		"$TEST_IMAGE" jr2 true
	assert_success
	assert_no_leaks
}

@test "file: CRI lines, rotation keeps max-files, no line split or lost across rotations" {
	local d=$BATS_TEST_TMPDIR f
	seq 1 3000 >"$d/out"
	printf 'e1\n' >"$d/err"
	jl c1 mode file path "$d/log" max-size 4k max-files 3
	run ls "$d"
	assert_output --partial "log.2"
	[[ ! -e $d/log.3 ]]
	for f in "$d/log" "$d/log.1" "$d/log.2"; do
		(($(stat -c %s "$f") <= 4096)) || fail "$f larger than max-size"
		run grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z std(out|err) F ([0-9]+|e1)$' "$f"
		assert_output 0
	done
	# oldest to newest, the stdout lines kept are one unbroken run ending at 3000
	run bash -c "cat '$d/log.2' '$d/log.1' '$d/log' | awk '\$2 == \"stdout\" { if (prev && \$4 != prev + 1) print \"gap\", prev, \$4; prev = \$4 } END { print \"last\", prev }'"
	assert_output "last 3000"
	# with room for everything nothing is lost
	jl c2 mode file path "$d/all" max-size 4k max-files 100
	[[ $(cat "$d"/all* | grep -c ' stdout F ') == 3000 ]]
	[[ $(cat "$d"/all* | grep -c ' stderr F e1$') == 1 ]]
}

@test "file: json-file format, partial chunks without the newline" {
	local d=$BATS_TEST_TMPDIR
	printf 'a"b\\c\n' >"$d/out"
	printf 'abcdefghij\n' >"$d/err"
	jl c1 mode file path "$d/log" format json max-line 6
	run jq -c '[.log, .stream, (.time | test("Z$"))]' "$d/log"
	assert_output - <<-'EOF'
		["a\"b\\c\n","stdout",true]
		["abcdef","stderr",true]
		["ghij\n","stderr",true]
	EOF
}

@test "file: end to end through containerd (CRI format)" {
	local d=$BATS_TEST_TMPDIR
	run ctrt run --rm --log-uri "binary://$SHIMDIR/ctrbox-journal?mode=file&path=$d/c.log" \
		"$TEST_IMAGE" jr3 sh -c 'echo o1; echo e1 >&2'
	assert_success
	wait_for 10 grep -q ' stderr F e1$' "$d/c.log"
	grep -q ' stdout F o1$' "$d/c.log"
	assert_no_leaks
}
