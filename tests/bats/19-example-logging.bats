#!/usr/bin/env bats
# The logging crate (ctrbox/logging.h) for logging-binary authors: examples/logging-file, built
# out of tree on the installed libctrbox alone, run by the private containerd as a binary://
# logger; and by hand, the way the shim runs it (fds 3/4/5, CONTAINER_ID/CONTAINER_NAMESPACE).

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	ex_setup
}

setup() {
	require_root
	ctrd_log_mark
	LF=$EXDIR/logging-file
}

teardown() {
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		dump_ctrd_log 30
		ctrd_clean_ns 10 # a failed test's container must not fail a later leak check
	fi
	return 0
}

# lf_pids: the example loggers still running.
lf_pids() {
	pgrep -f "^$LF( |$)" || true
}

# lf ARGS...: runs the logger as the shim does: the environment alone, fd 3 from
# $BATS_TEST_TMPDIR/out, fd 4 from .../err, fd 5 to .../ready (a FIFO-less stand-in).
lf() {
	env -i CONTAINER_ID=c1 CONTAINER_NAMESPACE=ns1 "$LF" "$@" \
		3<"$BATS_TEST_TMPDIR/out" 4<"$BATS_TEST_TMPDIR/err" 5>/dev/null
}

@test "logging-file: through containerd, every stdout and stderr line in order per stream, with the stream's name" {
	local d=$BATS_TEST_TMPDIR
	run ctrt run --rm --log-uri "binary://$LF?file=$d/c.log" "$TEST_IMAGE" lf1 \
		sh -c 'i=1; while [ $i -le 200 ]; do echo o$i; echo e$i >&2; i=$((i + 1)); done; printf last'
	assert_success # the logger signalled readiness: the container was created and ran
	# the shim closes the pipes at delete (--rm): the logger flushes "last" and exits
	wait_for 10 grep -qx 'stdout F last' "$d/c.log"
	wait_for 10 eval '[[ -z $(lf_pids) ]]'
	run bash -c "grep -c . '$d/c.log'"
	assert_output 401
	run bash -c "grep -v '^std\(out\|err\) F ' '$d/c.log' || true"
	assert_output ""
	diff <(sed -n 's/^stdout F //p' "$d/c.log") <(seq -f 'o%g' 1 200; echo last)
	diff <(sed -n 's/^stderr F //p' "$d/c.log") <(seq -f 'e%g' 1 200)
	assert_no_leaks
}

@test "logging-file: a line longer than max-line comes as P pieces, then the rest as an F record" {
	local d=$BATS_TEST_TMPDIR long
	long=$(printf 'x%.0s' {1..40})
	run ctrt run --rm --log-uri "binary://$LF?file=$d/c.log&max-line=16" "$TEST_IMAGE" lf2 \
		sh -c "echo $long; echo short; echo 0123456789abcdef >&2"
	assert_success
	wait_for 10 eval '[[ -z $(lf_pids) ]]'
	run sed -n 's/^stdout //p' "$d/c.log"
	assert_output - <<-EOF
		P xxxxxxxxxxxxxxxx
		P xxxxxxxxxxxxxxxx
		F xxxxxxxx
		F short
	EOF
	# a line of exactly max-line bytes is one record; the pieces re-join to the line
	run sed -n 's/^stderr //p' "$d/c.log"
	assert_output "F 0123456789abcdef"
	run bash -c "sed -n 's/^stdout [PF] //p' '$d/c.log' | head -3 | tr -d '\n'"
	assert_output "$long"
	assert_no_leaks
}

@test "logging-file: a bad option: a clear error and exit 2, nothing logged; in containerd nothing leaks" {
	local d=$BATS_TEST_TMPDIR
	: >"$d/out"
	: >"$d/err"
	run -2 lf file="$d/x.log" colour=red
	assert_output "logging-file: unknown option 'colour' (file, max-line)"
	run -2 lf file=relative.log
	assert_output "logging-file: file=PATH (an absolute path) is required"
	run -2 lf max-line=0 file="$d/x.log"
	assert_output "logging-file: max-line '0': want 1..1048576"
	run -2 lf file
	assert_output "logging-file: option 'file' needs a value"
	run -2 env -i "$LF" file="$d/x.log"
	assert_output --partial "CONTAINER_ID and CONTAINER_NAMESPACE must be set"
	run -1 lf file="$d/no/such/dir/x.log"
	assert_output "logging-file: $d/no/such/dir/x.log: No such file or directory"
	[[ ! -e $d/x.log ]]
	# containerd's shim takes EOF on fd 5 (the logger exited) for readiness (spec A.3): the
	# container is created and runs, but its stdout pipe has no reader left, so its first write
	# fails; a silent container succeeds. Either way nothing is logged and nothing is left behind.
	run ctrt run --rm --log-uri "binary://$LF?file=$d/x.log&colour=red" "$TEST_IMAGE" lf3 echo hi
	assert_failure
	run ctrt run --rm --log-uri "binary://$LF?file=$d/x.log&colour=red" "$TEST_IMAGE" lf4 true
	assert_success
	[[ ! -e $d/x.log ]]
	[[ -z $(lf_pids) ]]
	assert_no_leaks
}

@test "logging-file: by hand, EOF of both streams flushes the unterminated last line and exits 0" {
	local d=$BATS_TEST_TMPDIR
	printf 'a\n\nb c\nno newline' >"$d/out"
	printf 'err1\n' >"$d/err"
	run lf --file "$d/h.log"
	assert_success
	assert_output ""
	run sed -n 's/^stdout //p' "$d/h.log"
	assert_output - <<-'EOF'
		F a
		F 
		F b c
		F no newline
	EOF
	grep -qx 'stderr F err1' "$d/h.log"
	# O_APPEND: a second run adds to the file
	run lf "file=$d/h.log"
	assert_success
	[[ $(grep -c '^stdout F a$' "$d/h.log") == 2 ]]
}

@test "logging-file: SIGTERM drains what the pipes hold, flushes the partial line, exits 0" {
	local d=$BATS_TEST_TMPDIR pid rc=0
	mkfifo "$d/out" "$d/err"
	exec 7<>"$d/out" 8<>"$d/err" # keep the write ends open: no EOF
	env -i CONTAINER_ID=c1 CONTAINER_NAMESPACE=ns1 "$LF" file="$d/t.log" \
		3<"$d/out" 4<"$d/err" 5>/dev/null &
	pid=$!
	printf 'one\ntw' >&7
	printf 'e\n' >&8
	wait_for 10 grep -qx 'stdout F one' "$d/t.log"
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	((rc == 0)) || fail "exit status $rc after SIGTERM"
	exec 7>&- 8>&-
	grep -qx 'stdout F tw' "$d/t.log"
	grep -qx 'stderr F e' "$d/t.log"
}
