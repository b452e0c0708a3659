# The node rig of the bats files that switch this machine's real runc shim (93-setup,
# 98-install): containerds started as containerd.service starts them, each alone in a PID
# namespace of its own, and the way back to the Go shim whatever happened. The file sets
# NODE_DIR (the test's temp dir), NODE_NS (its containerd namespace), SETUP_BIN (the
# ctrbox-setup it runs), GO_SHA and GO_INO (the Go shim's sha256 and dev:ino, recorded before).

T=/usr/bin/containerd-shim-runc-v2
NODE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# flock'ed by whoever diverts $T, so two files (or two runs) do not switch the node at once:
# the directory itself, so no lock file is left (ctrbox-setup locks /var/lib/dpkg).
NODE_LOCK=${T%/*}

# node_setup (in setup_file): returns 1 after file_skip unless $T is the containerd package's Go
# shim, undiverted;
# takes $NODE_LOCK (the fd stays open in SETUP_LOCK); records GO_SHA and GO_INO; makes NODE_DIR
# and NODE_NS, and the test image's tarball in NODE_DIR.
node_setup() {
	command -v dpkg-divert >/dev/null || { file_skip "no dpkg-divert: not a dpkg system"; return 1; }
	[[ $(dpkg-query -S "$T" 2>/dev/null) == "containerd: $T" ]] || { file_skip "$T is not containerd's (Debian package containerd not installed)"; return 1; }
	exec {SETUP_LOCK}<"$NODE_LOCK"
	flock -w 300 "$SETUP_LOCK" || { file_skip "another run holds $NODE_LOCK"; return 1; }
	local d
	d=$(dpkg-divert --listpackage "$T")
	[[ -z $d && ! -L $T && ! -e $T.distrib ]] || { file_skip "$T is already diverted (${d:-?}) or linked: not this test's to touch"; return 1; }
	export NODE_DIR GO_SHA GO_INO NODE_NS
	GO_SHA=$(sha256sum "$T" | cut -d' ' -f1)
	GO_INO=$(stat -L -c %d:%i "$T")
	NODE_DIR=$(mktemp -d /tmp/ctrbox-setup.XXXXXX)
	chmod 0700 "$NODE_DIR"
	local suffix=${NODE_DIR##*.}
	NODE_NS=ctrbox-setup-${suffix,,}
	"$BATS_TEST_DIRNAME/mkimage.sh" "$NODE_DIR/busybox.tar" "$TEST_IMAGE"
}

# restore_node: the Go shim back at $T, no diversion of it, no foreign scratch diversion. Fails
# (loudly) only if it cannot.
restore_node() {
	[[ -n ${GO_SHA:-} ]] || return 0
	local f=$NODE_DIR/scratch/files/bin/containerd-shim-runc-v2 # the refusal test's foreign diversion
	if [[ $(dpkg-divert --listpackage "$f" 2>/dev/null) == somethingelse ]]; then
		dpkg-divert --package somethingelse --no-rename --remove "$f" >/dev/null
	fi
	[[ $(dpkg-divert --listpackage "$T") == ctrbox ]] || [[ -L $T ]] || return 0
	"$SETUP_BIN" disable >/dev/null 2>&1 || true
	if [[ $(dpkg-divert --listpackage "$T") == ctrbox || -L $T ]]; then # by hand, then
		echo "# restore_node: ctrbox-setup disable did not restore $T; doing it by hand" >&2
		[[ -f $T.distrib && ! -L $T.distrib && $(sha256sum <"$T.distrib" | cut -d' ' -f1) == "$GO_SHA" ]] &&
			mv -f "$T.distrib" "$T"
		[[ $(dpkg-divert --listpackage "$T") == ctrbox ]] &&
			dpkg-divert --package ctrbox --no-rename --remove "$T" >/dev/null
	fi
	[[ $(sha256sum <"$T" | cut -d' ' -f1) == "$GO_SHA" && ! -L $T && ! -e $T.distrib &&
		-z $(dpkg-divert --listpackage "$T") ]] ||
		{ echo "# restore_node: $T NOT RESTORED: $(ls -l "$T"*; dpkg-divert --list "$T")" >&2; return 1; }
}

# assert_node_unchanged: $T is the Go shim, undiverted, not a link, no .distrib.
assert_node_unchanged() {
	[[ ! -L $T ]] || fail "$T became a link: $(readlink "$T")"
	[[ $(sha256sum <"$T" | cut -d' ' -f1) == "$GO_SHA" ]] || fail "$T changed"
	[[ ! -e $T.distrib ]] || fail "$T.distrib exists"
	[[ -z $(dpkg-divert --listpackage "$T") ]] || fail "$T diverted: $(dpkg-divert --list "$T")"
}

# node_start NAME PATH CWD [IN]: a containerd (the suite's version) with that PATH and cwd, alone
# in a new PID namespace (its /proc mounted in a new mount namespace), or with IN, a second one in
# node IN's namespaces; state under $NODE_DIR/NAME. With NODE_IMPORTS set, its config imports
# that file (as an operator adds the package's drop-in).
node_start() {
	local name=$1 path=$2 cwd=$3 in=${4:-} dir=$NODE_DIR/$1 bin upid inpid=
	if [[ -n $in ]]; then
		inpid=$(node_pid "$in") || { echo "node_start: node $in not running" >&2; return 1; }
	fi
	bin=$(command -v containerd)
	mkdir -p "$dir/tmp"
	cat >"$dir/config.toml" <<EOF
version = 2
${NODE_IMPORTS:+imports = [\"$NODE_IMPORTS\"]}
root = "$dir/root"
state = "$dir/state"
$(ctrd_disabled_plugins)

[grpc]
  address = "$dir/c.sock"
[ttrpc]
  address = "$dir/c.sock.ttrpc"
EOF
	(
		for fd in /proc/"$BASHPID"/fd/*; do # not bats' pipes
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-"
		done
		if [[ -n $inpid ]]; then
			exec setsid nsenter -t "$inpid" --pid --mount --wd="$cwd" -- env -i PATH="$path" \
				TMPDIR="$dir/tmp" "$bin" --config "$dir/config.toml" </dev/null >>"$dir/containerd.log" 2>&1
		fi
		exec setsid unshare --pid --fork --mount-proc --wd="$cwd" env -i PATH="$path" \
			TMPDIR="$dir/tmp" "$bin" --config "$dir/config.toml" </dev/null >>"$dir/containerd.log" 2>&1
	) &
	upid=$!
	disown "$upid"
	echo "$upid" >"$dir/unshare.pid"
	wait_for 10 ctr -a "$dir/c.sock" --timeout 2s version || { tail -20 "$dir/containerd.log" >&2; return 1; }
	node_pid "$name" >/dev/null || { echo "node_start: no containerd under unshare $upid" >&2; return 1; }
}

# node_pid NAME: the host pid of that node's containerd (the child of our unshare or nsenter).
node_pid() {
	local upid pid
	upid=$(cat "$NODE_DIR/$1/unshare.pid" 2>/dev/null) || return 1
	pid=$(cat "/proc/$upid/task/$upid/children" 2>/dev/null) || return 1
	pid=${pid%% *}
	[[ -n $pid ]] && echo "$pid"
}

# nsetup NAME ARGS...: ctrbox-setup ARGS inside node NAME's PID and mount namespace.
nsetup() {
	local pid
	pid=$(node_pid "$1") || { echo "nsetup: node $1 not running" >&2; return 1; }
	nsenter -t "$pid" --pid --mount -- "$SETUP_BIN" "${@:2}"
}

# nctr NAME ARGS...: ctr against node NAME in the test's namespace.
nctr() {
	timeout -k 5 60 ctr -a "$NODE_DIR/$1/c.sock" -n "$NODE_NS" "${@:2}"
}

# node_shim_exe NAME ID: dev:ino of the executable of the shim daemon serving container ID.
node_shim_exe() {
	local pid
	for pid in $(shim_pids "$NODE_DIR/$1/c.sock"); do
		_cmdline_has "$pid" -id "$2" || continue
		grep -qzx -e start -e delete "/proc/$pid/cmdline" && continue
		stat -L -c %d:%i "/proc/$pid/exe"
		return 0
	done
	return 1
}

# node_stop NAME: its containers removed through it, then the daemon (and with it the namespace).
node_stop() {
	local dir=$NODE_DIR/$1 pid upid id cg
	[[ -d $dir ]] || return 0
	if pid=$(node_pid "$1"); then
		for id in $(nctr "$1" task ls -q 2>/dev/null); do
			nctr "$1" task kill -s KILL "$id" >/dev/null 2>&1 || true
		done
		for id in $(nctr "$1" task ls -q 2>/dev/null); do
			wait_for 10 eval "nctr $1 task ls | grep -q '^$id .*STOPPED'" || true
			nctr "$1" task rm -f "$id" >/dev/null 2>&1 || true
		done
		for id in $(nctr "$1" container ls -q 2>/dev/null); do
			nctr "$1" container rm "$id" >/dev/null 2>&1 || true
		done
		kill -TERM "$pid" 2>/dev/null || true
	fi
	upid=$(cat "$dir/unshare.pid" 2>/dev/null) || true
	# the namespace ends with its init (containerd): every process in it is killed then
	[[ -z $upid ]] || wait_for 15 eval "! _alive $upid" || { kill -KILL "$pid" 2>/dev/null; wait_for 5 eval "! _alive $upid"; } || true
	rm -rf "/run/containerd/runc/$NODE_NS"
	for cg in /sys/fs/cgroup/"$NODE_NS" /sys/fs/cgroup/*/"$NODE_NS"; do
		[[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	local mp
	mounts_under "$dir" | while read -r mp; do umount -l "$mp" 2>/dev/null || true; done
	rm -rf --one-file-system "$dir"
}

