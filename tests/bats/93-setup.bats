#!/usr/bin/env bats
# ctrbox-setup on this machine's real /usr/bin/containerd-shim-runc-v2 (the Go shim of Debian's
# containerd package): enable diverts it and links ctrbox in its place, disable puts it back.
#
# The node containerd is started the way containerd.service starts it (PATH systemd's default,
# cwd /, not the suite's $SHIMDIR first), alone in a PID namespace of its own with its own /proc:
# other containerds run on this machine (the suite's, other people's), and ctrbox-setup, run in
# that namespace, must see only the node's one. The suite's containerd is looked at from the host.
#
# Whatever happens, teardown puts the Go shim back and removes the diversions (checked against the
# sha256 and `dpkg-divert --listpackage` recorded before). Tests that divert take
# an flock of /usr/bin (node.bash), so two runs of this file do not switch the node at once.

load helpers
load node

setup_file() {
	[[ $EUID -eq 0 ]] || { file_skip "needs root (euid $EUID)"; return 0; }
	[[ -x $CTRBOX ]] || { file_skip "build/ctrbox not built (run make)"; return 0; }
	node_setup || return 0
	export SETUP_BIN
	# ctrbox-setup as a node has it: a link named like the applet
	mkdir -p "$NODE_DIR/sbin"
	ln -s "$(realpath "$CTRBOX")" "$NODE_DIR/sbin/ctrbox-setup"
	SETUP_BIN=$NODE_DIR/sbin/ctrbox-setup
}

setup() {
	skip_if_file_skipped
}

teardown() {
	restore_node
}

teardown_file() {
	local rc=0
	restore_node || rc=1
	node_stop node
	node_stop scratch2
	node_stop scratch
	[[ -n ${NODE_DIR:-} && $NODE_DIR == /tmp/ctrbox-setup.* ]] && rm -rf --one-file-system "$NODE_DIR"
	[[ -z ${SETUP_LOCK:-} ]] || exec {SETUP_LOCK}>&-
	return $rc
}

@test "ctrbox-setup: an applet; --help; bad flags and commands exit 2 with the usage" {
	run "$CTRBOX" --list
	assert_success
	assert_line ctrbox-setup
	run "$SETUP_BIN" --help
	assert_success
	assert_output --partial "usage: ctrbox-setup enable | disable | status"
	local -a bad
	for bad in "--bogus status" "" "frob" "status extra" "enable --shim" "--dry-run"; do
		# shellcheck disable=SC2086
		run "$SETUP_BIN" $bad
		[[ $status -eq 2 ]] || fail "ctrbox-setup $bad: exit $status, not 2: $output"
		assert_output --partial "usage: ctrbox-setup"
	done
	assert_node_unchanged
}

@test "ctrbox-setup status, no containerd: systemd's PATH and cwd /, the package's Go shim" {
	run unshare --pid --fork --mount-proc "$SETUP_BIN" status
	assert_success
	assert_line --partial "no containerd running"
	assert_line "  cwd:       /"
	assert_line "  PATH:      $NODE_PATH"
	assert_line "  containerd-shim-runc-v2 -> $T"
	assert_line "    because: the first in PATH (entry /usr/bin)"
	assert_line "    diversion: none"
	assert_line "    package:   containerd"
}

@test "ctrbox-setup status names the suite's containerd, its cwd and PATH; enable refuses it" {
	local pid
	pid=$(ctrd_pid) || fail "the suite's containerd is not running"
	[[ -e $SHIMDIR/containerd-shim-runc-v2 ]] || skip "symlinks.sh made no $SHIMDIR links"
	run "$SETUP_BIN" status
	assert_success
	# its block: from its line to the next containerd's
	local block
	block=$(awk -v p="containerd pid $pid " 'index($0, p) == 1 { on = 1; print; next }
		/^(containerd pid|no containerd)/ { on = 0 } on' <<<"$output")
	[[ -n $block ]] || fail "status does not name containerd pid $pid: $output"
	grep -qxF "  cwd:       $CTRBOX_TEST_DIR/cwd" <<<"$block" || fail "no cwd line: $block"
	grep -qF "  PATH:      $SHIMDIR:" <<<"$block" || fail "no PATH line: $block"
	grep -qxF "  containerd-shim-runc-v2 -> $SHIMDIR/containerd-shim-runc-v2" <<<"$block" || fail "not resolved to SHIMDIR: $block"
	grep -qxF "    because: the first in PATH (entry $SHIMDIR)" <<<"$block" || fail "no reason: $block"
	grep -qF "    that is: ctrbox ($(realpath "$CTRBOX"))" <<<"$block" || fail "not ctrbox: $block"
	# that containerd execs a file no package owns (and others may resolve other files): refused
	run "$SETUP_BIN" enable
	assert_failure 1
	[[ $output == *"belongs to no package"* || $output == *"different files"* ]] || fail "$output"
	assert_node_unchanged
}

@test "ctrbox-setup enable: a new container runs on ctrbox, an older one keeps its Go shim; disable: the next runs on the Go shim" {
	local ctrbox_ino
	ctrbox_ino=$(stat -L -c %d:%i "$CTRBOX")
	node_start node "$NODE_PATH" /
	nctr node images import "$NODE_DIR/busybox.tar" >/dev/null

	run nsetup node status
	assert_success
	assert_line "containerd pid 1 ($(realpath "$(command -v containerd)"))"
	assert_line "  cwd:       /"
	assert_line "  PATH:      $NODE_PATH"
	assert_line "  containerd-shim-runc-v2 -> $T"
	assert_line "    package:   containerd"

	nctr node run --null-io -d "$TEST_IMAGE" before sleep 1000
	[[ $(node_shim_exe node before) == "$GO_INO" ]] || fail "before: not on the Go shim"

	run nsetup node enable --dry-run
	assert_success
	assert_line --partial "would run: /usr/bin/dpkg-divert --package ctrbox --no-rename --divert $T.distrib --add $T"
	assert_node_unchanged

	run nsetup node enable
	assert_success
	assert_line --partial "enabled: new containers run $(realpath "$CTRBOX")"
	[[ $(dpkg-divert --listpackage "$T") == ctrbox ]] || fail "no ctrbox diversion: $(dpkg-divert --list "$T")"
	[[ -L $T && $(stat -L -c %d:%i "$T") == "$ctrbox_ino" ]] || fail "$T is not a link to ctrbox: $(ls -l "$T")"
	[[ $(sha256sum <"$T.distrib" | cut -d' ' -f1) == "$GO_SHA" ]] || fail "$T.distrib is not the Go shim"
	run nsetup node enable
	assert_success
	assert_line --partial "already enabled"
	run nsetup node status
	assert_line "    that is: ctrbox ($(realpath "$CTRBOX"))"
	assert_line "    diversion: by ctrbox"

	nctr node run --null-io -d "$TEST_IMAGE" after sleep 1000
	[[ $(node_shim_exe node after) == "$ctrbox_ino" ]] || fail "after: not on ctrbox"
	[[ $(node_shim_exe node before) == "$GO_INO" ]] || fail "before: lost its Go shim"
	run nctr node task exec --exec-id e1 after /bin/echo hello-from-ctrbox
	assert_success
	assert_output hello-from-ctrbox

	run nsetup node disable --dry-run
	assert_success
	assert_line --partial "would rename $T.distrib over $T"
	[[ -L $T && $(dpkg-divert --listpackage "$T") == ctrbox ]] || fail "--dry-run changed $T"

	run nsetup node disable
	assert_success
	assert_line --partial "disabled"
	assert_node_unchanged
	[[ $(stat -c %d:%i "$T") == "$GO_INO" ]] || fail "$T is not the Go shim's inode again"
	run nsetup node disable
	assert_success
	assert_line --partial "not enabled"

	nctr node run --null-io -d "$TEST_IMAGE" next sleep 1000
	[[ $(node_shim_exe node next) == "$GO_INO" ]] || fail "next: not on the Go shim"
	[[ $(node_shim_exe node after) == "$ctrbox_ino" ]] || fail "after: lost its ctrbox shim"
	node_stop node
}

@test "ctrbox-setup refuses, exit 1, nothing changed: containerds on different files, a cwd copy, a PATH file no package owns, a foreign diversion, a CRI runtime_path, a --shim not ctrbox" {
	local s=$NODE_DIR/scratch/files
	mkdir -p "$s/bin" "$s/cwd"
	node_start scratch "$s/bin:$NODE_PATH" "$s/cwd"
	local fake='#!/bin/sh
exit 1'
	# a second containerd in that namespace, with a PATH that finds another file first
	mkdir -p "$s/bin2"
	printf '%s\n' "$fake" >"$s/bin2/containerd-shim-runc-v2"
	chmod 0755 "$s/bin2/containerd-shim-runc-v2"
	node_start scratch2 "$s/bin2:$NODE_PATH" / scratch
	run nsetup scratch status
	assert_success
	assert_line "  containerd-shim-runc-v2 -> $T"
	assert_line "  containerd-shim-runc-v2 -> $s/bin2/containerd-shim-runc-v2"
	assert_line "the containerds resolve containerd-shim-runc-v2 to 2 different files: enable refuses"
	run nsetup scratch enable
	assert_failure 1
	assert_output --partial "containerds resolve containerd-shim-runc-v2 to different files: $T and $s/bin2/containerd-shim-runc-v2"
	assert_node_unchanged
	node_stop scratch2
	run nsetup scratch status
	refute_line --partial "different files"

	# a copy in containerd's cwd wins over PATH
	printf '%s\n' "$fake" >"$s/cwd/containerd-shim-runc-v2"
	run nsetup scratch status
	assert_success
	assert_line "  containerd-shim-runc-v2 -> $s/cwd/containerd-shim-runc-v2"
	assert_line --partial "    because: a copy in containerd's working directory $s/cwd"
	run nsetup scratch enable
	assert_failure 1
	assert_output --partial "from its working directory"
	assert_node_unchanged
	rm "$s/cwd/containerd-shim-runc-v2"

	# an executable no package owns, in a PATH dir before /usr/bin
	printf '%s\n' "$fake" >"$s/bin/containerd-shim-runc-v2"
	chmod 0755 "$s/bin/containerd-shim-runc-v2"
	local fsha
	fsha=$(sha256sum <"$s/bin/containerd-shim-runc-v2")
	run nsetup scratch status
	assert_line "  containerd-shim-runc-v2 -> $s/bin/containerd-shim-runc-v2"
	assert_line "    package:   none (no package owns it)"
	run nsetup scratch enable
	assert_failure 1
	assert_output --partial "$s/bin/containerd-shim-runc-v2 belongs to no package"
	assert_node_unchanged

	# the same file diverted by another package
	dpkg-divert --package somethingelse --no-rename --divert "$s/bin/containerd-shim-runc-v2.else" \
		--add "$s/bin/containerd-shim-runc-v2" >/dev/null
	run nsetup scratch enable
	assert_failure 1
	assert_output --partial "diverted by somethingelse"
	[[ $(dpkg-divert --listpackage "$s/bin/containerd-shim-runc-v2") == somethingelse ]] || fail "foreign diversion touched"
	[[ $(sha256sum <"$s/bin/containerd-shim-runc-v2") == "$fsha" && ! -e $s/bin/containerd-shim-runc-v2.else ]] ||
		fail "the foreign file was touched"
	run nsetup scratch disable
	assert_success
	assert_output --partial "not enabled"
	dpkg-divert --package somethingelse --no-rename --remove "$s/bin/containerd-shim-runc-v2" >/dev/null
	rm "$s/bin/containerd-shim-runc-v2"
	assert_node_unchanged

	# a CRI runc runtime with its own runtime_path: switching $T would not switch it
	cat >>"$NODE_DIR/scratch/config.toml" <<EOF

[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.fast]
  runtime_type = "io.containerd.runc.v2"
  runtime_path = "$s/opt/containerd-shim-runc-v2"
EOF
	run nsetup scratch status
	assert_success
	assert_line --partial "  runtime fast ($NODE_DIR/scratch/config.toml): runtime_type io.containerd.runc.v2, runtime_path $s/opt/containerd-shim-runc-v2"
	run nsetup scratch enable
	assert_failure 1
	assert_output --partial "runtime fast in $NODE_DIR/scratch/config.toml runs $s/opt/containerd-shim-runc-v2, not $T"
	assert_node_unchanged

	# with the file gone, the scratch node resolves $T too: the dry run goes through, changes nothing
	sed -i '/runtimes.fast/,$d' "$NODE_DIR/scratch/config.toml"
	run nsetup scratch enable --dry-run
	assert_success
	assert_line --partial "would run: /usr/bin/dpkg-divert"
	assert_line --partial "-> $(realpath "$CTRBOX"), renamed over $T"
	# --shim: an absolute path of a binary that answers --version as ctrbox does
	ln -s "$(realpath "$CTRBOX")" "$s/other-ctrbox"
	run nsetup scratch enable --dry-run --shim "$s/other-ctrbox"
	assert_success
	assert_line --partial "-> $s/other-ctrbox, renamed over $T"
	run nsetup scratch enable --shim /bin/true
	assert_failure 1
	assert_output --partial "--shim /bin/true: /usr/bin/true does not answer --version as ctrbox does"
	run nsetup scratch enable --shim build/ctrbox
	assert_failure 1
	assert_output --partial "give an absolute path"
	run nsetup scratch enable --shim "$s/none"
	assert_failure 1
	assert_output --partial "No such file or directory"
	assert_node_unchanged
	node_stop scratch
}

@test "ctrbox-setup: an enable that stopped half way is completed by enable, undone by disable" {
	# no containerd in a PID namespace of its own: the node's containerd.service defaults ($T)
	local -a alone=(unshare --pid --fork --mount-proc "$SETUP_BIN")
	# the state after enable's first two steps (diverted, the Go shim hard-linked to .distrib)
	dpkg-divert --package ctrbox --no-rename --divert "$T.distrib" --add "$T" >/dev/null
	ln "$T" "$T.distrib"
	run "${alone[@]}" disable
	assert_success
	assert_line "unlink $T.distrib (the same file as $T)"
	assert_node_unchanged
	[[ $(stat -c %d:%i "$T") == "$GO_INO" ]] || fail "$T is not the Go shim's inode"

	dpkg-divert --package ctrbox --no-rename --divert "$T.distrib" --add "$T" >/dev/null
	ln "$T" "$T.distrib"
	run "${alone[@]}" enable
	assert_success
	refute_line --partial "dpkg-divert" # already diverted
	refute_line --partial "hard-link"   # already linked
	assert_line --partial "renamed over $T"
	[[ -L $T && $(readlink "$T") == "$(realpath "$CTRBOX")" ]] || fail "$T: $(ls -l "$T")"
	[[ $(stat -c %d:%i "$T.distrib") == "$GO_INO" ]] || fail "$T.distrib is not the Go shim"
	run "${alone[@]}" disable
	assert_success
	assert_node_unchanged
	[[ $(stat -c %d:%i "$T") == "$GO_INO" ]] || fail "$T is not the Go shim's inode"
}

@test "ctrbox-setup refuses a node without dpkg (exit 1, nothing changed); status says so" {
	local f
	for f in dpkg-divert dpkg-query; do
		[[ ! -e /usr/sbin/$f ]] || skip "/usr/sbin/$f exists: hiding /usr/bin/$f would not hide dpkg"
	done
	# dpkg's tools hidden (/dev/null bound over them, no x bit) in a mount namespace of its own,
	# with no containerd in its PID namespace
	local hide='mount --bind /dev/null /usr/bin/dpkg-divert && mount --bind /dev/null /usr/bin/dpkg-query && exec "$@"'
	run unshare --mount --propagation private --pid --fork --mount-proc sh -c "$hide" sh "$SETUP_BIN" enable
	assert_failure 1
	assert_output --partial "no dpkg here (dpkg-divert and dpkg-query not found in /usr/sbin:/usr/bin:/sbin:/bin)"
	run unshare --mount --propagation private --pid --fork --mount-proc sh -c "$hide" sh "$SETUP_BIN" disable
	assert_failure 1
	assert_output --partial "no dpkg here"
	run unshare --mount --propagation private --pid --fork --mount-proc sh -c "$hide" sh "$SETUP_BIN" status
	assert_success
	assert_line "  containerd-shim-runc-v2 -> $T"
	assert_line --partial "dpkg-divert or dpkg-query not found"
	assert_node_unchanged
	[[ -x /usr/bin/dpkg-divert && ! -c /usr/bin/dpkg-divert ]] || fail "dpkg-divert hidden outside the namespace"
}
