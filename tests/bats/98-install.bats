#!/usr/bin/env bats
# The node test of issue 18: make deb's packages installed into this machine with dpkg -i, the
# node switched with ctrbox-setup enable, a containerd started as containerd.service starts it
# (systemd's PATH, cwd /, its config importing the package's drop-in) running a container on
# /usr/bin/ctrbox with its rootfs from the snapshotter started as the unit starts it (the unit's
# ExecStart under systemd-socket-activate, on the unit's socket path), disable, the next one on
# the Go shim, and dpkg --purge leaving nothing behind (its prerm switching a node back first).
#
# It installs into the real system, so it runs only where nothing of ctrbox is installed or
# running (it skips, saying why, otherwise), and teardown_file purges what it installed and puts
# the Go shim back whatever happened (tests/bats/node.bash).

load helpers
load node

NOTIFY=${REPO:-.}/build/tools/notify-listen
SOCK=/run/ctrbox-snapshotter.sock
STATE=/var/lib/ctrbox-snapshotter
UNIT=/lib/systemd/system/ctrbox-snapshotter.service
DROPIN=/usr/share/ctrbox/containerd/ctrbox-snapshotter.toml
# every path the ctrbox package may create (purge must leave none of them)
OWNED=(/usr/bin/ctrbox /usr/bin/ctrbox-ctr /usr/sbin/ctrbox-setup /usr/sbin/ctrbox-snapshotter
	/usr/sbin/ctrbox-journal /usr/libexec/ctrbox /usr/share/ctrbox /usr/share/doc/ctrbox
	/usr/share/doc/libctrbox-dev /usr/include/ctrbox /usr/share/bash-completion/completions/ctrbox-ctr
	/lib/systemd/system/ctrbox-snapshotter.service /lib/systemd/system/ctrbox-snapshotter.socket
	/usr/share/man/man1/ctrbox.1.gz /usr/share/man/man1/ctrbox-ctr.1.gz
	/usr/share/man/man8/ctrbox-setup.8.gz /usr/share/man/man8/ctrbox-snapshotter.8.gz
	/usr/share/man/man8/ctrbox-journal.8.gz /usr/share/man/man3/libctrbox.3.gz "$STATE" "$SOCK")

setup_file() {
	[[ $EUID -eq 0 ]] || { file_skip "needs root (euid $EUID)"; return 0; }
	[[ -z ${CTRBOX_SANITIZER:-} ]] || { file_skip "$CTRBOX_SANITIZER build: the packages hold the static build"; return 0; }
	[[ -x $NOTIFY ]] || { file_skip "build/tools/notify-listen not built"; return 0; }
	command -v systemd-socket-activate >/dev/null || { file_skip "no systemd-socket-activate (package systemd)"; return 0; }
	command -v man >/dev/null || { file_skip "no man (package man-db)"; return 0; }
	node_setup || return 0 # holds the node's lock from here: 93 and other runs of this file wait
	local p
	for p in ctrbox libctrbox-dev; do
		! dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'installed' || { file_skip "package $p is installed on this machine: not this test's to purge"; return 0; }
	done
	for p in "${OWNED[@]}"; do
		[[ ! -e $p && ! -L $p ]] || { file_skip "$p exists: not this test's"; return 0; }
	done
	export SETUP_BIN=/usr/sbin/ctrbox-setup INSTALLED=1
	named_ctrbox >"$NODE_DIR/pre-install.list"
	make -C "$REPO" --no-print-directory deb >"$NODE_DIR/make-deb.log" 2>&1 ||
		{ tail -20 "$NODE_DIR/make-deb.log" >&2; false; }
	export DEBS
	DEBS=$(ls "$REPO"/build/deb/ctrbox_*.deb "$REPO"/build/deb/libctrbox-dev_*.deb | tr '\n' ' ')
}

setup() {
	skip_if_file_skipped
}

# named_ctrbox: the files named *ctrbox* where a package installs, sorted.
named_ctrbox() {
	find /usr /lib /etc /var/lib -xdev -name '*ctrbox*' ! -path '/var/lib/dpkg/*' 2>/dev/null | LC_ALL=C sort
}

# sa_snap_stop: the socket-activated snapshotter (SIGTERM, as systemctl stop sends), its
# notify listener, its socket. (Not helpers.bash's snap_stop, which stops a snap_start one.)
sa_snap_stop() {
	bg_stop "$NODE_DIR" snap
	bg_stop "$NODE_DIR" notify
	rm -f "$SOCK" # systemd removes a unit's socket when the .socket unit stops
}

teardown_file() {
	local rc=0
	# (an if, not `[[ ]] || return`: bats reports that return as a failure after setup_file skipped)
	if [[ -n ${NODE_DIR:-} ]]; then
		node_stop node
		sa_snap_stop
		restore_node || rc=1
		if [[ -n ${INSTALLED:-} ]]; then
			dpkg --purge ctrbox libctrbox-dev >/dev/null 2>&1 || rc=1
			rm -rf "$STATE"
		fi
		[[ $NODE_DIR != /tmp/ctrbox-setup.* ]] || rm -rf --one-file-system "$NODE_DIR"
		[[ -z ${SETUP_LOCK:-} ]] || exec {SETUP_LOCK}>&-
	fi
	return $rc
}

# bg NAME CMD...: bg_run in NODE_DIR.
bg() { bg_run "$NODE_DIR" "$@"; }

@test "install: dpkg -i of both packages changes nothing on the node; man, completion, pkg-config work" {
	# shellcheck disable=SC2086
	run dpkg -i $DEBS
	assert_success
	run dpkg-query -W -f '${Package} ${Status}\n' ctrbox libctrbox-dev
	assert_line "ctrbox install ok installed"
	assert_line "libctrbox-dev install ok installed"
	run /usr/bin/ctrbox --list
	assert_success
	assert_line ctrbox-setup
	run ctrbox-ctr --version
	assert_success
	# nothing switched, nothing enabled or started
	assert_node_unchanged
	run ls /etc/systemd/system
	refute_output --partial ctrbox
	[[ ! -e $SOCK && ! -e $STATE ]] || fail "the package made $SOCK or $STATE"
	# the applets' names only in ctrbox's own directory
	[[ $(readlink -f /usr/libexec/ctrbox/containerd-shim-runc-v2) == /usr/bin/ctrbox ]]
	[[ $(PATH=$NODE_PATH type -P containerd-shim-runc-v2) == "$T" ]]
	# man ctrbox-ctr, the completion, the library's .pc
	run man -w ctrbox-ctr
	assert_output /usr/share/man/man1/ctrbox-ctr.1.gz
	run env MANPAGER=cat MANWIDTH=80 man ctrbox-ctr
	assert_success
	assert_output --partial "ctrbox-ctr"
	run man -w 8 ctrbox-setup
	assert_output /usr/share/man/man8/ctrbox-setup.8.gz
	run bash -c 'source /usr/share/bash-completion/completions/ctrbox-ctr && complete -p ctrbox-ctr'
	assert_success
	run pkg-config --modversion ctrbox
	assert_success
	assert_output "$(/usr/bin/ctrbox --version | grep -o '[0-9][0-9.]*' | head -1)"
}

@test "install: enable switches a node's containerd (systemd's PATH, cwd /, the drop-in imported) to /usr/bin/ctrbox on the unit's socket-activated snapshotter; disable: the next container runs on the Go shim" {
	[[ -x $SETUP_BIN ]] || skip "not installed (the first test failed)"
	local ctrbox_ino
	ctrbox_ino=$(stat -c %d:%i /usr/bin/ctrbox)
	# the snapshotter as the units run it: the socket unit's path, the service's ExecStart
	local -a cmd
	read -ra cmd <<<"$(sed -n 's/^ExecStart=//p' "$UNIT")"
	[[ ${cmd[0]} == /usr/sbin/ctrbox-snapshotter ]] || fail "ExecStart: ${cmd[*]}"
	grep -qx "ListenStream=$SOCK" /lib/systemd/system/ctrbox-snapshotter.socket
	bg notify "$NOTIFY" "$NODE_DIR/notify" --count 1 --timeout 120
	wait_for 10 test -S "$NODE_DIR/notify"
	bg snap systemd-socket-activate -E NOTIFY_SOCKET="$NODE_DIR/notify" -l "$SOCK" "${cmd[@]}"
	wait_for 10 test -S "$SOCK"
	# the node's containerd imports the package's drop-in as it is
	NODE_IMPORTS=$DROPIN node_start node "$NODE_PATH" /
	run nctr node plugins ls
	assert_output --regexp "io\\.containerd\\.snapshotter\\.v1 +ctrbox +[^ ]+ +ok"
	run nctr node images import --snapshotter ctrbox "$NODE_DIR/busybox.tar"
	assert_success
	# started by its first client, it said READY=1
	wait_for 20 grep -qx 'READY=1' "$NODE_DIR/notify.log" || fail "no READY=1: $(cat "$NODE_DIR/snap.log")"

	run nsetup node status
	assert_success
	assert_line "  containerd-shim-runc-v2 -> $T"
	nctr node run --null-io --snapshotter ctrbox -d "$TEST_IMAGE" before sleep 1000
	[[ $(node_shim_exe node before) == "$GO_INO" ]] || fail "before: not on the Go shim"

	run nsetup node enable
	assert_success
	[[ $(readlink "$T") == /usr/bin/ctrbox ]] || fail "$T: $(ls -l "$T")"
	run nsetup node status
	assert_line "    that is: ctrbox (/usr/bin/ctrbox)"

	run nctr node run --fifo-dir "$NODE_DIR/fifo" --rm --snapshotter ctrbox "$TEST_IMAGE" once sh -c 'echo on-ctrbox; ls /bin/busybox'
	assert_success
	assert_output $'on-ctrbox\n/bin/busybox'
	nctr node run --null-io --snapshotter ctrbox -d "$TEST_IMAGE" after sleep 1000
	[[ $(node_shim_exe node after) == "$ctrbox_ino" ]] || fail "after: not on /usr/bin/ctrbox"
	[[ $(node_shim_exe node before) == "$GO_INO" ]] || fail "before: lost its Go shim"
	# its rootfs is the socket-activated snapshotter's
	run nctr node snapshots --snapshotter ctrbox ls
	assert_line --regexp '^after +'
	[[ -f $STATE/metadata.db ]] || fail "no store in $STATE"

	run nsetup node disable
	assert_success
	assert_node_unchanged
	nctr node run --null-io --snapshotter ctrbox -d "$TEST_IMAGE" next sleep 1000
	[[ $(node_shim_exe node next) == "$GO_INO" ]] || fail "next: not on the Go shim"
	[[ $(node_shim_exe node after) == "$ctrbox_ino" ]] || fail "after: lost its ctrbox shim"
	node_stop node
	sa_snap_stop
}

@test "install: dpkg --purge of a switched node switches it back (prerm) and leaves nothing behind" {
	[[ -x $SETUP_BIN ]] || skip "not installed (the first test failed)"
	# switched again, with no containerd running (containerd.service's defaults)
	run unshare --pid --fork --mount-proc "$SETUP_BIN" enable
	assert_success
	[[ $(readlink "$T") == /usr/bin/ctrbox ]] || fail "$T: $(ls -l "$T")"
	# the snapshotter's state as the unit leaves it (StateDirectory=, the service stopped)
	[[ -d $STATE ]] || mkdir -m 0700 "$STATE"
	run dpkg --purge ctrbox libctrbox-dev
	assert_success
	assert_node_unchanged
	[[ $(stat -c %d:%i "$T") == "$GO_INO" ]] || fail "$T is not the Go shim's inode"
	run dpkg-query -W -f '${Status}' ctrbox
	refute_output --partial installed
	local p left=()
	for p in "${OWNED[@]}"; do
		[[ ! -e $p && ! -L $p ]] || left+=("$p")
	done
	((${#left[@]} == 0)) || fail "left after purge: ${left[*]}"
	[[ -z $(dpkg-divert --list | grep -w ctrbox) ]] || fail "diversions left: $(dpkg-divert --list | grep -w ctrbox)"
	# and no other file named like it that was not there before the install
	run diff "$NODE_DIR/pre-install.list" <(named_ctrbox)
	assert_success
}
