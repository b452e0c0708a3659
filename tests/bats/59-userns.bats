#!/usr/bin/env bats
# User-namespaced containers and loop mounts on containerd 2.1, with ctrbox's shim and with the
# Go shim, the same view from inside and from the host, nothing left afterwards.
# `ctr run --uidmap/--gidmap --remap-labels` makes 2.1's overlayfs snapshotter (remap-ids on
# kernels >= 5.19) hand the shim an overlay mount carrying uidmap=/gidmap=; the shim idmaps the
# lowerdirs (one read-only idmapped mount of their common parent, under the shim's TMPDIR, gone
# again once the overlay is up). 2.1's blockfile snapshotter hands out ext4 images with "loop":
# the shim attaches a loop device (autoclear), which goes away with the unmount at delete.

load helpers
bats_require_minimum_version 1.5.0

MAP=0:100000:65536

setup() {
	[[ ${CTRBOX_CONTAINERD:-1.6} == 2.1 ]] ||
		skip "needs CTRBOX_CONTAINERD=2.1: containerd 1.6's overlayfs snapshotter has no remap-ids (its mounts never carry uidmap=/gidmap=) and 1.6 has no blockfile snapshotter (no loop mounts)"
	require_root
	require_ctrbox containerd-shim-runc-v2
	ctrd_log_mark
}

teardown() {
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		dump_ctrd_log 60
		ctrd_clean_ns 10
		[[ -f $BF_DIR/containerd.log ]] && tail -40 "$BF_DIR/containerd.log" | sed 's/^/# bf: /'
	fi
	bf_stop
	return 0
}

# runtime_args SHIM: ctr's arguments for SHIM (ctrbox: the default runtime, found in $SHIMDIR).
runtime_args() {
	case $1 in
	ctrbox) ;;
	go) echo --runtime "$GO_SHIM" ;;
	esac
}

# shim_is SHIM ID: the shim daemon serving ID is SHIM's binary.
shim_is() {
	local pid want
	case $1 in
	ctrbox) want=$(readlink -f "$CTRBOX") ;;
	go) want=$(readlink -f "$GO_SHIM") ;;
	esac
	for pid in $(shim_pids "$CTRD_SOCK"); do
		_cmdline_has "$pid" -id "$2" || continue
		[[ $(readlink -f "/proc/$pid/exe") == "$want" ]] && return 0
	done
	return 1
}

# idmapped_left: temporary idmapped dirs or mounts the shims left in their TMPDIR.
idmapped_left() {
	local d=$CTRBOX_TEST_DIR/tmp
	find "$d" -maxdepth 1 -name 'ovl-idmapped*' 2>/dev/null
	mounts_under "$d"
}

# loops_left: loop devices backed by a file of this run.
loops_left() {
	local f
	for f in /sys/block/loop*/loop/backing_file; do
		[[ -r $f ]] || continue
		[[ $(cat "$f" 2>/dev/null) == "$CTRBOX_TEST_DIR"/* ]] && echo "${f%/loop/backing_file}"
	done
	return 0
}

# The inside view: the mappings, owners of the image's files, a write, and who owns it.
INSIDE='
awk "{ print \"uid_map\", \$1, \$2, \$3 }" /proc/self/uid_map
awk "{ print \"gid_map\", \$1, \$2, \$3 }" /proc/self/gid_map
echo "id $(id -u):$(id -g)"
stat -c "owner %u:%g %n" /bin/busybox /etc/passwd /
echo written >/new-file && cat /new-file
stat -c "owner %u:%g %n" /new-file
'

# userns_run SHIM ID: a --rm user-namespaced container, checked from inside.
userns_run() {
	local shim=$1 id=$2
	# shellcheck disable=SC2046
	run ctrt run --rm $(runtime_args "$shim") --uidmap "$MAP" --gidmap "$MAP" --remap-labels \
		"$TEST_IMAGE" "$id" sh -c "$INSIDE"
	assert_success
	assert_line "uid_map 0 100000 65536"
	assert_line "gid_map 0 100000 65536"
	assert_line "id 0:0"
	assert_line "owner 0:0 /bin/busybox"
	assert_line "owner 0:0 /etc/passwd"
	assert_line "owner 0:0 /"
	assert_line "written"
	assert_line "owner 0:0 /new-file"
	[[ ${#lines[@]} -eq 8 ]] || fail "unexpected output: $output"
}

# userns_detached SHIM ID: the same container running, checked from the host: its mappings,
# the rootfs seen through the idmapped lowerdirs as the mapping's root, the snapshotter's
# mount options, no temporary idmapped mount left behind by Create; then gone without a trace.
userns_detached() {
	local shim=$1 id=$2 pid b opts
	# shellcheck disable=SC2046
	run ctrt run -d $(runtime_args "$shim") --uidmap "$MAP" --gidmap "$MAP" --remap-labels \
		"$TEST_IMAGE" "$id" sh -c 'echo ready >/ready; exec sleep 1000'
	assert_success
	wait_for 10 task_is "$id" RUNNING
	shim_is "$shim" "$id" || fail "task $id is not served by the $shim shim"
	pid=$(ctrt task ls | awk -v id="$id" '$1 == id { print $2 }')
	[[ -n $pid ]]
	wait_for 10 test -e "/proc/$pid/root/ready"
	[[ $(awk '{ print $1, $2, $3 }' "/proc/$pid/uid_map") == "0 100000 65536" ]]
	[[ $(awk '{ print $1, $2, $3 }' "/proc/$pid/gid_map") == "0 100000 65536" ]]
	# from the host: image files (root's on disk) are the mapping's root through the mount,
	# and what the container wrote is on the upper dir as 100000
	[[ $(stat -c %u:%g "/proc/$pid/root/bin/busybox") == 100000:100000 ]]
	[[ $(stat -c %u:%g "/proc/$pid/root/ready") == 100000:100000 ]]
	# containerd handed out an overlay with the mappings, and the shim mounted the bundle's
	# rootfs from it (the lowerdirs through the since-removed temp dir)
	b=$(bundle_dir "$id")
	opts=$(ctrt snapshots mounts /x "$id" 2>/dev/null) || true
	[[ $opts == *uidmap=$MAP* && $opts == *gidmap=$MAP* ]] || fail "no idmapped snapshot mounts: $opts"
	[[ $(findmnt -n -o FSTYPE --mountpoint "$b/rootfs") == overlay ]]
	findmnt -n -o OPTIONS --mountpoint "$b/rootfs" | grep -q "lowerdir=$CTRBOX_TEST_DIR/tmp/ovl-idmapped" ||
		fail "rootfs lowerdirs not idmapped: $(findmnt -n -o OPTIONS --mountpoint "$b/rootfs")"
	[[ -z $(idmapped_left) ]] || fail "temporary idmapped mounts left: $(idmapped_left)"
	ctrt task kill -s SIGKILL "$id"
	wait_for 10 task_is "$id" STOPPED
	ctrt task rm "$id"
	ctrt container rm "$id"
	assert_no_leaks
	[[ -z $(idmapped_left) ]] || fail "left: $(idmapped_left)"
	[[ -z $(loops_left) ]] || fail "loop devices left: $(loops_left)"
}

@test "userns: 2.1's overlayfs snapshotter offers remap-ids here (the kernel idmaps overlay lowerdirs)" {
	run ctrt plugins ls -d id==overlayfs
	assert_success
	assert_output --partial remap-ids
}

@test "userns: Go shim: uid 0 is host 100000, the image is root's inside, writes work" {
	[[ -x $GO_SHIM ]] || skip "no Go shim at $GO_SHIM"
	userns_run go un-go
	assert_no_leaks
	[[ -z $(idmapped_left) ]] || fail "left: $(idmapped_left)"
}

@test "userns: ctrbox shim: the same as the Go shim" {
	userns_run ctrbox un-cb
	assert_no_leaks
	[[ -z $(idmapped_left) ]] || fail "left: $(idmapped_left)"
	[[ -z $(loops_left) ]] || fail "loop devices left: $(loops_left)"
}

@test "userns: Go shim, detached: host view, no temp mount left, nothing left after rm" {
	[[ -x $GO_SHIM ]] || skip "no Go shim at $GO_SHIM"
	userns_detached go und-go
}

@test "userns: ctrbox shim, detached: the same host view, nothing left after rm" {
	userns_detached ctrbox und-cb
}

# ---- loop mounts: 2.1's blockfile snapshotter hands out ext4 images with "loop" ----
# The suite's containerd disables blockfile (it needs a scratch image made first), so these
# tests start a daemon of their own on the same binaries: $BF_DIR, socket $BF_SOCK, a 16 MiB
# ext4 scratch file, blockfile on; everything else as the suite's config.

BF_DIR=${CTRBOX_TEST_DIR:-/nonexistent}/bf
BF_SOCK=$BF_DIR/c.sock

# bft ARGS...: ctr against the blockfile daemon.
bft() {
	timeout --foreground -k 5 "$CTRT_TIMEOUT" ctr -a "$BF_SOCK" -n "$CTRD_NS" "$@"
}

# The blockfile daemon's whole config (own root, state and sockets; the plugins the suite's
# config disables are off here too, NRI as well; blockfile on with its scratch image).
bf_config() {
	cat <<CONF
version = 2
root = "$BF_DIR/root"
state = "$BF_DIR/state"
$(ctrd_disabled_plugins -io.containerd.snapshotter.v1.blockfile +io.containerd.nri.v1.nri)

[grpc]
  address = "$BF_SOCK"

[ttrpc]
  address = "$BF_SOCK.ttrpc"

[debug]
  level = "debug"

[plugins."io.containerd.snapshotter.v1.blockfile"]
  scratch_file = "$BF_DIR/scratch"
  fs_type = "ext4"
CONF
}

bf_start() {
	command -v mkfs.ext4 >/dev/null || skip "no mkfs.ext4 (e2fsprogs) for the blockfile scratch image"
	mkdir -p "$BF_DIR"/{root,state,tmp,cwd}
	truncate -s 16M "$BF_DIR/scratch"
	mkfs.ext4 -q -F -E root_owner=0:0 "$BF_DIR/scratch"
	[[ $BF_DIR == /tmp/ctrbox-bats.*/bf ]] || fail "BF_DIR=$BF_DIR outside the suite's dir"
	bf_config >"$BF_DIR/config.toml"
	# never a daemon on the system's paths: the config must name ours (and the flags do too)
	grep -qx "root = \"$BF_DIR/root\"" "$BF_DIR/config.toml" || fail "bad blockfile config"
	(
		for fd in /proc/"$BASHPID"/fd/*; do
			fd=${fd##*/}
			((fd > 2)) && eval "exec $fd>&-"
		done
		cd "$BF_DIR/cwd" || exit 1
		unset XDG_RUNTIME_DIR
		TMPDIR=$BF_DIR/tmp PATH="$SHIMDIR:$PATH" exec setsid containerd --config "$BF_DIR/config.toml" \
			--root "$BF_DIR/root" --state "$BF_DIR/state" --address "$BF_SOCK" \
			</dev/null >>"$BF_DIR/containerd.log" 2>&1
	) &
	echo $! >"$BF_DIR/containerd.pid"
	disown
	wait_for 10 ctr -a "$BF_SOCK" --timeout 2s version || { tail -30 "$BF_DIR/containerd.log" >&2; return 1; }
	bft plugins ls id==blockfile | awk '$2 == "blockfile" && $NF == "ok" { ok = 1 } END { exit !ok }' ||
		{ bft plugins ls -d id==blockfile >&2; return 1; }
	"$REPO/tests/bats/mkimage.sh" "$BF_DIR/busybox.tar" "$TEST_IMAGE"
	bft images import --local --snapshotter blockfile "$BF_DIR/busybox.tar" >/dev/null
	rm -f "$BF_DIR/busybox.tar"
}

bf_stop() {
	local pid id
	[[ -f $BF_DIR/containerd.pid ]] || return 0
	for id in $(bft task ls -q 2>/dev/null); do
		bft task kill -a -s KILL "$id" >/dev/null 2>&1 || true
		wait_for 10 eval "[[ \$(bft task ls 2>/dev/null | awk -v id=$id '\$1 == id { print \$3 }') != RUNNING ]]" || true
		bft task rm -f "$id" >/dev/null 2>&1 || true
	done
	for id in $(bft container ls -q 2>/dev/null); do
		bft container rm "$id" >/dev/null 2>&1 || true
	done
	pid=$(cat "$BF_DIR/containerd.pid")
	kill -TERM "$pid" 2>/dev/null && wait_for 10 eval "! _alive $pid" || kill -KILL "$pid" 2>/dev/null || true
	rm -f "$BF_DIR/containerd.pid"
}

# bf_loop_run SHIM ID: a --rm container on a blockfile snapshot: ext4 from a loop device at /.
bf_loop_run() {
	# shellcheck disable=SC2046
	run bft run --rm --snapshotter blockfile $(runtime_args "$1") "$TEST_IMAGE" "$2" \
		sh -c 'awk "\$5 == \"/\" { for (i = 7; \$i != \"-\"; i++); print \"root\", \$(i + 1), \$(i + 2) }" /proc/self/mountinfo; echo w >/f && cat /f'
	assert_success
	assert_line --regexp '^root ext4 /dev/loop[0-9]+$'
	assert_line w
}

# bf_loop_detached SHIM ID: the host's view of the running container's loop device, then
# nothing left (the device autocleared with the unmount at delete).
bf_loop_detached() {
	local b dev sys
	# shellcheck disable=SC2046
	bft run -d --snapshotter blockfile $(runtime_args "$1") "$TEST_IMAGE" "$2" sleep 1000
	wait_for 10 eval "bft task ls | grep -q '^$2 .*RUNNING'"
	b=$BF_DIR/state/io.containerd.runtime.v2.task/$CTRD_NS/$2
	[[ $(findmnt -n -o FSTYPE --mountpoint "$b/rootfs") == ext4 ]]
	dev=$(findmnt -n -o SOURCE --mountpoint "$b/rootfs")
	[[ $dev == /dev/loop* ]] || fail "rootfs from $dev"
	sys=/sys/block/${dev#/dev/}
	[[ $(cat "$sys/loop/backing_file") == "$BF_DIR"/root/io.containerd.snapshotter.v1.blockfile/snapshots/* ]]
	[[ $(cat "$sys/loop/autoclear") == 1 ]]
	[[ $(cat "$sys/ro") == 0 ]]
	bft task kill -s KILL "$2"
	wait_for 10 eval "bft task ls | grep -q '^$2 .*STOPPED'"
	bft task rm "$2"
	bft container rm "$2"
	[[ -z $(mounts_under "$BF_DIR/state") ]] || fail "mounts left: $(mounts_under "$BF_DIR/state")"
	[[ ! -e $sys/loop/backing_file ]] || fail "$dev still attached to $(cat "$sys/loop/backing_file")"
	[[ -z $(loops_left) ]] || fail "loop devices left: $(loops_left)"
}

@test "loop: Go shim: a blockfile snapshot is an ext4 loop mount at /; detached: autoclear, nothing left" {
	[[ -x $GO_SHIM ]] || skip "no Go shim at $GO_SHIM"
	bf_start
	bf_loop_run go bf-go
	bf_loop_detached go bfd-go
	bf_stop
}

@test "loop: ctrbox shim: the same as the Go shim" {
	bf_start
	bf_loop_run ctrbox bf-cb
	bf_loop_detached ctrbox bfd-cb
	[[ -z $(loops_left) ]] || fail "loop devices left: $(loops_left)"
	bf_stop
}
