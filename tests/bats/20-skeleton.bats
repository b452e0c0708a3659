#!/usr/bin/env bats
# The skeleton shim on lib/shim: start -> connect -> shutdown against a real containerd's
# socket and TTRPC address, the delete action, signals, and a real `ctr run` through it.

load helpers

setup() {
	ctrd_log_mark
}

teardown() {
	sk_cleanup
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		dump_ctrd_log 30
		ctrd_clean_ns 10 # a failed test's container must not fail a later leak check
	fi
	return 0
}

# late_reader ADDR N: one connection sends N State requests (each answered Unimplemented, with
# no log line) and a Shutdown, reads nothing until the daemon has unlinked its socket (it has
# left its loop then), then reads to EOF. Prints "replies=<count> shutdown=answered|lost".
late_reader() {
	perl -MIO::Socket::UNIX -MSocket -e '
		my ($path, $n) = @ARGV;
		$path =~ s{^unix://}{};
		sub str { my ($f, $s) = @_; chr($f << 3 | 2) . chr(length $s) . $s } # < 128 bytes
		sub req { # a TTRPC request frame: length, stream id, type 1, flags 0, Request
			my ($sid, $m) = @_;
			my $b = str(1, "containerd.task.v2.Task") . str(2, $m) . str(3, str(1, "x"));
			pack("NNCC", length $b, $sid, 1, 0) . $b;
		}
		my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $path) or die "connect $path: $!\n";
		my $out = join "", map { req(2 * $_ - 1, "State") } 1 .. $n;
		my $shut = 2 * $n + 1;
		$out .= req($shut, "Shutdown");
		while (length $out) {
			my $w = syswrite($s, $out) // die "write: $!\n";
			substr($out, 0, $w) = "";
		}
		for (1 .. 3000) { last unless -e $path; select(undef, undef, undef, 0.01) }
		die "the daemon still serves $path\n" if -e $path;
		my ($buf, %got) = ("");
		while (sysread($s, $buf, 65536, length $buf)) {
			while (length $buf >= 10) {
				my ($len, $id) = unpack("NN", $buf);
				last if length $buf < 10 + $len;
				$got{$id} = 1;
				substr($buf, 0, 10 + $len) = "";
			}
		}
		printf "replies=%d shutdown=%s\n", scalar keys %got, $got{$shut} ? "answered" : "lost";
	' "$1" "$2"
}

@test "start prints only the address, derived as containerd derives it, and writes ./address" {
	local b addr
	b=$(sk_bundle sk1)
	run sk_start sk1
	assert_success
	addr=$(sk_address sk1)
	assert_output "$addr" # nothing else on stdout/stderr, no newline needed
	[[ $(cat "$b/address") == "$addr" ]]
	[[ $(stat -c %a "${addr#unix://}") == 600 ]]
	[[ -S ${addr#unix://} ]]
}

@test "the socket dir is root's and owner-only, and start leaves an existing one's mode alone" {
	local d=/run/containerd/s before='' mode
	# Whoever came first made the dir (Go's shim: 0600, ctrbox: 0700, or an earlier run): check
	# properties, never an exact mode. Both work for root; ctrbox never loosens it.
	[[ -d $d ]] && before=$(stat -c '%i %a' "$d")
	sk_bundle sk1m >/dev/null
	sk_start sk1m >/dev/null
	[[ -d $d && ! -L $d && $(stat -c %u "$d") == 0 ]]
	mode=$(stat -c %a "$d")
	((!(8#$mode & 8#077))) || fail "$d is mode $mode: group or other bits"
	# the same inode as before start (not removed and remade meanwhile): the same mode
	[[ -z $before || ${before% *} != $(stat -c %i "$d") || ${before#* } == "$mode" ]] ||
		fail "start changed $d from mode ${before#* } to $mode"
}

@test "start creates a missing socket dir owner-only, whatever the umask (in a mount namespace of its own)" {
	local b
	b=$(sk_bundle sk1n)
	# a tmpfs over /run/containerd in a private mount namespace: /run/containerd/s is missing
	# there, whatever the host has; the daemon stays in that namespace (sk_cleanup kills it)
	run unshare -m --propagation private sh -c 'mount -t tmpfs -o mode=0755 tmpfs /run/containerd &&
		[ ! -e /run/containerd/s ] && cd "$1" && umask 000 &&
		TTRPC_ADDRESS=$2 "$3" -namespace "$4" -address "$5" -id sk1n start </dev/null >/dev/null &&
		stat -c "%u %F %a" /run/containerd/s' sh "$b" "$CTRD_TTRPC" "$SHIMDIR/$SKELETON" "$CTRD_NS" "$CTRD_SOCK"
	assert_success
	assert_output "0 directory 700"
	[[ -n $(sk_pids sk1n) ]]
}

@test "the daemon: own session and process group, fd 3 the listener, stdio /dev/null, oom +1" {
	local b pid stat
	b=$(sk_bundle sk2)
	sk_start sk2 >/dev/null
	pid=$(sk_pids sk2)
	[[ -n $pid && $(wc -w <<<"$pid") -eq 1 ]]
	read -r -a stat <"/proc/$pid/stat"
	[[ ${stat[4]} == "$pid" && ${stat[5]} == "$pid" ]] # pgrp and session are its own pid
	[[ $(readlink "/proc/$pid/fd/0") == /dev/null ]]
	[[ $(readlink "/proc/$pid/fd/1") == /dev/null ]]
	[[ $(readlink "/proc/$pid/fd/2") == "$b/log" ]]
	[[ $(readlink "/proc/$pid/fd/3") == socket:* ]]
	[[ $(readlink "/proc/$pid/cwd") == "$b" ]]
	local want=$(($(cat /proc/self/oom_score_adj) + 1))
	((want > 1000)) && want=1000
	[[ $(cat "/proc/$pid/oom_score_adj") == "$want" ]]
	tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "TTRPC_ADDRESS=$CTRD_TTRPC"
}

@test "skeleton flow: start, shim-proto-connect (Connect, Shutdown), the shim exits and cleans up" {
	local b pid addr
	b=$(sk_bundle sk3)
	addr=$(sk_start sk3)
	pid=$(sk_pids sk3)
	run "$SHIMDIR/shim-proto-connect" "$addr" sk3
	assert_success
	assert_line --index 0 "Connecting to $addr..."
	assert_line --index 1 'Sending `Connect` request...'
	assert_line --index 2 "Connect response: shim_pid: $pid version: \"example\""
	assert_line --index 3 'Sending `Shutdown` request...'
	assert_line --index 4 'Shutdown response: ""'
	wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
	[[ ! -e ${addr#unix://} ]]
	# log lines in containerd's key=value format, on the bundle's log fifo
	wait_for 5 grep -q 'msg="shim exited"' "$b/log.txt"
	local ts='time="[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}(Z|[+-][0-9]{2}:[0-9]{2})"'
	local tail="namespace=$CTRD_NS pid=$pid runtime=io.containerd.skeleton.v1"
	grep -Eq "^$ts level=info msg=\"Connect request\" $tail\$" "$b/log.txt"
	grep -Eq "^$ts level=info msg=\"Shutdown request\" $tail\$" "$b/log.txt"
}

@test "a second start for a running shim returns its address and starts nothing" {
	local b addr pid
	b=$(sk_bundle sk4)
	addr=$(sk_start sk4)
	pid=$(sk_pids sk4)
	run sk_start sk4
	assert_success
	assert_output "$addr"
	[[ $(sk_pids sk4) == "$pid" ]]
}

@test "a stale socket left by a killed shim is replaced on the next start" {
	local b addr pid
	b=$(sk_bundle sk5)
	addr=$(sk_start sk5)
	pid=$(sk_pids sk5)
	kill -KILL "$pid"
	wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
	[[ -S ${addr#unix://} ]]
	run sk_start sk5
	assert_success
	assert_output "$addr"
	[[ -n $(sk_pids sk5) && $(sk_pids sk5) != "$pid" ]]
	run "$SHIMDIR/shim-proto-connect" "$addr"
	assert_success
}

@test "SIGTERM shuts the daemon down in order and removes its socket" {
	local b addr pid
	b=$(sk_bundle sk6)
	addr=$(sk_start sk6)
	pid=$(sk_pids sk6)
	kill -TERM "$pid"
	wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
	[[ ! -e ${addr#unix://} ]]
	wait_for 5 grep -q 'msg="shim exited"' "$b/log.txt"
	grep -q 'received signal 15, shutting down' "$b/log.txt"
}

@test "delete action prints a DeleteResponse (exit status 137, exited_at now) on stdout" {
	local b
	b=$(sk_bundle sk7)
	run bash -c "cd '$b' && '$SHIMDIR/$SKELETON' -namespace '$CTRD_NS' -address '$CTRD_SOCK' \
		-publish-binary /usr/bin/containerd -id sk7 -bundle '$b' delete </dev/null | od -An -tx1 -v | tr -d '\n'"
	assert_success
	# 10 89 01 = exit_status 137; 1a 0b 08 ... = exited_at{seconds, nanos}
	[[ $output =~ ^\ 10\ 89\ 01\ 1a\ 0[0-9a-f]\ 08 ]]
}

@test "delete action: a daemon containerd gave up on without a Shutdown is shut down" {
	local b addr pid
	b=$(sk_bundle sk8)
	addr=$(sk_start sk8)
	pid=$(sk_pids sk8)
	[[ -n $pid ]]
	# what containerd runs after Create failed or the connection closed; here no Shutdown
	# came before (containerd drops it when its cleanup deadline has passed)
	run bash -c "cd '$b' && '$SHIMDIR/$SKELETON' -namespace '$CTRD_NS' -address '$CTRD_SOCK' \
		-publish-binary /usr/bin/containerd -id sk8 -bundle '$b' delete </dev/null 2>'$b/delete.err' | od -An -tx1 -v | tr -d '\n'"
	assert_success
	[[ $output =~ ^\ 10\ 89\ 01\ 1a\ 0[0-9a-f]\ 08 ]] # the same DeleteResponse
	wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
	[[ ! -e ${addr#unix://} ]]
	wait_for 5 grep -q 'msg="Shutdown request"' "$b/log.txt"
	# stderr (containerd logs it as cleanup warnings): at most the line saying so
	[[ -z $(grep -v "level=warning msg=\"a skeleton daemon still served $addr: shut it down\"" "$b/delete.err") ]]
}

@test "exit flushes every queued reply, the Shutdown reply too, to a client that reads late" {
	local b addr pid
	b=$(sk_bundle sk9)
	addr=$(sk_start sk9)
	pid=$(sk_pids sk9)
	# 20000 replies are far more than the socket holds (about 280 here): the rest is queued in
	# the daemon when it reads the Shutdown and leaves its loop
	run late_reader "$addr" 20000
	assert_success
	assert_output "replies=20001 shutdown=answered"
	wait_for 5 bash -c "! kill -0 $pid 2>/dev/null"
}

@test "real containerd runs the skeleton by absolute path: Create answers Unimplemented, nothing leaks" {
	run ctrt run --runtime "$SHIMDIR/$SKELETON" "$TEST_IMAGE" skc1 true
	assert_failure
	assert_output --partial "method Create"
	# containerd shut the shim down (Shutdown RPC + delete action) and removed the bundle; ctr
	# returns once containerd has the Shutdown reply, while the daemon may still be exiting
	wait_for 10 sk_gone skc1
	wait_for 10 test ! -e "$(bundle_dir skc1)"
	ctrt containers rm skc1
	ctrd_log | grep -q 'runtime=io.containerd.skeleton.v1'
}
