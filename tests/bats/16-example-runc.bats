#!/usr/bin/env bats
# The runc crate as a library: examples/runc-driver, built out of tree with pkg-config alone,
# drives a real runc (create, start, state, kill, the init's exit through the process monitor,
# delete) with asynchronous jobs on a ctrbox_loop, under a private runc root.

load helpers
bats_require_minimum_version 1.5.0

CG=ctrbox-runc-driver # the containers' cgroup parent: cgroupsPath /$CG/<id>

setup_file() {
	ex_setup
	local b=$BATS_FILE_TMPDIR/bundle a
	mkdir -p "$b/rootfs/bin"
	cp "$(command -v busybox)" "$b/rootfs/bin/busybox"
	for a in sh sleep true; do
		ln -s busybox "$b/rootfs/bin/$a"
	done
	(cd "$b" && runc spec)
	jq '.process.args = ["sleep", "100"] | .process.terminal = false' "$b/config.json" >"$b/c.json"
	mv "$b/c.json" "$b/config.json"
}

teardown_file() { # runc leaves the parent cgroup; ours go
	rmdir /sys/fs/cgroup/$CG /sys/fs/cgroup/*/$CG 2>/dev/null || true
}

setup() {
	ROOT=$BATS_TEST_TMPDIR/runc-root
	mkdir -p "$ROOT"
}

teardown() {
	local id
	for id in $(runc --root "$ROOT" list -q 2>/dev/null); do
		runc --root "$ROOT" delete --force "$id" >/dev/null 2>&1 || true
	done
	return 0
}

# bundle_for ID: the file's bundle config with the container's own cgroup, the shared rootfs.
bundle_for() {
	local b=$BATS_TEST_TMPDIR/bundle-$1
	mkdir -p "$b"
	jq --arg cg "/$CG/$1" --arg root "$BATS_FILE_TMPDIR/bundle/rootfs" \
		'.linux.cgroupsPath = $cg | .root.path = $root' "$BATS_FILE_TMPDIR/bundle/config.json" >"$b/config.json"
	echo "$b"
}

# no_leaks ID: runc keeps no state, no process runs in the rootfs, the cgroup is gone.
no_leaks() {
	local p root=$BATS_FILE_TMPDIR/bundle/rootfs out
	out=$(find "$ROOT" -mindepth 1 -maxdepth 1 -printf '%f\n')
	[[ -z $out ]] || fail "runc state left: $out"
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/root" 2>/dev/null) == "$root" ]] && fail "process left: ${p#/proc/} $(tr '\0' ' ' <"$p/cmdline")"
	done
	out=$(ls -d /sys/fs/cgroup/$CG/$1 /sys/fs/cgroup/*/$CG/$1 2>/dev/null || true)
	[[ -z $out ]] || fail "cgroups left: $out"
	out=$(pgrep -f "runc-driver" || true)
	[[ -z $out ]] || fail "runc-driver left: $out"
	out=$(ls -d /tmp/runc-driver-* 2>/dev/null || true)
	[[ -z $out ]] || fail "temporary files left: $out"
}

@test "runc-driver: create, start, state, kill, the init's exit through the monitor, delete" {
	local b
	b=$(bundle_for rd1)
	run --separate-stderr timeout 60 "$EXDIR/runc-driver" --root "$ROOT" "$b" rd1
	[[ $status -eq 0 ]] || fail "exit $status: $stderr"
	[[ ${lines[0]} =~ ^state:\ running\ pid\ [1-9][0-9]*$ ]] || fail "got: $output"
	[[ ${lines[1]} == "exit: 137" ]] || fail "got: $output"
	[[ ${#lines[@]} -eq 2 ]] || fail "got: $output"
	[[ -z $stderr ]] || fail "stderr: $stderr"
	no_leaks rd1
}

@test "runc-driver: --runc picks the binary; a runc that is missing is worded as the Go shim's" {
	local b
	b=$(bundle_for rd2)
	run --separate-stderr timeout 60 "$EXDIR/runc-driver" --root "$ROOT" --runc "$(command -v runc)" "$b" rd2
	[[ $status -eq 0 && ${lines[1]} == "exit: 137" ]] || fail "exit $status: $output $stderr"
	run --separate-stderr timeout 60 "$EXDIR/runc-driver" --root "$ROOT" --runc no-such-runc "$b" rd2
	[[ $status -eq 1 ]] || fail "exit $status"
	# the Go shim's runtimeError around go-runc's exec error (no runc ran, so no log to read)
	[[ $stderr == 'runc-driver: OCI runtime create failed: '*': exec: "no-such-runc": executable file not found in $PATH' ]] ||
		fail "stderr: $stderr"
	no_leaks rd2
}

@test "runc-driver: a bad bundle is a clear error, exit 1, nothing left" {
	local b=$BATS_TEST_TMPDIR/bad
	mkdir -p "$b"
	run --separate-stderr timeout 60 "$EXDIR/runc-driver" --root "$ROOT" "$b" rd3
	[[ $status -eq 1 ]] || fail "exit $status"
	[[ -z $output ]] || fail "stdout: $output"
	[[ $stderr == "runc-driver: create: OCI runtime create failed: "*config.json* ]] || fail "stderr: $stderr"
	no_leaks rd3
	# a process runc cannot exec: create fails with runc's own words, and leaves nothing
	b=$(bundle_for rd4)
	jq '.process.args = ["/nonexistent"]' "$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
	run --separate-stderr timeout 60 "$EXDIR/runc-driver" --root "$ROOT" "$b" rd4
	[[ $status -eq 1 ]] || fail "exit $status: $output"
	[[ $stderr == "runc-driver: create: OCI runtime create failed: "*'exec: "/nonexistent"'* ]] || fail "stderr: $stderr"
	no_leaks rd4
}

@test "runc-driver: bad arguments print the usage and exit 2" {
	run --separate-stderr "$EXDIR/runc-driver" onlyone
	[[ $status -eq 2 && $stderr == usage:* ]] || fail "exit $status: $stderr"
	run --separate-stderr "$EXDIR/runc-driver" --bogus x b id
	[[ $status -eq 2 ]]
	run --separate-stderr "$EXDIR/runc-driver" /tmp bad/id
	[[ $status -eq 2 ]]
}
