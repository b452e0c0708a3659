#!/usr/bin/env bats
# containerd 2.x's side of the shim contract, next to 1.6's: -info (RuntimeInfo with runc's
# features), the start answer (version 3 JSON and the v3 Task service under 2.x, the bare
# address and the address file under 1.6), containerd 2.3's BootstrapParams on stdin,
# SCHED_CORE, and a missing runc binary named as the Go shim names it. Compared with the Go
# 2.x shim wherever it can run: build/containerd2's, whatever CTRBOX_CONTAINERD is.

load helpers

GO2_SHIM=$REPO/build/containerd2/containerd/usr/bin/containerd-shim-runc-v2
RUNC_SHIM=containerd-shim-runc-v2

setup() {
	ctrd_log_mark
}

teardown() {
	local pid b
	for pid in $(pgrep -f "(^|/)$RUNC_SHIM -namespace $CTRD_NS -id c2-" || true); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	sk_cleanup # the log readers, and sockets named in address files
	for b in "$BATS_TEST_TMPDIR"/bundle-*/sock; do
		[[ -f $b ]] && rm -f "$(cat "$b")"
	done
	[[ -n ${SOCKDIR:-} ]] && rm -rf "$SOCKDIR"
	[[ -n ${CG:-} ]] && for d in /sys/fs/cgroup/*/"$CG" /sys/fs/cgroup/"$CG"; do
		[[ -d $d ]] && rmdir "$d" 2>/dev/null
	done
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		dump_ctrd_log 30
		ctrd_clean_ns 10
	fi
	return 0
}

need_go2() {
	[[ -x $GO2_SHIM ]] || skip "no Go 2.x shim to compare with: run make containerd2"
}

need_2x() {
	[[ $CTRBOX_CONTAINERD == 2.* ]] || skip "containerd $CTRBOX_CONTAINERD: 2.x only (CTRBOX_CONTAINERD=2.1)"
}

# pb: protobuf encoding for the tests, from a tiny expression language on the command line:
#   s:N:TEXT  (field N, a string)   v:N:INT  (field N, a varint)
#   m:N:[ ... ]  (field N, an embedded message of the items between the brackets)
# Writes the bytes on stdout.
pb() {
	perl -e '
		sub vi { my $n = shift; my $o = ""; while ($n >= 0x80) { $o .= chr(($n & 0x7f) | 0x80); $n >>= 7 } $o . chr($n) }
		sub enc {
			my ($items, $i) = @_; my $out = "";
			while ($$i < @$items) {
				my $t = $items->[$$i++];
				return $out if $t eq "]";
				my ($k, $n, $v) = split /:/, $t, 3;
				if ($k eq "s") { $out .= vi($n << 3 | 2) . vi(length $v) . $v }
				elsif ($k eq "v") { $out .= vi($n << 3) . vi($v) }
				elsif ($k eq "m") { my $b = enc($items, $i); $out .= vi($n << 3 | 2) . vi(length $b) . $b }
				else { die "pb: bad item $t\n" }
			}
			$out;
		}
		my $i = 0; binmode STDOUT; print enc([@ARGV], \$i);
	' -- "$@"
}

# without_version FILE: a RuntimeInfo with its field 2 (the shim's own version) removed, in hex.
without_version() {
	perl -e '
		local $/; open my $f, "<", $ARGV[0] or die; binmode $f; my $b = <$f>; my $o = "";
		sub rv { my $n = 0; my $s = 0; while (1) { my $c = ord substr($b, 0, 1, ""); $n |= ($c & 0x7f) << $s; $s += 7; last if $c < 0x80 } $n }
		while (length $b) {
			my $start = $b; my $key = rv(); my $len = rv(); my $hdr = length($start) - length($b);
			my $field = substr($start, 0, $hdr + $len); substr($b, 0, $len, "");
			$o .= $field unless ($key >> 3) == 2;
		}
		print unpack("H*", $o), "\n";
	' "$1"
}

# c2_bundle ID: sk_bundle's bundle (a log fifo read by cat) plus an empty spec (the Go shim's
# start reads config.json for the group labels). Prints the dir.
c2_bundle() {
	local b
	b=$(sk_bundle "$1")
	echo '{}' >"$b/config.json"
	echo "$b"
}

# c2_start ID [ENV=VALUE...]: the start action of ctrbox's runc shim in ID's bundle, stdin from
# $BATS_TEST_TMPDIR/stdin-ID if it exists, with the environment additions given.
c2_start() {
	local id=$1 in=/dev/null
	shift
	[[ -e $BATS_TEST_TMPDIR/stdin-$id ]] && in=$BATS_TEST_TMPDIR/stdin-$id
	(cd "$BATS_TEST_TMPDIR/bundle-$id" && exec env TTRPC_ADDRESS="$CTRD_TTRPC" "$@" \
		"$SHIMDIR/$RUNC_SHIM" -namespace "$CTRD_NS" -address "$CTRD_SOCK" \
		-publish-binary /usr/bin/containerd -id "$id" start <"$in")
}

# c2_hash ID: the socket file name containerd (and both shims) derive for ID.
c2_hash() {
	printf '%s' "$CTRD_SOCK/$CTRD_NS/$1" | sha256sum | cut -c1-64
}

# c2_pid ID: the ctrbox daemon serving ID.
c2_pid() {
	pgrep -f "(^|/)$RUNC_SHIM -namespace $CTRD_NS -id $1 " | head -1
}

# ttrpc_call SOCK SERVICE METHOD HEXPAYLOAD: one TTRPC request; prints "ok HEX" or
# "status CODE MESSAGE".
ttrpc_call() {
	perl -MIO::Socket::UNIX -MSocket -e '
		my ($path, $svc, $m, $hex) = @ARGV;
		sub vi { my $n = shift; my $o = ""; while ($n >= 0x80) { $o .= chr(($n & 0x7f) | 0x80); $n >>= 7 } $o . chr($n) }
		sub str { my ($f, $s) = @_; vi($f << 3 | 2) . vi(length $s) . $s }
		my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path) or die "connect $path: $!\n";
		my $b = str(1, $svc) . str(2, $m) . str(3, pack("H*", $hex));
		syswrite($s, pack("NNCC", length $b, 1, 1, 0) . $b) or die "write: $!\n";
		my $buf = "";
		while (length $buf < 10 || length $buf < 10 + unpack("N", $buf)) {
			sysread($s, $buf, 65536, length $buf) or die "eof\n";
		}
		my $len = unpack("N", $buf); my $p = substr($buf, 10, $len);
		# Response: status = 1 (code = 1, message = 2), payload = 2
		my ($code, $msg, $payload) = (0, "", "");
		sub rv { my $r = shift; my ($n, $sh) = (0, 0); while (1) { my $c = ord substr($$r, 0, 1, ""); $n |= ($c & 0x7f) << $sh; $sh += 7; last if $c < 0x80 } $n }
		while (length $p) {
			my $k = rv(\$p); my $v = substr($p, 0, rv(\$p), "");
			if (($k >> 3) == 1) {
				while (length $v) {
					my $k2 = rv(\$v);
					if (($k2 & 7) == 0) { $code = rv(\$v) }
					else { $msg = substr($v, 0, rv(\$v), "") }
				}
			} elsif (($k >> 3) == 2) { $payload = $v }
		}
		print $code ? "status $code $msg\n" : "ok " . unpack("H*", $payload) . "\n";
	' "$@"
}

@test "-info: the Go 2.x shim's RuntimeInfo byte for byte, but for the version" {
	need_go2
	local d=$BATS_TEST_TMPDIR i rg rc
	# no options; options (fields out of order: both re-encode them); a missing binary; a
	# foreign type; bytes that are no protobuf
	: >"$d/in0"
	pb s:1:containerd.runc.v1.Options m:2:[ s:7:/run/x s:6:runc v:9:1 v:4:1000 s:12:/run/t.sock v:13:3 ] >"$d/in1"
	pb s:1:containerd.runc.v1.Options m:2:[ s:6:no-runc ] >"$d/in2"
	pb s:1:foo.Bar s:2:x >"$d/in3"
	printf '\377\377\377' >"$d/in4"
	for i in 0 1 2 3 4; do
		rg=0 rc=0
		"$GO2_SHIM" -info <"$d/in$i" >"$d/go$i" 2>"$d/go$i.err" || rg=$?
		"$SHIMDIR/$RUNC_SHIM" -info <"$d/in$i" >"$d/cb$i" 2>"$d/cb$i.err" || rc=$?
		[[ $rg == "$rc" ]] || fail "input $i: exit $rc, the Go shim's $rg ($(cat "$d/go$i.err"))"
		# Go's protobuf module words its errors with a space or a U+00A0 after "proto:",
		# chosen per build on purpose (so nobody matches them): compare with spaces.
		diff <(sed 's/\xc2\xa0/ /g' "$d/go$i.err") "$d/cb$i.err" || fail "input $i: stderr differs"
		if ((rg == 0)); then
			[[ $(without_version "$d/go$i") == "$(without_version "$d/cb$i")" ]] ||
				fail "input $i: RuntimeInfo differs: $(without_version "$d/go$i") vs $(without_version "$d/cb$i")"
		fi
	done
	# and it says what it is: the runtime name first, runc's features in it
	grep -q 'io.containerd.runc.v2' "$d/cb0"
	grep -q 'runtime-spec/1/features/Features' "$d/cb0"
	grep -q '"ociVersionMax"' "$d/cb0"
	grep -q 'no-runc' "$d/cb2.err"
}

@test "ctr plugins inspect-runtime prints the same with both shims (containerd 2.x)" {
	need_2x
	local norm='s/"(Version|Revision)": "[^"]*"/"\1": "-"/'
	# (with --runtime PATH ctr sends no runtime options: --runc-binary is refused)
	run ctrt plugins inspect-runtime --runtime "$SHIMDIR/$RUNC_SHIM"
	assert_success
	local cb=$output
	run ctrt plugins inspect-runtime --runtime "$GO_SHIM"
	assert_success
	[[ $(sed -E "$norm" <<<"$cb") == "$(sed -E "$norm" <<<"$output")" ]] ||
		fail "ctrbox: $cb
Go shim: $output"
	[[ $cb == *'"Name": "io.containerd.runc.v2"'* && $cb == *ociVersionMax* ]]
}

@test "start: the version 3 JSON answer and no address file under 2.x; the bare address and the file under 1.6" {
	local b h out
	b=$(c2_bundle c2-json)
	h=$(c2_hash c2-json)
	echo "/run/containerd/s/$h" >"$b/sock"
	run c2_start c2-json MAX_SHIM_VERSION=2
	assert_success
	assert_output "{\"version\":3,\"address\":\"unix:///run/containerd/s/$h\",\"protocol\":\"ttrpc\"}"
	[[ ! -e $b/address ]] || fail "an address file under containerd 2.x: $(cat "$b/address")"
	# the same answer when the group's shim runs already
	run c2_start c2-json MAX_SHIM_VERSION=2
	assert_output "{\"version\":3,\"address\":\"unix:///run/containerd/s/$h\",\"protocol\":\"ttrpc\"}"
	# the Go 2.x shim answers exactly so (its own daemon, killed at once)
	if [[ -x $GO2_SHIM ]]; then
		local g hg
		g=$(c2_bundle c2-gojson)
		hg=$(c2_hash c2-gojson)
		echo "/run/containerd/s/$hg" >"$g/sock"
		out=$(cd "$g" && MAX_SHIM_VERSION=2 TTRPC_ADDRESS=$CTRD_TTRPC "$GO2_SHIM" -namespace "$CTRD_NS" \
			-address "$CTRD_SOCK" -publish-binary /usr/bin/containerd -id c2-gojson start </dev/null)
		pkill -KILL -f "$GO2_SHIM -namespace $CTRD_NS -id c2-gojson " || true
		[[ $out == "{\"version\":3,\"address\":\"unix:///run/containerd/s/$hg\",\"protocol\":\"ttrpc\"}" ]] ||
			fail "the Go 2.x shim answered: $out"
		[[ ! -e $g/address ]]
	fi

	b=$(c2_bundle c2-plain)
	h=$(c2_hash c2-plain)
	echo "/run/containerd/s/$h" >"$b/sock"
	run c2_start c2-plain
	assert_success
	assert_output "unix:///run/containerd/s/$h"
	[[ $(cat "$b/address") == "unix:///run/containerd/s/$h" ]]
}

@test "the Task service answers as containerd.task.v2.Task and as containerd.task.v3.Task" {
	local b h sock
	b=$(c2_bundle c2-v3)
	h=$(c2_hash c2-v3)
	sock=/run/containerd/s/$h
	echo "$sock" >"$b/sock"
	c2_start c2-v3 MAX_SHIM_VERSION=2 >/dev/null
	# Connect (id = 1) for a task that does not exist: the same "not found" under both names
	local req
	req=$(pb s:1:c2-v3 | od -An -tx1 | tr -d ' \n')
	run ttrpc_call "$sock" containerd.task.v3.Task State "$req"
	assert_output --partial "status 5 "
	local v3=$output
	run ttrpc_call "$sock" containerd.task.v2.Task State "$req"
	assert_output "$v3"
	run ttrpc_call "$sock" containerd.task.v3.Task Connect "$req"
	assert_output --regexp '^ok '
	run ttrpc_call "$sock" containerd.task.v4.Task State "$req"
	assert_output "status 12 service containerd.task.v4.Task"
	# Shutdown through v3 ends the daemon
	local pid
	pid=$(c2_pid c2-v3)
	[[ -n $pid ]]
	run ttrpc_call "$sock" containerd.task.v3.Task Shutdown "$req"
	assert_output --regexp '^ok '
	wait_for 10 bash -c "! kill -0 $pid 2>/dev/null"
}

@test "start reads containerd 2.3's BootstrapParams: options from its extension, its socket_dir" {
	[[ -d /sys/fs/cgroup/memory || -e /sys/fs/cgroup/cgroup.controllers ]] || skip "no memory cgroup"
	local b pid sockdir
	CG=ctrbox-bp-$$-$RANDOM
	if [[ -e /sys/fs/cgroup/cgroup.controllers ]]; then
		mkdir /sys/fs/cgroup/"$CG"
	else
		mkdir /sys/fs/cgroup/memory/"$CG"
	fi
	SOCKDIR=$(mktemp -d /tmp/c2s.XXXXXX)
	rmdir "$SOCKDIR" # start makes it, owner-only
	b=$(c2_bundle c2-bp)
	echo "$SOCKDIR/$(c2_hash c2-bp)" >"$b/sock"
	# instance_id, namespace, log_level, versions and addresses, a CRI extension the shim
	# ignores, the runtime options extension, socket_dir
	pb s:1:c2-bp s:2:"$CTRD_NS" v:3:2 s:4:2.3.0 s:5:"$CTRD_TTRPC" s:6:"$CTRD_SOCK" \
		s:7:/usr/bin/containerd \
		m:8:[ m:1:[ s:1:containerd.io/cri.v1.PodSandboxConfig s:2:xyz ] ] \
		m:8:[ m:1:[ s:1:containerd.runc.v1.Options m:2:[ s:3:/"$CG" ] ] ] \
		s:9:"$SOCKDIR" >"$BATS_TEST_TMPDIR/stdin-c2-bp"
	run c2_start c2-bp MAX_SHIM_VERSION=2
	assert_success
	assert_output "{\"version\":3,\"address\":\"unix://$SOCKDIR/$(c2_hash c2-bp)\",\"protocol\":\"ttrpc\"}"
	[[ -S $SOCKDIR/$(c2_hash c2-bp) ]]
	[[ $(stat -c %a "$SOCKDIR") == 700 && $(stat -c %a "$SOCKDIR/$(c2_hash c2-bp)") == 600 ]]
	pid=$(c2_pid c2-bp)
	[[ -n $pid ]]
	grep -q ":/$CG\$" "/proc/$pid/cgroup" || fail "daemon $pid not in /$CG: $(cat "/proc/$pid/cgroup")"
	kill -KILL "$pid"

	# the bare Any of containerd up to 2.2 still works (a bare Any decodes as BootstrapParams
	# too: its type URL and value are not this shim's id and namespace)
	b=$(c2_bundle c2-any)
	echo "/run/containerd/s/$(c2_hash c2-any)" >"$b/sock"
	pb s:1:containerd.runc.v1.Options m:2:[ s:3:/"$CG" ] >"$BATS_TEST_TMPDIR/stdin-c2-any"
	run c2_start c2-any
	assert_success
	pid=$(c2_pid c2-any)
	grep -q ":/$CG\$" "/proc/$pid/cgroup" || fail "daemon $pid not in /$CG: $(cat "/proc/$pid/cgroup")"
	kill -KILL "$pid"

	# a socket_dir that is not a clean absolute path is refused
	b=$(c2_bundle c2-bad)
	pb s:1:c2-bad s:2:"$CTRD_NS" s:9:"/tmp/../etc" >"$BATS_TEST_TMPDIR/stdin-c2-bad"
	run c2_start c2-bad MAX_SHIM_VERSION=2
	assert_failure
	assert_output "io.containerd.runc.v2: invalid socket directory /tmp/../etc"
}

@test "SCHED_CORE=1: a core-scheduling domain for the daemon, or start fails as the Go shim's does" {
	local b pid cookie mine h
	b=$(c2_bundle c2-sc)
	h=$(c2_hash c2-sc)
	echo "/run/containerd/s/$h" >"$b/sock"
	if ! mine=$("$REPO/build/tools/schedcore" self 2>&1); then
		# This kernel has no core scheduling (prctl says EINVAL, or ENODEV without SMT): start
		# fails with the Go shim's words and leaves no socket behind.
		echo "# no core scheduling here: $mine" >&3
		run c2_start c2-sc SCHED_CORE=1 MAX_SHIM_VERSION=2
		assert_failure
		assert_output --regexp '^io.containerd.runc.v2: enable sched core support: (invalid argument|no such device)$'
		local cb=$output
		[[ ! -e /run/containerd/s/$h ]]
		[[ -z $(c2_pid c2-sc) ]]
		if [[ -x $GO2_SHIM ]]; then
			run bash -c "cd '$b' && SCHED_CORE=1 MAX_SHIM_VERSION=2 '$GO2_SHIM' -namespace '$CTRD_NS' \
				-address '$CTRD_SOCK' -id c2-sc start </dev/null"
			assert_failure
			assert_output "$cb"
		fi
		return 0
	fi
	run c2_start c2-sc SCHED_CORE=1
	assert_success
	pid=$(c2_pid c2-sc)
	[[ -n $pid ]]
	cookie=$("$REPO/build/tools/schedcore" "$pid")
	[[ $cookie != 0 && $cookie != "$mine" ]] || fail "daemon cookie $cookie, ours $mine"
	kill -KILL "$pid"
	# without it: the cookie of whoever started it
	b=$(c2_bundle c2-nosc)
	echo "/run/containerd/s/$(c2_hash c2-nosc)" >"$b/sock"
	c2_start c2-nosc >/dev/null
	pid=$(c2_pid c2-nosc)
	[[ $("$REPO/build/tools/schedcore" "$pid") == "$mine" ]]
}

@test "a runc binary that is not there is named, as the Go shim names it" {
	# ctr refuses --runc-binary with --runtime PATH, so the Go shim cannot run this through
	# ctr here (containerd's own TestContainerRuntimeOptionsv2 compares both, make
	# conformance): the text is the Go shim's runtimeError over go-runc's exec error, with
	# log.json not written yet by a runc that never ran.
	local bundle=$CTRD_STATE/io.containerd.runtime.v2.task/$CTRD_NS/c2-norunc code=': unknown'
	[[ $CTRBOX_CONTAINERD == 2.* ]] && code='' # 2.x's ctr prints no code class
	run ctrt run --rm --runc-binary no-runc "$TEST_IMAGE" c2-norunc true
	assert_failure
	assert_output "ctr: failed to create shim task: OCI runtime create failed: unable to retrieve OCI runtime error (open $bundle/log.json: no such file or directory): exec: \"no-runc\": executable file not found in \$PATH$code"
	ctrt c rm c2-norunc 2>/dev/null || true
	# a path (no $PATH lookup in go-runc's exec.Command then): fork/exec's error
	run ctrt run --rm --runc-binary /nonexistent/runc "$TEST_IMAGE" c2-norunc2 true
	assert_failure
	assert_output --partial "): fork/exec /nonexistent/runc: no such file or directory$code"
	ctrt c rm c2-norunc2 2>/dev/null || true
}

@test "containerd 2.x takes the version 3 answer: bootstrap.json says so, and the task runs on it" {
	need_2x
	local b
	ctrt run -d "$TEST_IMAGE" c2-boot sleep 300
	b=$(bundle_dir c2-boot)
	run cat "$b/bootstrap.json"
	assert_output --regexp '^\{"version":3,"address":"unix:///run/containerd/s/[0-9a-f]{64}","protocol":"ttrpc"\}$'
	[[ ! -e $b/address ]]
	ctrd_log | grep 'connecting to shim c2-boot' >"$BATS_TEST_TMPDIR/connect.log" || true
	echo "# $(cat "$BATS_TEST_TMPDIR/connect.log")" >&3
	grep -q 'version=3' "$BATS_TEST_TMPDIR/connect.log" || fail "containerd: $(cat "$BATS_TEST_TMPDIR/connect.log")"
	run ctrt t exec --exec-id e1 c2-boot echo via-v3
	assert_output via-v3
	ctrt t kill -s KILL c2-boot
	wait_for 10 task_is c2-boot STOPPED
	ctrt t rm c2-boot
	ctrt c rm c2-boot
}

# state_status HEX: the status field (4) of a StateResponse given in hex: 1 created, 2 running,
# 3 stopped.
state_status() {
	perl -e '
		my $b = pack("H*", $ARGV[0]);
		sub rv { my $n = 0; my $s = 0; while (1) { my $c = ord substr($b, 0, 1, ""); $n |= ($c & 0x7f) << $s; $s += 7; last if $c < 0x80 } $n }
		my $st = 0;
		while (length $b) {
			my $k = rv(); my $t = $k & 7;
			if ($t == 0) { my $v = rv(); $st = $v if ($k >> 3) == 4 }
			elsif ($t == 2) { my $l = rv(); substr($b, 0, $l, "") }
			else { die "wire type $t\n" }
		}
		print "$st\n";
	' "$1"
}

@test "an exec whose runc exec fails stays created and its Wait returns, as with the Go shim" {
	# TestIssue10589's check, over TTRPC: ctr would delete the exec after its failed start.
	# The Go 2.x shim serves containerd.task.v3.Task only; ctrbox both names.
	local shim rt id sock req add out svc=containerd.task.v2.Task
	[[ $CTRBOX_CONTAINERD == 2.* ]] && svc=containerd.task.v3.Task
	for shim in ctrbox go; do
		id=c2-xfail-$shim
		rt=()
		[[ $shim == go ]] && rt=(--runtime "$GO_SHIM")
		ctrt run -d "${rt[@]}" "$TEST_IMAGE" "$id" sleep 300
		sock=/run/containerd/s/$(c2_hash "$id")
		req=$(pb s:1:"$id" s:2:bad | od -An -tx1 | tr -d ' \n')
		add=$(pb s:1:"$id" s:2:bad \
			m:7:[ s:1:types.containerd.io/opencontainers/runtime-spec/1/Process \
			s:2:'{"args":["/nonexistent-binary"],"cwd":"/"}' ] | od -An -tx1 | tr -d ' \n')
		run ttrpc_call "$sock" "$svc" Exec "$add"
		assert_output --regexp '^ok '
		run ttrpc_call "$sock" "$svc" Start "$req"
		assert_output --regexp '^status 2 OCI runtime exec failed: '
		run ttrpc_call "$sock" "$svc" State "$req"
		assert_output --regexp '^ok '
		out=$(state_status "${output#ok }")
		[[ $out == 1 ]] || fail "$shim: the failed exec's status is $out, not created (1)"
		run timeout 10 bash -c "$(declare -f ttrpc_call); ttrpc_call '$sock' $svc Wait '$req'"
		assert_output --regexp '^ok '
		run ttrpc_call "$sock" "$svc" Delete "$req"
		assert_output --regexp '^ok '
		ctrt t kill -s KILL "$id"
		wait_for 10 task_is "$id" STOPPED
		ctrt t rm "$id"
		ctrt c rm "$id"
	done
}
