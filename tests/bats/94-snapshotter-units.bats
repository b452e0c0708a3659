#!/usr/bin/env bats
# ctrbox-snapshotter under systemd, as far as it can be tested without systemd as PID 1: the
# units of packaging/systemd pass `systemd-analyze verify` (and a broken copy does not), the
# socket-activation path through Debian's systemd-socket-activate with sd_notify received by
# tests/tools/notify-listen, and the containerd drop-in of packaging/containerd imported by a
# private containerd of the suite's version (run the file with CTRBOX_CONTAINERD=2.1 for 2.x).

load helpers

PROBE=${REPO:-.}/build/tools/grpc-probe
NOTIFY=${REPO:-.}/build/tools/notify-listen
UNITS=${REPO:-.}/packaging/systemd
DROPIN=${REPO:-.}/packaging/containerd/ctrbox-snapshotter.toml
# Everything of a test under the suite's dir (short socket paths; teardown_suite removes it).
U=${CTRBOX_TEST_DIR:-/nonexistent}/units

setup() {
	require_root
	require_ctrbox ctrbox-snapshotter
	[[ -x $PROBE && -x $NOTIFY ]] || skip "build/tools/grpc-probe or notify-listen not built"
	command -v systemd-socket-activate >/dev/null || skip "no systemd-socket-activate (package systemd)"
	command -v systemd-analyze >/dev/null || skip "no systemd-analyze (package systemd)"
	[[ $U == /tmp/ctrbox-bats.*/units ]] || fail "U=$U outside the suite's dir"
	rm -rf "$U"
	mkdir -p "$U"/{root,state,tmp,cwd}
	chmod 0700 "$U"
	SNAP=$SHIMDIR/ctrbox-snapshotter
}

# Whatever a failing test left: its containerd, its socket-activated snapshotter, its listener
# (each found by its pid file in $U, all started by this file).
teardown() {
	local f
	for f in "$U"/*.pid; do
		[[ -f $f ]] || continue
		f=${f##*/}
		bg_stop "$U" "${f%.pid}"
	done
	local mp
	for mp in $(mounts_under "$U"); do
		umount -l "$mp" || true
	done
	rm -rf "$U"
}

# bg NAME CMD...: bg_run in U.
bg() { bg_run "$U" "$@"; }

# stop NAME: SIGTERM the process of $U/NAME.pid and wait until it is gone.
stop() {
	local pid
	pid=$(cat "$U/$1.pid") || return 1
	kill -TERM "$pid" 2>/dev/null || true
	wait_for 10 eval "! _alive $pid" || return 1
	rm -f "$U/$1.pid"
}

# units_copy DIR: the two units in DIR, ExecStart's binary replaced by the built one (verify
# checks that it exists and is executable; nothing is installed).
units_copy() {
	mkdir -p "$1"
	cp "$UNITS/ctrbox-snapshotter.socket" "$UNITS/ctrbox-snapshotter.service" "$1/"
	sed -i "s|^ExecStart=/usr/sbin/ctrbox-snapshotter |ExecStart=$SNAP |" "$1/ctrbox-snapshotter.service"
	grep -q "^ExecStart=$SNAP --root /var/lib/ctrbox-snapshotter\$" "$1/ctrbox-snapshotter.service"
}

# verify_units DIR: systemd-analyze verify on DIR's units; it fails on any message, since
# verify only warns (exit 0) about unknown keys and values it cannot parse. --man=no: the man
# page is not installed here.
verify_units() {
	local out rc=0
	out=$(systemd-analyze verify --man=no "$1/ctrbox-snapshotter.socket" "$1/ctrbox-snapshotter.service" 2>&1) || rc=$?
	[[ -n $out ]] && echo "$out"
	((rc == 0)) && [[ -z $out ]]
}

# ctrd_units_config DROPIN: the config (version $CONFIG_VERSION, default 2) of a private containerd (own root, state, sockets; the plugins the
# suite's config disables off, NRI too) that imports DROPIN. Its GC never runs on its own
# during a test: `ctr snapshots prepare` sets no gc.root label, and the snapshots it makes
# are referenced by nothing.
ctrd_units_config() {
	cat <<CONF
version = ${CONFIG_VERSION:-2}
root = "$U/root"
state = "$U/state"
imports = ["$1"]
$(ctrd_disabled_plugins +io.containerd.nri.v1.nri)

[grpc]
  address = "$U/c.sock"

[ttrpc]
  address = "$U/c.sock.ttrpc"

[plugins."io.containerd.gc.v1.scheduler"]
  startup_delay = "24h"
  mutation_threshold = 1000000
CONF
}

# ut ARGS...: ctr against the private containerd.
ut() {
	timeout --foreground -k 5 "$CTRT_TIMEOUT" ctr -a "$U/c.sock" -n units "$@"
}

@test "units: systemd-analyze verify passes on both units, without a warning" {
	units_copy "$U/ok"
	run verify_units "$U/ok"
	assert_success
	assert_output ''
	# what the design asks of them
	run grep -x -e 'ListenStream=/run/ctrbox-snapshotter.sock' -e 'SocketMode=0600' "$UNITS/ctrbox-snapshotter.socket"
	assert_success
	assert_equal "${#lines[@]}" 2
	run grep -x -e 'Type=notify' -e 'StateDirectory=ctrbox-snapshotter' -e 'StateDirectoryMode=0700' \
		-e 'ExecStart=/usr/sbin/ctrbox-snapshotter --root /var/lib/ctrbox-snapshotter' \
		-e 'Requires=ctrbox-snapshotter.socket' "$UNITS/ctrbox-snapshotter.service"
	assert_success
	assert_equal "${#lines[@]}" 5
	# the drop-in dials the socket the unit listens on
	run grep -x '    address = "/run/ctrbox-snapshotter.sock"' "$DROPIN"
	assert_success
	# nothing that would hide the state directory or forbid what the snapshotter does
	run grep -E '^(PrivateDevices|RestrictSUIDSGID|PrivateUsers|DynamicUser|User|ProtectClock|PrivateMounts)=' \
		"$UNITS/ctrbox-snapshotter.service"
	assert_failure
}

@test "units: verify fails on broken copies (ExecStart missing, no Listen, a misspelled option, a bad value)" {
	units_copy "$U/a"
	sed -i "s|^ExecStart=$SNAP |ExecStart=$U/no-such-binary |" "$U/a/ctrbox-snapshotter.service"
	run verify_units "$U/a"
	assert_failure
	assert_output --partial "no-such-binary"

	units_copy "$U/b"
	sed -i '/^ListenStream=/d' "$U/b/ctrbox-snapshotter.socket"
	run verify_units "$U/b"
	assert_failure
	assert_output --partial "no Listen setting"

	units_copy "$U/c"
	sed -i 's/^ProtectSystem=strict$/ProtectSytem=strict/' "$U/c/ctrbox-snapshotter.service"
	run verify_units "$U/c"
	assert_failure
	assert_output --partial "Unknown key 'ProtectSytem'"

	units_copy "$U/d"
	sed -i 's/^SocketMode=0600$/SocketMode=0999/' "$U/d/ctrbox-snapshotter.socket"
	run verify_units "$U/d"
	assert_failure
	assert_output --partial "0999"
}

@test "units: socket-activated as the unit runs it: READY=1, a containerd importing the drop-in prepares/commits/lists through it, STOPPING=1 on SIGTERM, the socket file left" {
	# The drop-in as installed, but for the socket's path.
	sed "s|\"/run/ctrbox-snapshotter.sock\"|\"$U/snap.sock\"|" "$DROPIN" >"$U/dropin.toml"
	run grep -c "$U/snap.sock" "$U/dropin.toml"
	assert_output 1
	ctrd_units_config "$U/dropin.toml" >"$U/config.toml"
	# ExecStart of the unit, with the state directory in the test's dir.
	local -a cmd
	read -ra cmd <<<"$(sed -n 's/^ExecStart=//p' "$UNITS/ctrbox-snapshotter.service")"
	[[ ${cmd[0]} == /usr/sbin/ctrbox-snapshotter && ${cmd[*]:1} == "--root /var/lib/ctrbox-snapshotter" ]] ||
		fail "ExecStart changed: ${cmd[*]}"
	cmd=("$SNAP" --root "$U/snapstate")

	bg notify "$NOTIFY" "$U/notify" --count 2 --timeout 120
	wait_for 10 test -S "$U/notify"
	bg snap systemd-socket-activate -E NOTIFY_SOCKET="$U/notify" -l "$U/snap.sock" "${cmd[@]}"
	wait_for 10 test -S "$U/snap.sock"
	local pid
	pid=$(cat "$U/snap.pid")

	bg containerd env -u XDG_RUNTIME_DIR TMPDIR="$U/tmp" setsid containerd --config "$U/config.toml"
	wait_for 20 ctr -a "$U/c.sock" --timeout 2s version || { tail -30 "$U/containerd.log"; false; }
	ctr -a "$U/c.sock" --timeout 2s version # the private one answers on our socket

	run ut plugins ls
	assert_success
	assert_output --regexp "io\\.containerd\\.snapshotter\\.v1 +ctrbox +[^ ]+ +ok"
	run ut snapshots --snapshotter ctrbox prepare k1
	assert_success
	run ut snapshots --snapshotter ctrbox commit c1 k1
	assert_success
	run ut snapshots --snapshotter ctrbox ls
	assert_success
	assert_line --regexp '^c1 +Committed'
	# the snapshot is in the socket-activated snapshotter's store, under containerd's namespace
	run "$PROBE" "$U/snap.sock" list
	assert_success
	assert_output --regexp '^units/[0-9]+/c1\|\|committed\|'
	[[ -f $U/snapstate/metadata.db || -n $(ls -A "$U/snapstate") ]]

	# READY=1 came, from the snapshotter that systemd-socket-activate became (same pid)
	wait_for 10 grep -qx 'READY=1' "$U/notify.log"
	run tr '\0' ' ' <"/proc/$pid/cmdline"
	assert_output "${cmd[*]} "
	run cat "$U/snap.log"
	assert_output --partial "serving snapshots on $U/snap.sock (a listening socket passed in)"

	run ut snapshots --snapshotter ctrbox rm c1
	assert_success
	stop containerd
	stop snap
	# STOPPING=1 after READY=1, nothing else; notify-listen exits 0 after its two datagrams
	wait_for 10 eval "! _alive $(cat "$U/notify.pid")"
	run cat "$U/notify.log"
	assert_output $'READY=1\nSTOPPING=1'
	rm -f "$U/notify.pid"
	# the socket is systemd's (here systemd-socket-activate's): still there
	[[ -S $U/snap.sock ]]
}

# sa_bad NAME SOCKET-ACTIVATE-ARGS...: runs systemd-socket-activate ARGS with a client that
# connects to $U/NAME-a.sock (it spawns the snapshotter at the first connection; the client
# tries again while the file is there but not listening yet, 10 s at most); leaves the
# snapshotter's exit code and output in $status and $output.
sa_bad() {
	local name=$1
	shift
	bg "$name-client" bash -c 'for ((i = 0; i < 200; i++)); do
		[[ -S $1 ]] && [[ $("$2" "$1" list 2>&1) != "error: cannot connect"* ]] && exit
		sleep 0.05
	done' _ "$U/$name-a.sock" "$PROBE"
	run timeout 30 systemd-socket-activate "$@"
}

@test "units: bad socket activation: two sockets, a datagram socket, fd 3 not a socket, a malformed LISTEN_PID give clear errors" {
	sa_bad two -l "$U/two-a.sock" -l "$U/two-b.sock" "$SNAP" --root "$U/r"
	assert_failure 2
	assert_output --partial "socket activation passed 2 fds; it serves exactly one"

	# a datagram socket: systemd-socket-activate spawns at the first datagram (systemd-notify sends one)
	bg dg-client bash -c 'until [[ -S $1 ]]; do sleep 0.05; done; NOTIFY_SOCKET=$1 exec systemd-notify --ready' _ "$U/dg.sock"
	run timeout 30 systemd-socket-activate -d -l "$U/dg.sock" "$SNAP" --root "$U/r"
	assert_failure 2
	assert_output --partial "socket activation: fd 3 is not a stream socket"

	run bash -c 'export LISTEN_PID=$$ LISTEN_FDS=1; exec "$0" --root "$1" 3</dev/null' "$SNAP" "$U/r"
	assert_failure 2
	assert_output --partial "socket activation: fd 3 is not a socket"

	run bash -c 'export LISTEN_PID=x$$ LISTEN_FDS=1; exec "$0" --root "$1" 3</dev/null' "$SNAP" "$U/r"
	assert_failure 2
	assert_output --partial "bad LISTEN_PID/LISTEN_FDS"

	run bash -c 'export LISTEN_PID=$$ LISTEN_FDS=one; exec "$0" --root "$1" 3</dev/null' "$SNAP" "$U/r"
	assert_failure 2
	assert_output --partial "bad LISTEN_PID/LISTEN_FDS"
	# nothing was served, so nothing was made under --root but what pick_backend probes
	[[ ! -e $U/r/metadata.db ]]
}

@test "units: LISTEN_PID of another process is ignored (sd_listen_fds' rule): --address is needed and served" {
	# fd 3 is a socket systemd-socket-activate made for someone else: not ours, left alone
	run bash -c 'export LISTEN_PID=1 LISTEN_FDS=1; exec "$0" --root "$1" 3</dev/null' "$SNAP" "$U/r"
	assert_failure 2
	assert_output --partial "--root and --address are required (or a socket from systemd: LISTEN_FDS)"

	bg other bash -c 'export LISTEN_PID=1 LISTEN_FDS=1; exec "$0" --root "$1" --address "$2" 3</dev/null' \
		"$SNAP" "$U/r" "$U/own.sock"
	wait_for 10 "$PROBE" "$U/own.sock" list 'name==__ready__'
	run cat "$U/other.log"
	assert_output --partial "serving snapshots on $U/own.sock"
	refute_output --partial "passed in"
	stop other
	# its own socket, which it made, is removed on the way out
	[[ ! -e $U/own.sock ]]
}

# unit_caps: the service's CapabilityBoundingSet= in setpriv's words (-all,+sys_admin,...).
unit_caps() {
	local c out=-all
	for c in $(sed -n 's/^CapabilityBoundingSet=//p' "$UNITS/ctrbox-snapshotter.service"); do
		c=${c#CAP_}
		out+=,+${c,,}
	done
	echo "$out"
}

@test "units: the service's capability bounding set and private network are enough: overlay probe, native copies of owners, set-id bits, devices, file capabilities, unreadable files" {
	command -v setpriv >/dev/null && command -v unshare >/dev/null || skip "no setpriv/unshare (util-linux)"
	command -v setcap >/dev/null && command -v capsh >/dev/null || skip "no setcap/capsh (libcap2-bin)"
	local caps src dst um f
	caps=$(unit_caps)
	[[ $caps == -all,+sys_admin,* ]] || fail "no CapabilityBoundingSet= in the unit: $caps"
	um=$(sed -n 's/^UMask=//p' "$UNITS/ctrbox-snapshotter.service")
	[[ $um =~ ^0[0-7]{3}$ ]] || fail "no UMask= in the unit"
	# as systemd would run it: its own network namespace, NoNewPrivileges=, only those caps
	# (root's exec takes the bounding set as its permitted and effective set), the unit's umask
	bg auto bash -c 'umask "$0" && exec "$@"' "$um" unshare -n setpriv --no-new-privs --inh-caps=-all --bounding-set "$caps" \
		"$SNAP" --root "$U/auto" --address "$U/auto.sock"
	wait_for 10 "$PROBE" "$U/auto.sock" list 'name==__ready__' || { cat "$U/auto.log"; false; }
	# it runs with exactly the unit's capabilities (effective and bounding)
	local have want
	want=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNITS/ctrbox-snapshotter.service" | tr 'A-Z ' 'a-z\n' | sort | paste -sd,)
	for f in CapEff CapBnd; do
		have=$(capsh --decode="$(awk -v f="$f:" '$1 == f { print $2 }' "/proc/$(cat "$U/auto.pid")/status")")
		have=$(tr , '\n' <<<"${have#*=}" | sort | paste -sd,)
		assert_equal "$f $have" "$f $want"
	done
	run awk '$1 == "Umask:" { print $2 }' "/proc/$(cat "$U/auto.pid")/status"
	assert_output "$um"
	run cat "$U/auto.log"
	assert_output --partial "backend overlayfs" # the probe mounted
	stop auto

	bg nat bash -c 'umask "$0" && exec "$@"' "$um" unshare -n setpriv --no-new-privs --inh-caps=-all --bounding-set "$caps" \
		"$SNAP" --root "$U/nat" --address "$U/nat.sock" --backend native
	wait_for 10 "$PROBE" "$U/nat.sock" list 'name==__ready__' || { cat "$U/nat.log"; false; }
	src=$("$PROBE" "$U/nat.sock" prepare base | awk '{ print $2 }')
	[[ -d $src ]]
	mkdir -p "$src/d/locked"
	echo hello >"$src/d/file"
	chown 123:456 "$src/d/file"
	chmod 6750 "$src/d/file"
	echo secret >"$src/d/locked/inner"
	chown 7:7 "$src/d/locked" "$src/d/locked/inner"
	chmod 000 "$src/d/locked/inner" "$src/d/locked"
	mknod "$src/d/null" c 1 3
	cp /bin/true "$src/d/pinger"
	setcap cap_net_raw+ep "$src/d/pinger"
	"$PROBE" "$U/nat.sock" commit layer base
	run "$PROBE" "$U/nat.sock" prepare child layer
	assert_success
	dst=$(awk '{ print $2 }' <<<"$output")
	[[ -d $dst && $dst != "$src" ]]
	# the store's own modes whatever the umask: fs 0755 (containers' non-root users), the root 0700
	run stat -c %a "$dst" "$src" "$U/nat"
	assert_output $'755\n755\n700'
	run stat -c '%a %u %g' "$dst/d/file" "$dst/d/locked" "$dst/d/locked/inner"
	assert_output $'6750 123 456\n0 7 7\n0 7 7'
	[[ $(cat "$dst/d/locked/inner") == secret ]]
	run stat -c '%F %t:%T' "$dst/d/null"
	assert_output 'character special file 1:3'
	run getcap "$dst/d/pinger"
	assert_output --regexp 'cap_net_raw[=+]ep'
	stop nat
}

@test "units: containerd 2.x also takes the drop-in from a version 3 config (what 2.x's config default writes)" {
	ctrd_is 1.6 && skip "containerd 1.6 has no config version 3"
	sed "s|\"/run/ctrbox-snapshotter.sock\"|\"$U/v3.sock\"|" "$DROPIN" >"$U/dropin.toml"
	CONFIG_VERSION=3 ctrd_units_config "$U/dropin.toml" >"$U/config.toml"
	grep -qx 'version = 3' "$U/config.toml"
	bg v3 "$SNAP" --root "$U/v3root" --address "$U/v3.sock"
	wait_for 10 "$PROBE" "$U/v3.sock" list 'name==__ready__'
	bg containerd env -u XDG_RUNTIME_DIR TMPDIR="$U/tmp" setsid containerd --config "$U/config.toml"
	wait_for 20 ctr -a "$U/c.sock" --timeout 2s version || { tail -30 "$U/containerd.log"; false; }
	run ut plugins ls
	assert_success
	assert_output --regexp "io\\.containerd\\.snapshotter\\.v1 +ctrbox +[^ ]+ +ok"
	run ut snapshots --snapshotter ctrbox prepare k3
	assert_success
	run "$PROBE" "$U/v3.sock" list
	assert_output --regexp '^units/[0-9]+/k3\|\|active\|'
	run ut snapshots --snapshotter ctrbox rm k3
	assert_success
	stop containerd
	stop v3
}
