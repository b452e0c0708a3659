#!/usr/bin/env bats
# ctrbox-snapshotter: the proxy snapshotter behind the suite's containerd ([proxy_plugins.ctrbox]
# overlayfs, [proxy_plugins.ctrbox-native] native, both started by setup_suite), compared with
# containerd's built-in overlayfs snapshotter on the same daemon; crash safety and bad input on
# private instances, driven with lib/grpc's client (tests/tools/grpc-probe).

load helpers

PROBE=${REPO:-.}/build/tools/grpc-probe

# The test image's tarball as setup_suite imported it (mkimage.sh's cached copy), not through
# `ctr images export`: ctr 2.x's export (through the transfer service) now and then left a short
# tarball under load ("short read", "unrecognized image format" at the import).
setup_file() {
	[[ -x ${CTRBOX:-} ]] || return 0
	"$REPO/tests/bats/mkimage.sh" "$BATS_FILE_TMPDIR/img.tar" "$TEST_IMAGE"
}

setup() {
	require_ctrbox ctrbox-snapshotter
	[[ -x $PROBE ]] || skip "build/tools/grpc-probe not built"
}

# A test that fails half-way must not leave its private snapshotter running.
teardown() {
	local n
	for n in crash bad grpc lab many nat; do
		snap_stop "$n" KILL
	done
}

# chain_id: the committed snapshot of the test image's single layer.
chain_id() {
	ctrt snapshots --snapshotter overlayfs ls | awk '$NF == "Committed" { print $1; exit }'
}

# priv_start NAME BACKEND: a private snapshotter (not known to containerd) in the test's tmpdir.
priv_start() {
	snap_start "$1" "$2" "$BATS_TEST_TMPDIR/$1-root" "$BATS_TEST_TMPDIR/$1.sock"
}

@test "snapshotter: containerd loads both proxy plugins" {
	run ctrt plugins ls
	assert_success
	# 1.6 lists no platforms for a proxy snapshotter, 2.x the host's (as for its overlayfs)
	local plat=-
	ctrd_is 1.6 || plat=$(awk '$1 == "io.containerd.snapshotter.v1" && $2 == "overlayfs" { print $3 }' <<<"$output")
	[[ $plat == - || $plat == linux/* ]]
	assert_output --regexp "io\\.containerd\\.snapshotter\\.v1 +ctrbox +$plat +ok"
	assert_output --regexp "io\\.containerd\\.snapshotter\\.v1 +ctrbox-native +$plat +ok"
}

@test "snapshotter: images import unpacks into ctrbox; ctr run --rm prints hi with ctrbox's and Go's shim" {
	run ctrt images import --snapshotter ctrbox "$BATS_FILE_TMPDIR/img.tar"
	assert_success
	# ctr 2.x imports through the transfer service, which prints no unpacking line
	if ctrd_is 1.6; then
		assert_output --partial "unpacking $TEST_IMAGE"
	else
		assert_line --regexp "^$TEST_IMAGE[[:space:]]+saved"
	fi
	# the same committed layer (chain id) as the built-in snapshotter unpacked in setup_suite
	run ctrt snapshots --snapshotter ctrbox ls
	assert_success
	assert_output --partial "$(chain_id)"
	assert_output --partial Committed
	# the store holds it under <ns>/<seq>/<chain id> (containerd's namespacing of the keys)
	run "$PROBE" "$(snap_sock ctrbox)" list
	assert_success
	assert_output --regexp "^$CTRD_NS/[0-9]+/$(chain_id)\|\|committed\|"

	run ctrt run --snapshotter ctrbox --rm "$TEST_IMAGE" sn-run1 echo hi
	assert_success
	assert_output hi
	[[ -x $GO_SHIM ]] || skip "Go shim $GO_SHIM not installed"
	run ctrt run --snapshotter ctrbox --runtime "$GO_SHIM" --rm "$TEST_IMAGE" sn-run2 echo hi
	assert_success
	assert_output hi
}

@test "snapshotter: the native backend unpacks and runs too" {
	run ctrt images import --snapshotter ctrbox-native "$BATS_FILE_TMPDIR/img.tar"
	assert_success
	run ctrt run --snapshotter ctrbox-native --rm "$TEST_IMAGE" sn-nat1 sh -c 'echo hi; ls /bin/busybox'
	assert_success
	assert_line hi
	assert_line /bin/busybox
}

@test "snapshotter: a container's rootfs is an overlay on ctrbox's dirs; its writes land in its snapshot" {
	ctrt images import --snapshotter ctrbox "$BATS_FILE_TMPDIR/img.tar" >/dev/null
	ctrt run -d --snapshotter ctrbox "$TEST_IMAGE" sn-rw sh -c 'echo data >/written; sleep 300'
	wait_for 10 task_is sn-rw RUNNING
	local root mnt
	root=$(snap_root ctrbox)
	mnt=$(awk -v m="$(bundle_dir sn-rw)/rootfs" '$2 == m' /proc/mounts)
	[[ $mnt == overlay* && $mnt == *"upperdir=$root/snapshots/"* && $mnt == *"lowerdir=$root/snapshots/"* ]] ||
		{ echo "rootfs mount: $mnt"; false; }
	local upper=${mnt#*upperdir=}
	upper=${upper%%,*}
	wait_for 5 test -f "$upper/written"
	[[ $(cat "$upper/written") == data ]]
	# ctr snapshots mounts shows the same (via containerd's Mounts call to us)
	run ctrt snapshots --snapshotter ctrbox mounts /mnt sn-rw
	assert_success
	assert_output --partial "upperdir=$upper"
	ctrt task kill -s KILL sn-rw
	wait_for 10 task_is sn-rw STOPPED
	ctrt task rm sn-rw
	ctrt container rm sn-rw
	run ctrt snapshots --snapshotter ctrbox ls
	refute_output --partial sn-rw
}

# Runs the same ctr snapshots commands against one snapshotter; prints the normalized outputs.
snap_ops() {
	local sn=$1 chain=$2
	echo "== prepare"
	ctrt snapshots --snapshotter "$sn" prepare cmp-a "$chain" >/dev/null; echo "rc=$?"
	# (no `view`: ctr labels a view with no gc.root, so containerd's GC may take it before ls;
	# View is covered against the snapshotter directly below)
	ctrt snapshots --snapshotter "$sn" prepare cmp-a "$chain" 2>&1 | sed "s/$sn/SN/g"; echo "rc=${PIPESTATUS[0]}"
	echo "== ls"
	ctrt snapshots --snapshotter "$sn" ls | sort
	echo "== info"
	ctrt snapshots --snapshotter "$sn" info cmp-a | jq -S 'del(.Created, .Updated)'
	ctrt snapshots --snapshotter "$sn" info "$chain" | jq -S 'del(.Created, .Updated)'
	ctrt snapshots --snapshotter "$sn" info nope 2>&1 | sed "s/$sn/SN/g"; echo "rc=${PIPESTATUS[0]}"
	echo "== label"
	# ctr prints the labels in Go's random map order
	ctrt snapshots --snapshotter "$sn" label cmp-a foo=bar team=x | tr , '\n' | sort; echo "rc=${PIPESTATUS[0]}"
	ctrt snapshots --snapshotter "$sn" label cmp-a team= | tr , '\n' | sort; echo "rc=${PIPESTATUS[0]}"
	ctrt snapshots --snapshotter "$sn" info cmp-a | jq -S '.Labels'
	echo "== usage"
	ctrt snapshots --snapshotter "$sn" usage "$chain"
	ctrt snapshots --snapshotter "$sn" usage cmp-a
	echo "== rm"
	ctrt snapshots --snapshotter "$sn" rm "$chain" 2>&1 | sed "s/$sn/SN/g"; echo "rc=${PIPESTATUS[0]}"
	ctrt snapshots --snapshotter "$sn" rm cmp-a; echo "rc=$?"
	ctrt snapshots --snapshotter "$sn" rm cmp-a 2>&1 | sed "s/$sn/SN/g"; echo "rc=${PIPESTATUS[0]}"
	ctrt snapshots --snapshotter "$sn" ls | sort
}

@test "snapshotter: ctr snapshots ls/info/usage/label/rm answer as the built-in overlayfs does" {
	ctrt images import --snapshotter ctrbox "$BATS_FILE_TMPDIR/img.tar" >/dev/null
	local chain
	chain=$(chain_id)
	[[ -n $chain ]]
	# ctr's prepare adds a containerd.io/gc.root=<now> label: times are masked
	(set +e; snap_ops overlayfs "$chain") 2>&1 | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' >"$BATS_TEST_TMPDIR/overlayfs.out"
	(set +e; snap_ops ctrbox "$chain") 2>&1 | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' >"$BATS_TEST_TMPDIR/ctrbox.out"
	cat "$BATS_TEST_TMPDIR/ctrbox.out"
	diff -u "$BATS_TEST_TMPDIR/overlayfs.out" "$BATS_TEST_TMPDIR/ctrbox.out"
	# and the calls really reached ctrbox (its removals come later, from containerd's GC)
	grep -q 'prepare key=[^ ]*/cmp-a parent=[^ ]*/sha256:' "$CTRBOX_TEST_DIR/snap-ctrbox.log"
}

@test "snapshotter: restarting the snapshotter and containerd keeps every snapshot" {
	ctrt images import --snapshotter ctrbox "$BATS_FILE_TMPDIR/img.tar" >/dev/null
	ctrt snapshots --snapshotter ctrbox prepare keep-a "$(chain_id)"
	ctrt snapshots --snapshotter ctrbox label keep-a containerd.io/snapshot/ctrbox=kept >/dev/null
	local before direct
	before=$(ctrt snapshots --snapshotter ctrbox ls | sort)
	direct=$("$PROBE" "$(snap_sock ctrbox)" list | sort)
	ctrd_stop
	snap_stop ctrbox
	snap_start ctrbox overlayfs
	ctrd_start
	run ctrt snapshots --snapshotter ctrbox ls
	assert_success
	[[ $(sort <<<"$output") == "$before" ]]
	[[ $("$PROBE" "$(snap_sock ctrbox)" list | sort) == "$direct" ]]
	# the inherited label went to the backend and survived
	"$PROBE" "$(snap_sock ctrbox)" list | grep -q 'keep-a|.*containerd.io/snapshot/ctrbox=kept'
	run ctrt run --snapshotter ctrbox --rm "$TEST_IMAGE" sn-after echo hi
	assert_success
	assert_output hi
	ctrt snapshots --snapshotter ctrbox rm keep-a
}

@test "snapshotter: kill -9 at random points of a Prepare/Commit/Remove loop, 20 restarts: metadata consistent, no orphan after Cleanup" {
	local sock=$BATS_TEST_TMPDIR/crash.sock root=$BATS_TEST_TMPDIR/crash-root i pid
	priv_start crash overlayfs
	for i in $(seq 1 20); do
		"$PROBE" "$sock" churn 100000 "round$i" >/dev/null 2>&1 &
		pid=$!
		sleep "0.$((RANDOM % 30 + 2))"
		snap_stop crash KILL
		wait "$pid" || true
		snap_start crash overlayfs "$root" "$sock"
	done
	# every snapshot metadata names answers Stat, and its directory exists
	run "$PROBE" "$sock" list
	assert_success
	local -a snaps=("${lines[@]}")
	local n=${#snaps[@]} key kind line
	echo "left after 20 kills: $n snapshots; dirs: $(ls "$root/snapshots" | wc -l)"
	for line in "${snaps[@]}"; do
		key=${line%%|*}
		kind=$(cut -d'|' -f3 <<<"$line")
		"$PROBE" "$sock" stat "$key" >/dev/null
		if [[ $kind == active ]]; then
			src=$("$PROBE" "$sock" mounts "$key" | awk '{ print $2 }')
			[[ -d $src ]] || { echo "missing dir $src for $key"; false; }
		fi
	done
	run "$PROBE" "$sock" cleanup
	assert_success
	# after Cleanup, exactly one directory per snapshot
	[[ $(ls "$root/snapshots" | wc -l) -eq $n ]] || { ls -la "$root/snapshots"; false; }
	# and everything can be removed, leaving nothing
	for line in "${snaps[@]}"; do
		"$PROBE" "$sock" remove "${line%%|*}" >/dev/null
	done
	"$PROBE" "$sock" cleanup
	[[ -z $(ls "$root/snapshots") ]]
	run "$PROBE" "$sock" list
	assert_output ''
	snap_stop crash
}

@test "snapshotter: bad keys and unknown snapshots answer the right gRPC codes" {
	local sock=$BATS_TEST_TMPDIR/bad.sock root=$BATS_TEST_TMPDIR/bad-root
	priv_start bad overlayfs
	"$PROBE" "$sock" prepare base >/dev/null
	"$PROBE" "$sock" commit layer base
	"$PROBE" "$sock" prepare act layer >/dev/null
	"$PROBE" "$sock" view vw layer >/dev/null

	run "$PROBE" "$sock" prepare ''
	assert_failure 3
	run "$PROBE" "$sock" oversize 5000
	assert_failure 3
	run "$PROBE" "$sock" stat nope
	assert_failure 5
	assert_output --partial 'not found'
	run "$PROBE" "$sock" remove nope
	assert_failure 5
	run "$PROBE" "$sock" mounts nope
	assert_failure 5
	run "$PROBE" "$sock" usage nope
	assert_failure 5
	run "$PROBE" "$sock" prepare x nope-parent
	assert_failure 5
	run "$PROBE" "$sock" prepare act layer
	assert_failure 6
	assert_output --partial 'already exists'
	run "$PROBE" "$sock" commit layer act
	assert_failure 6
	run "$PROBE" "$sock" prepare y act # parent not committed
	assert_failure 3
	run "$PROBE" "$sock" mounts layer
	assert_failure 9
	run "$PROBE" "$sock" commit vw-c vw # a view cannot be committed
	assert_failure 9
	run "$PROBE" "$sock" remove layer # has children
	assert_failure 9
	assert_output --partial 'cannot remove snapshot with child'
	run "$PROBE" "$sock" update act kind
	assert_failure 3
	run "$PROBE" "$sock" list 'name=x'
	assert_failure 3
	run "$PROBE" "$sock" list 'name>x'
	assert_failure 3

	# keys are opaque: nothing reaches outside the root, directories are named by id (the
	# name is this run's: /tmp is shared, and anything may have made a /tmp/escape)
	local esc=../../../../../../tmp/escape-$CTRD_NS
	[[ ! -e ${esc#../../../../../..} ]]
	run "$PROBE" "$sock" prepare "$esc" layer
	assert_success
	[[ ! -e ${esc#../../../../../..} ]]
	[[ $output == *"upperdir=$root/snapshots/"[0-9]*"/fs"* ]]
	run "$PROBE" "$sock" prepare "sp ace/and/slashes:$(printf '\t')tab"
	assert_success
	assert_output --regexp "^bind $root/snapshots/[0-9]+/fs "
	run "$PROBE" "$sock" stat "$esc"
	assert_success
	assert_output "$esc|layer|active|"
	[[ -z $(find "$root" -name 'escape*') ]]
	pid=$(snap_pid bad)
	[[ $(stat -c %a "$root") == 700 && $(stat -c %a "$sock") == 600 ]]
	_alive "$pid"
	snap_stop bad
}

@test "snapshotter: broken HTTP/2, bad framing, oversized messages and unknown methods; the server keeps serving" {
	local sock=$BATS_TEST_TMPDIR/grpc.sock S=/containerd.services.snapshots.v1.Snapshots
	priv_start grpc overlayfs
	local pid fds0
	pid=$(snap_pid grpc)
	"$PROBE" "$sock" stat warmup >/dev/null || true
	fds0=$(ls /proc/"$pid"/fd | wc -l)

	run "$PROBE" "$sock" garbage
	assert_success
	assert_output --partial closed
	run "$PROBE" "$sock" oversize 17000000
	assert_failure 8
	assert_output --partial 'grpc: received message larger than max (17000013 vs. 16777216)'
	run "$PROBE" "$sock" call "$S/Nope" ''
	assert_failure 12
	assert_output --partial "unknown method Nope for service containerd.services.snapshots.v1.Snapshots"
	run "$PROBE" "$sock" call /containerd.services.nothing.v1.X/Y ''
	assert_failure 12
	assert_output --partial 'unknown service containerd.services.nothing.v1.X'
	run "$PROBE" "$sock" call /nonsense ''
	assert_failure 12
	assert_output --partial 'malformed method name'
	run "$PROBE" "$sock" framed "$S/Stat" 0100000000 # compressed flag, no encoding
	assert_failure 13
	run "$PROBE" "$sock" framed "$S/Stat" 0000000010aa # says 16 bytes, sends 1
	assert_failure 13
	assert_output --partial truncated
	run "$PROBE" "$sock" call "$S/Stat" ffffffff # not protobuf
	assert_failure 13
	assert_output --partial 'error unmarshalling request'
	run "$PROBE" "$sock" framed "$S/Stat" '' # no message at all
	assert_failure 13
	# many concurrent streams on one connection, all answered
	run "$PROBE" "$sock" concurrent 500
	assert_success
	assert_output 'NotFound 500'
	# still serving, same fd count, one process
	run "$PROBE" "$sock" prepare still-ok
	assert_success
	_alive "$pid"
	wait_for 5 eval '[[ $(ls /proc/'"$pid"'/fd | wc -l) -eq '"$fds0"' ]]' ||
		fail "fds: $fds0 before, now: $(ls -l /proc/"$pid"/fd | tail -n +2 | awk '{ print $NF }' | tr '\n' ' ')"
	snap_stop grpc
}

@test "snapshotter: Update labels (mask paths) and List filters as containerd's filter language" {
	local sock=$BATS_TEST_TMPDIR/lab.sock
	priv_start lab overlayfs
	"$PROBE" "$sock" label l1 containerd.io/snapshot.ref=sha256:aaa team=blue >/dev/null
	"$PROBE" "$sock" label l2 team=red >/dev/null
	"$PROBE" "$sock" commit c1 l2
	run "$PROBE" "$sock" update l1 labels.team -- team=green extra=ignored
	assert_success
	assert_output 'l1||active|containerd.io/snapshot.ref=sha256:aaa,team=green'
	run "$PROBE" "$sock" update l1 labels.team --
	assert_output 'l1||active|containerd.io/snapshot.ref=sha256:aaa'
	run "$PROBE" "$sock" update c1 -- only=this
	assert_output 'c1||committed|only=this'
	run "$PROBE" "$sock" list 'labels."containerd.io/snapshot.ref"==sha256:aaa'
	assert_output 'l1||active|containerd.io/snapshot.ref=sha256:aaa'
	run "$PROBE" "$sock" list 'kind==committed' 'name==l1'
	assert_line 'c1||committed|only=this'
	assert_line --partial 'l1||active|'
	[[ ${#lines[@]} -eq 2 ]]
	run "$PROBE" "$sock" list 'labels.only,name~=^c'
	assert_output 'c1||committed|only=this'
	run "$PROBE" "$sock" list 'name!=c1'
	assert_output --partial 'l1||active'
	refute_output --partial 'c1|'
	snap_stop lab
}

@test "snapshotter: List streams large sets in batches" {
	local sock=$BATS_TEST_TMPDIR/many.sock i
	priv_start many overlayfs
	for i in $(seq 1 250); do
		printf '%s\n' "k$i"
	done | xargs -P 4 -I{} "$PROBE" "$sock" prepare {} >/dev/null
	run "$PROBE" "$sock" listn
	assert_success
	[[ ${#lines[@]} -eq 251 ]] # 250 + "list: N message(s)"
	assert_output --partial 'list: 3 message(s)'
	snap_stop many
}

@test "snapshotter: native backend: Prepare copies the parent's tree (modes, owners, links, xattrs)" {
	local sock=$BATS_TEST_TMPDIR/nat.sock src dst
	priv_start nat native
	src=$("$PROBE" "$sock" prepare base | awk '{ print $2 }')
	[[ -d $src ]]
	mkdir -p "$src/d/e"
	echo hello >"$src/d/file"
	chown 123:456 "$src/d/file"
	chmod 4750 "$src/d/file"
	ln -s ../d/file "$src/d/e/link"
	ln "$src/d/file" "$src/d/hard"
	mkfifo "$src/d/fifo"
	setfattr -n user.ctrbox -v yes "$src/d/file" 2>/dev/null || true
	"$PROBE" "$sock" commit layer base
	run "$PROBE" "$sock" prepare child layer
	assert_success
	assert_output --regexp '^bind .*/snapshots/[0-9]+/fs rbind,rw$'
	dst=$(awk '{ print $2 }' <<<"$output")
	[[ $dst != "$src" ]]
	[[ $(cat "$dst/d/file") == hello ]]
	[[ $(stat -c '%a %u %g' "$dst/d/file") == '4750 123 456' ]]
	[[ $(readlink "$dst/d/e/link") == ../d/file ]]
	[[ -p $dst/d/fifo ]]
	[[ $(stat -c %i "$dst/d/file") == $(stat -c %i "$dst/d/hard") ]]
	if command -v getfattr >/dev/null && getfattr -n user.ctrbox "$src/d/file" >/dev/null 2>&1; then
		[[ $(getfattr --only-values -n user.ctrbox "$dst/d/file") == yes ]]
	fi
	# the child's writes do not reach the parent
	echo changed >"$dst/d/file"
	[[ $(cat "$src/d/file") == hello ]]
	run "$PROBE" "$sock" view v layer
	assert_output --regexp '^bind .* rbind,ro$'
	snap_stop nat
}

@test "snapshotter: bad flags and a busy socket give clear errors" {
	run "$SHIMDIR/ctrbox-snapshotter" --root relative --address "$BATS_TEST_TMPDIR/x.sock"
	assert_failure 2
	assert_output --partial 'absolute'
	run "$SHIMDIR/ctrbox-snapshotter" --root "$BATS_TEST_TMPDIR/r"
	assert_failure 2
	assert_output --partial 'required'
	run "$SHIMDIR/ctrbox-snapshotter" --root "$BATS_TEST_TMPDIR/r" --address "$BATS_TEST_TMPDIR/x.sock" --backend zfs
	assert_failure 2
	assert_output --partial 'unknown backend'
	run "$SHIMDIR/ctrbox-snapshotter" --root "$BATS_TEST_TMPDIR/r" --address "$(snap_sock ctrbox)"
	assert_failure 1
	assert_output --partial 'another server is listening'
	# the running one was not disturbed
	run "$PROBE" "$(snap_sock ctrbox)" stat nope
	assert_failure 5
}
