#!/usr/bin/env bats
# User-namespaced containers on containerd 2.1: `ctr run --uidmap/--gidmap --remap-labels` makes
# 2.1's overlayfs snapshotter (remap-ids on kernels >= 5.19) hand the shim an overlay mount
# carrying uidmap=/gidmap=; the shim idmaps the lowerdirs (one read-only idmapped mount of their
# common parent, under the shim's TMPDIR, gone again once the overlay is up). The same container
# with ctrbox's shim and with the Go shim, and the same view from inside and from the host.

load helpers
bats_require_minimum_version 1.5.0

MAP=0:100000:65536

setup() {
	[[ ${CTRBOX_CONTAINERD:-1.6} == 2.1 ]] ||
		skip "needs CTRBOX_CONTAINERD=2.1: containerd 1.6's overlayfs snapshotter has no remap-ids, so its mounts never carry uidmap=/gidmap="
	require_root
	require_ctrbox containerd-shim-runc-v2
	ctrd_log_mark
}

teardown() {
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		dump_ctrd_log 60
		ctrd_clean_ns 10
	fi
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
