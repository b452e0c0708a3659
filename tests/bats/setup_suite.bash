# One-time setup for the bats suite: a private containerd with the busybox image imported once.
# bats finds this file only in the directory of the first .bats file (or directory) it is given.

# Absolute: bats' load refuses relative paths, and --setup-suite-file may be relative.
CTRBOX_BATS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

setup_suite() {
	load "$CTRBOX_BATS_DIR/helpers"

	export REPO CTRBOX SHIMDIR CTRBOX_TEST_DIR CTRD_SOCK CTRD_TTRPC CTRD_NS CTRD_STATE CTRD_ROOT TEST_IMAGE GO_SHIM
	REPO=$(cd "$CTRBOX_BATS_DIR/../.." && pwd)
	# CTRBOX_BIN: run the suite on another build (an ASan one, say)
	CTRBOX=${CTRBOX_BIN:-$REPO/build/ctrbox}

	local t0=${EPOCHREALTIME/./} t
	# CTRBOX_CONTAINERD: which containerd the suite runs on. 1.6: Debian 12's (the system's).
	# 2.1: testing's containerd 2.x as `make containerd2` unpacked it under build/; its
	# containerd, ctr and Go shim come first then (the shim under test is still ctrbox's).
	case ${CTRBOX_CONTAINERD:=1.6} in
	1.6) ;;
	2.1)
		local c2=$REPO/build/containerd2/containerd/usr/bin
		[[ -x $c2/containerd ]] || { echo "setup_suite: CTRBOX_CONTAINERD=2.1: run make containerd2 first" >&2; return 1; }
		export PATH=$c2:$PATH
		GO_SHIM=$c2/containerd-shim-runc-v2
		;;
	*) echo "setup_suite: CTRBOX_CONTAINERD=$CTRBOX_CONTAINERD: 1.6 or 2.1" >&2; return 1 ;;
	esac
	export CTRBOX_CONTAINERD
	echo "# setup_suite: $(containerd --version)" >&3 2>/dev/null || true
	for t in containerd ctr runc umoci jq setsid timeout; do
		command -v "$t" >/dev/null || { echo "setup_suite: missing $t" >&2; return 1; }
	done
	[[ $EUID -eq 0 ]] || { echo "setup_suite: the suite needs root (containerd, runc, mounts)" >&2; return 1; }

	CTRBOX_TEST_DIR=$(mktemp -d /tmp/ctrbox-bats.XXXXXX)
	chmod 0711 "$CTRBOX_TEST_DIR"
	local suffix=${CTRBOX_TEST_DIR##*.}
	CTRD_NS=ctrbox-test-${suffix,,}
	CTRD_SOCK=$CTRBOX_TEST_DIR/c.sock
	CTRD_TTRPC=$CTRD_SOCK.ttrpc
	CTRD_STATE=$CTRBOX_TEST_DIR/state
	CTRD_ROOT=$CTRBOX_TEST_DIR/root
	SHIMDIR=$CTRBOX_TEST_DIR/bin
	TEST_IMAGE=ctrbox.test/busybox:latest
	mkdir -p "$SHIMDIR" "$CTRBOX_TEST_DIR/cwd"
	# Shared dirs the shims and ctr create; teardown removes them again if it made them.
	local d
	for d in /run/containerd /run/containerd/s /run/containerd/runc /run/containerd/fifo; do
		[[ -e $d ]] || echo "$d" >>"$CTRBOX_TEST_DIR/created-dirs"
	done

	if [[ -x $REPO/symlinks.sh && -x $CTRBOX ]]; then
		"$REPO/symlinks.sh" "$SHIMDIR" "$CTRBOX" || { echo "setup_suite: symlinks.sh $SHIMDIR failed" >&2; return 1; }
	fi

	write_ctrd_config >"$CTRBOX_TEST_DIR/config.toml"
	# The proxy snapshotters containerd's config names (ctrbox: overlayfs, ctrbox-native).
	if [[ -x $CTRBOX ]]; then
		snap_start ctrbox overlayfs && snap_start ctrbox-native native || return 1
	fi
	ctrd_start

	"$CTRBOX_BATS_DIR/mkimage.sh" "$CTRBOX_TEST_DIR/busybox.tar" "$TEST_IMAGE"
	ctrt images import "$CTRBOX_TEST_DIR/busybox.tar" >/dev/null
	rm -f "$CTRBOX_TEST_DIR/busybox.tar"
	ctrt images check | grep "^$TEST_IMAGE .*complete" >/dev/null ||
		{ echo "setup_suite: $TEST_IMAGE not imported" >&2; ctrt images check >&2; return 1; }

	t=$(((${EPOCHREALTIME/./} - t0) / 1000))
	echo "# setup_suite: $CTRBOX_TEST_DIR ready in ${t}ms" >&3 2>/dev/null || true
}

# containerd config: private root/state/sockets, debug level (so shims get -debug), the plugins
# of ctrd_disabled_plugins (helpers.bash) off. The v1 linux runtime must stay: the tasks
# service requires it.
write_ctrd_config() {
	cat <<EOF
version = 2
root = "$CTRD_ROOT"
state = "$CTRD_STATE"
$(ctrd_disabled_plugins)

[grpc]
  address = "$CTRD_SOCK"

[ttrpc]
  address = "$CTRD_TTRPC"

[debug]
  level = "debug"

[plugins."io.containerd.gc.v1.scheduler"]
  startup_delay = "0s"

[proxy_plugins]
  [proxy_plugins.ctrbox]
    type = "snapshot"
    address = "$(snap_sock ctrbox)"
  [proxy_plugins.ctrbox-native]
    type = "snapshot"
    address = "$(snap_sock ctrbox-native)"
  # examples/snapshotter-passthrough, started by 18-example-snapshots.bats (dialled lazily)
  [proxy_plugins.example]
    type = "snapshot"
    address = "$(snap_sock example)"
EOF
	# 2.x: ctr images import goes through the transfer service, which unpacks only into the
	# snapshotters its unpack_config names (default: overlayfs alone). 1.6 has no such plugin.
	if [[ $CTRBOX_CONTAINERD == 2.1 ]]; then
		local sn platform
		platform=linux/$(dpkg --print-architecture)
		printf '\n[plugins."io.containerd.transfer.v1.local"]\n'
		for sn in overlayfs native ctrbox ctrbox-native example; do
			printf '  [[plugins."io.containerd.transfer.v1.local".unpack_config]]\n'
			printf '    platform = "%s"\n    snapshotter = "%s"\n' "$platform" "$sn"
		done
	fi
}

# _shim_socket PID: the socket a shim daemon serves, derived from its command line as containerd
# does: /run/containerd/s/sha256(<address>/<namespace>/<id>) (a grouped shim hashes its group
# label instead; those sockets are found through the bundles' address files).
_shim_socket() {
	local -a args
	local i ns='' id='' addr=''
	mapfile -d '' args 2>/dev/null <"/proc/$1/cmdline" || return 0
	for ((i = 1; i < ${#args[@]}; i++)); do
		case ${args[i]} in
		-namespace | --namespace) ns=${args[i + 1]:-} ;;
		-id | --id) id=${args[i + 1]:-} ;;
		-address | --address) addr=${args[i + 1]:-} ;;
		start | delete) return 0 ;; # not a daemon
		esac
	done
	[[ -n $ns && -n $id && -n $addr ]] || return 0
	echo "/run/containerd/s/$(printf '%s' "$addr/$ns/$id" | sha256sum | cut -d' ' -f1)"
}

teardown_suite() {
	declare -F ctrd_pid >/dev/null || load "$CTRBOX_BATS_DIR/helpers"
	local dir=${CTRBOX_TEST_DIR:-}
	[[ -n $dir && -d $dir && $dir == /tmp/ctrbox-bats.* ]] || return 0
	[[ -n ${BATS_SETUP_SUITE_COMPLETED:-} ]] || dump_ctrd_log 50

	# 1. Tasks and containers, through containerd (kills the containers, stops the shims).
	if ctrd_pid >/dev/null; then
		ctrd_clean_ns 10
	fi
	ctrd_stop 10
	snap_stop ctrbox
	snap_stop ctrbox-native

	# 2. Whatever survived: containers via runc, then the shims, then stray cgroup members.
	local rroot=/run/containerd/runc/$CTRD_NS id pid sock cg
	for id in $(runc_state "$CTRD_NS"); do
		runc --root "$rroot" kill -a "$id" KILL 2>/dev/null || true
		runc --root "$rroot" delete -f "$id" 2>/dev/null || true
	done
	wait_for 3 eval '[[ -z $(shim_pids "$CTRD_SOCK") ]]' || true # shims that were told to shut down
	for pid in $(shim_pids "$CTRD_SOCK"); do
		sock=$(_shim_socket "$pid")
		kill -KILL "$pid" 2>/dev/null || true
		[[ -n $sock ]] && rm -f "$sock"
	done
	for cg in /sys/fs/cgroup/"$CTRD_NS" /sys/fs/cgroup/*/"$CTRD_NS"; do
		[[ -d $cg ]] || continue
		find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
			kill -KILL "$pid" 2>/dev/null || true
		done
	done
	wait_for 5 eval '[[ -z $(shim_pids "$CTRD_SOCK") ]]' || echo "teardown_suite: shims survive SIGKILL" >&2

	# 3. Sockets the killed shims left in /run/containerd/s (named in each bundle's address file,
	# 1.6, or bootstrap.json, 2.x).
	local f
	for f in "$CTRD_STATE"/io.containerd.runtime.v2.task/"$CTRD_NS"/*/{address,bootstrap.json}; do
		[[ -f $f ]] || continue
		if [[ $f == */address ]]; then sock=$(cat "$f"); else sock=$(jq -r '.address // empty' "$f"); fi
		sock=${sock#unix://}
		[[ $sock == /run/containerd/s/* ]] && rm -f "$sock"
	done

	# 4. Mounts under the dir, deepest first; lazily if busy.
	local mp
	mounts_under "$dir" | while read -r mp; do
		umount "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null || echo "teardown_suite: cannot umount $mp" >&2
	done

	# 5. cgroups (deepest first), runc state dir, the shared dirs setup found missing, the dir.
	for cg in /sys/fs/cgroup/"$CTRD_NS" /sys/fs/cgroup/*/"$CTRD_NS"; do
		[[ -d $cg ]] && find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	rm -rf "$rroot"
	local others # another suite's daemon may be about to use them
	others=$(compgen -G "/tmp/ctrbox-bats.*/containerd.pid" | grep -vx "$dir/containerd.pid")
	if [[ -f $dir/created-dirs && -z $others ]]; then
		tac "$dir/created-dirs" | while read -r d; do rmdir "$d" 2>/dev/null || true; done
	fi
	rm -rf --one-file-system "$dir" # never into a mount that survived
	if [[ -e $dir ]]; then
		echo "teardown_suite: could not remove $dir" >&2
		return 1
	fi
}
