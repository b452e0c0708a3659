#!/usr/bin/env bats
# The multicall binary: applet table, argv[0] dispatch, --help/--version, symlinks, install.

load helpers
bats_require_minimum_version 1.5.0

@test "ctrbox is one statically linked binary" {
	[[ -z ${CTRBOX_SANITIZER:-} ]] || skip "$CTRBOX_SANITIZER build: sanitizers cannot link -static"
	run file "$CTRBOX"
	assert_success
	assert_output --partial "statically linked"
}

@test "ctrbox stripped, with every applet, is at most 2,048 kB (issue 17's goal)" {
	[[ -z ${CTRBOX_SANITIZER:-} ]] || skip "$CTRBOX_SANITIZER build: not the shipped binary"
	local s="$BATS_TEST_TMPDIR/ctrbox.stripped"
	strip -o "$s" "$CTRBOX"
	local kb=$(($(stat -c %s "$s") / 1024))
	((kb <= 2048)) || fail "stripped: $kb kB; see make size for what grew"
}

@test "ctrbox alone lists the applets; --list prints one name per line" {
	run "$CTRBOX"
	assert_success
	assert_output --partial "containerd-shim-skeleton-v1"
	assert_output --partial "shim-proto-connect"
	run "$CTRBOX" --list
	assert_success
	assert_line "containerd-shim-runc-v2"
	assert_line "containerd-shim-skeleton-v1"
	assert_line "shim-proto-connect"
	[[ ! $output =~ " " ]]
}

@test "symlinks.sh made one symlink per listed applet, pointing at ctrbox" {
	local name n=0
	for name in $("$CTRBOX" --list); do
		[[ -L $SHIMDIR/$name ]]
		[[ $(readlink -f "$SHIMDIR/$name") == $(readlink -f "$CTRBOX") ]]
		n=$((n + 1))
	done
	((n >= 2))
}

@test "every applet answers --help and --version, by symlink and as ctrbox APPLET" {
	local name
	for name in $("$CTRBOX" --list); do
		run "$SHIMDIR/$name" --help
		assert_success
		assert_line --index 0 --partial "usage: $name"
		run "$CTRBOX" "$name" --version
		assert_success
		assert_output "$name (ctrbox) $("$CTRBOX" --version | cut -d' ' -f2)"
	done
}

@test "an unknown applet name is a clear error, by argument and by symlink" {
	run -127 "$CTRBOX" no-such-applet
	assert_failure 127
	assert_output --partial "unknown applet 'no-such-applet'"
	ln -sf "$CTRBOX" "$BATS_TEST_TMPDIR/containerd-shim-bogus-v9"
	run -127 "$BATS_TEST_TMPDIR/containerd-shim-bogus-v9" start
	assert_failure 127
	assert_output --partial "unknown applet 'containerd-shim-bogus-v9'"
}

@test "shim flags are parsed like Go's flag package, with Go's errors" {
	run "$SHIMDIR/containerd-shim-skeleton-v1" -id x start
	assert_failure 1
	assert_output "io.containerd.skeleton.v1: shim namespace cannot be empty"
	run "$SHIMDIR/containerd-shim-skeleton-v1" -namespace n -bogus start
	assert_failure 2
	assert_line --index 0 "flag provided but not defined: -bogus"
	run "$SHIMDIR/containerd-shim-skeleton-v1" -namespace
	assert_failure 2
	assert_line --index 0 "flag needs an argument: -namespace"
	run "$SHIMDIR/containerd-shim-skeleton-v1" -namespace n frobnicate
	assert_failure 1
	assert_output --partial "unknown action \"frobnicate\""
	run "$SHIMDIR/containerd-shim-skeleton-v1" -v
	assert_success
	assert_line --index 1 --partial "Version:"
}

@test "shim-proto-connect rejects bad arguments and unreachable sockets" {
	run "$SHIMDIR/shim-proto-connect"
	assert_failure 2
	assert_output --partial "usage: shim-proto-connect"
	run "$SHIMDIR/shim-proto-connect" "unix://$BATS_TEST_TMPDIR/nothing.sock"
	assert_failure 1
	assert_output --partial "No such file or directory"
}

@test "make install honours PREFIX and DESTDIR and makes relative applet links" {
	local dest=$BATS_TEST_TMPDIR/dest
	run make -C "$REPO" --no-print-directory install PREFIX=/usr DESTDIR="$dest"
	assert_success
	[[ -x $dest/usr/bin/ctrbox ]]
	[[ $(readlink "$dest/usr/bin/shim-proto-connect") == ctrbox ]]
	run "$dest/usr/bin/containerd-shim-skeleton-v1" --version
	assert_success
}
