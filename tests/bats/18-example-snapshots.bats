#!/usr/bin/env bats
# libctrbox's snapshots crate for snapshotter authors: examples/snapshotter-passthrough (a native
# snapshotter built out of tree on the installed library alone) behind the suite's containerd as
# [proxy_plugins.example] (setup_suite's config): ctr snapshots prepare/commit/ls/info/label/rm,
# List filters, an image unpacked into it and a container run on it; stopped by SIGTERM at the
# end, nothing left behind.

load helpers
bats_require_minimum_version 1.5.0

PROBE=${REPO:-.}/build/tools/grpc-probe
EXNAME=example

setup_file() {
	[[ -x ${CTRBOX:-} ]] || return 0
	ex_setup
	"$REPO/tests/bats/mkimage.sh" "$BATS_FILE_TMPDIR/img.tar" "$TEST_IMAGE"
	export EXROOT=$BATS_FILE_TMPDIR/ex-root EXSOCK
	EXSOCK=$(snap_sock $EXNAME)
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-"
		done
		exec setsid "$EXDIR/snapshotter-passthrough" --root "$EXROOT" --address "$EXSOCK" \
			</dev/null >>"$BATS_FILE_TMPDIR/example.log" 2>&1
	) &
	echo $! >"$BATS_FILE_TMPDIR/example.pid"
	disown $!
	wait_for 10 "$PROBE" "$EXSOCK" list 'name==__ready__' ||
		{ cat "$BATS_FILE_TMPDIR/example.log" >&2; return 1; }
	# containerd dialled the socket at its start, before it existed: its gRPC connection
	# retries with a backoff (3 s at most), so wait until containerd's calls get through
	wait_for 30 ex_reachable || { echo "containerd does not reach the example" >&2; return 1; }
}

ex_reachable() {
	ctrt snapshots --snapshotter $EXNAME prepare ex-ready >/dev/null 2>&1 &&
		ctrt snapshots --snapshotter $EXNAME rm ex-ready >/dev/null
}

teardown_file() {
	local pid
	pid=$(cat "$BATS_FILE_TMPDIR/example.pid" 2>/dev/null) || return 0
	kill -KILL "$pid" 2>/dev/null || true
}

setup() {
	require_ctrbox ctrbox-snapshotter
	[[ -x $PROBE ]] || skip "build/tools/grpc-probe not built"
	ctrd_log_mark
}

teardown() {
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		dump_ctrd_log 30
		tail -20 "$BATS_FILE_TMPDIR/example.log" >&2
		ctrd_clean_ns 10
	fi
	return 0
}

ex_no_dirs() { [[ -z $(ls -A "$EXROOT/snapshots") ]]; }

ex_pid() { cat "$BATS_FILE_TMPDIR/example.pid"; }

exs() { ctrt snapshots --snapshotter $EXNAME "$@"; }

# ex_dir KEY: the directory the example binds for KEY (from ctr snapshots mounts).
ex_dir() {
	exs mounts /mnt "$1" | awk '$1 == "mount" { print $4 }'
}

@test "example snapshotter: prepare/commit/ls/info/label/rm through containerd, copies, codes" {
	run exs prepare ex-a
	assert_success
	local da db
	da=$(ex_dir ex-a)
	[[ $da == "$EXROOT"/snapshots/* && -d $da ]] || fail "ex-a dir: '$da'"
	run exs mounts /mnt ex-a
	assert_output "mount -t bind $da /mnt -o rw,rbind"
	mkdir "$da/etc" && echo layer >"$da/etc/file" && ln -s file "$da/etc/link" && chmod 0640 "$da/etc/file"
	run exs commit ex-base ex-a
	assert_success
	run exs prepare ex-b ex-base
	assert_success
	db=$(ex_dir ex-b)
	[[ $db != "$da" && $(cat "$db/etc/file") == layer && $(readlink "$db/etc/link") == file ]]
	[[ $(stat -c %a "$db/etc/file") == 640 ]]
	# the view through containerd with a gc.root: ctr's `snapshots view` sets none, and
	# containerd's GC (run by an earlier removal) may take an unreferenced view before ls
	run "$PROBE" -n "$CTRD_NS" -s $EXNAME "$CTRD_SOCK" view ex-v ex-base \
		containerd.io/gc.root="$(date -u +%FT%TZ)"
	assert_success
	run exs mounts /mnt ex-v
	assert_output --regexp "^mount -t bind $EXROOT/snapshots/[0-9]+ /mnt -o ro,rbind$"
	run exs ls
	assert_success
	assert_output --regexp "ex-base +(-|) *Committed"
	assert_output --regexp "ex-b +ex-base +Active"
	assert_output --regexp "ex-v +ex-base +View"
	run exs info ex-b
	assert_output --partial '"Kind": "Active"'
	assert_output --partial '"Parent": "ex-base"'
	run exs label ex-b team=blue
	assert_success
	run exs info ex-b
	assert_output --partial '"team": "blue"'
	# List filters are the crate's (the example only walks); the backend sees containerd's
	# namespaced keys (NS/N/KEY)
	run "$PROBE" "$EXSOCK" list 'kind==committed'
	assert_success
	assert_output --regexp '^[^|]+/ex-base\|\|committed\|$'
	run "$PROBE" "$EXSOCK" list 'kind==active,name~="/ex-b$"'
	assert_output --regexp '^[^|]+/ex-b\|[^|]+/ex-base\|active\|'
	[[ ${#lines[@]} == 1 ]]
	run "$PROBE" "$EXSOCK" list 'kind==view' 'kind==committed'
	[[ ${#lines[@]} == 2 ]]
	run "$PROBE" "$EXSOCK" list 'kind=='
	assert_failure 3
	# the status codes containerd maps back: NotFound, AlreadyExists, FailedPrecondition
	run exs info nope
	assert_failure
	assert_output --partial "not found"
	run exs prepare ex-b ex-base
	assert_failure
	assert_output --partial "already exists"
	run exs rm ex-base
	assert_failure
	assert_output --partial "failed precondition"
	run exs rm ex-b ex-v ex-base
	assert_success
	run exs ls
	[[ ${#lines[@]} == 1 ]] || fail "left: $output"
	# containerd removes from the backend in its garbage collection, just after
	wait_for 10 ex_no_dirs || fail "dirs left: $(ls -A "$EXROOT/snapshots")"
}

@test "example snapshotter: an image unpacks into it and a container runs on it" {
	run ctrt images import --snapshotter $EXNAME "$BATS_FILE_TMPDIR/img.tar"
	assert_success
	run ctrt run --snapshotter $EXNAME --rm "$TEST_IMAGE" ex-run1 sh -c 'echo hi >/f; cat /f; ls /bin/busybox'
	assert_success
	assert_output $'hi\n/bin/busybox'
	# the container's active snapshot went with it; the image's committed layer stays
	run exs ls
	assert_output --regexp "Committed"
	refute_output --regexp "Active"
	assert_no_leaks
	[[ -z $(mounts_under "$EXROOT") ]] || fail "mounts left: $(mounts_under "$EXROOT")"
	# drop the image's snapshots from this snapshotter (the image itself is the suite's)
	local k
	for k in $(exs ls | awk 'NR > 1 { print $1 }'); do
		exs rm "$k"
	done
	wait_for 10 ex_no_dirs || fail "dirs left: $(ls -A "$EXROOT/snapshots")"
}

@test "example snapshotter: SIGTERM stops it, its socket is gone, no child left" {
	local pid
	pid=$(ex_pid)
	_alive "$pid"
	[[ -z $(ps_children "$pid") ]]
	kill -TERM "$pid"
	wait_for 10 eval "! _alive $pid"
	[[ ! -e $EXSOCK ]] || fail "socket left"
	grep -q "received Terminated, shutting down" "$BATS_FILE_TMPDIR/example.log"
	# containerd answers for a snapshotter that is gone, with an error
	run exs prepare ex-gone
	assert_failure
	run exs ls
	refute_output --partial ex-gone
}
