#!/usr/bin/env bats
# libctrbox for shim authors: `make install` into a DESTDIR (archive, headers, ctrbox.pc), the
# examples built out of tree against it with pkg-config alone, the example shim run by a real
# containerd and driven by the example client; the public headers as C99 and C++ see them; and
# ctrbox's own shims reaching the framework only through that public API.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	ex_setup
}

setup() {
	ctrd_log_mark
}

teardown() {
	local pid
	for pid in $(pgrep -f "(^|/)containerd-shim-example-v1 -namespace $CTRD_NS " || true); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	if [[ -z ${BATS_TEST_COMPLETED:-} ]]; then
		dump_ctrd_log 30
		ctrd_clean_ns 10 # a failed test's container must not fail a later leak check
	fi
	return 0
}

# ex_start ID: the example shim's start action in a fresh bundle, as containerd runs it.
ex_start() {
	sk_bundle "$1" >/dev/null
	SK_BIN=$EXDIR/containerd-shim-example-v1 sk_start "$1"
}

ex_pids() {
	pgrep -f "(^|/)containerd-shim-example-v1 -namespace $CTRD_NS -id $1 " || true
}

# ex_gone ID: no example daemon serves ID (for wait_for, which runs it again each time).
ex_gone() {
	[[ -z $(ex_pids "$1") ]]
}

@test "make install DESTDIR: libctrbox.a, the headers with containerd's protobuf-c types, ctrbox.pc" {
	local inc=$LIBDEST$PFX/include v
	[[ -f $LIBDEST$PFX/lib/libctrbox.a && -f $LIBDEST$PFX/lib/pkgconfig/ctrbox.pc ]]
	for h in ctrbox version loop log ttrpc shim task; do
		[[ -f $inc/ctrbox/$h.h ]] || fail "missing ctrbox/$h.h"
	done
	[[ -f $inc/ctrbox/proto/task/shim.pb-c.h && -f $inc/ctrbox/proto/events/task.pb-c.h ]]
	[[ -f $inc/ctrbox/proto/google/protobuf/empty.pb-c.h ]]
	# the version: one number in the header, the .pc file, the library and ctrbox --version
	v=$(sed -n 's/^#define CTRBOX_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' "$inc/ctrbox/version.h" | paste -sd.)
	[[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]
	run pkg-config --modversion ctrbox
	assert_output "$v"
	grep -qx "prefix=$PFX" "$LIBDEST$PFX/lib/pkgconfig/ctrbox.pc" # this install's PREFIX, not a cached one
	run "$LIBDEST$PFX/bin/ctrbox" --version
	assert_output "ctrbox $v"
	# --static pulls protobuf-c in through Requires; the paths are the staged prefix's
	run pkg-config --static --cflags --libs ctrbox
	assert_output --partial "-I$inc "
	assert_output --partial "-I$inc/ctrbox/proto"
	assert_output --partial "-L$LIBDEST$PFX/lib -lctrbox"
	assert_output --partial "-lprotobuf-c"
	# the archive exports the ctrbox_ API and the protobuf-c types, nothing else
	run bash -c "nm -g --defined-only '$LIBDEST$PFX/lib/libctrbox.a' | awk 'NF == 3 { print \$3 }' |
		grep -Ev '^(ctrbox_|containerd__|google__|io__containerd__|ttrpc__)' || true"
	assert_output ""
	run bash -c "nm -g --defined-only '$LIBDEST$PFX/lib/libctrbox.a' | grep -c ' T ctrbox_'"
	(($output >= 40)) || fail "only $output ctrbox_ functions exported"
}

@test "the installed headers compile alone as C99 -pedantic and as C++; a C++ program links the library" {
	local h flags
	flags=$(pkg-config --static --cflags --libs ctrbox)
	for h in "$LIBDEST$PFX"/include/ctrbox/*.h; do
		h=ctrbox/${h##*/}
		echo "#include <$h>" | cc -std=c99 -Wall -Wextra -pedantic -Werror -x c -fsyntax-only - $(pkg-config --cflags ctrbox) ||
			fail "$h as C99"
		echo "#include <$h>" | c++ -std=c++11 -Wall -Wextra -pedantic -Werror -x c++ -fsyntax-only - $(pkg-config --cflags ctrbox) ||
			fail "$h as C++"
	done
	cat >"$BATS_TEST_TMPDIR/v.cc" <<-'CC'
		#include <ctrbox/ctrbox.h>
		#include <cstdio>
		#include <cstring>
		int main()
		{
			struct ctrbox_loop *l = 0;
			if (ctrbox_loop_new(&l) != 0 || std::strcmp(ctrbox_version(), CTRBOX_VERSION) != 0)
				return 1;
			ctrbox_loop_free(l);
			std::printf("%s %d %s\n", ctrbox_version(), ctrbox_version_number(),
				    ctrbox_code_name(CTRBOX_UNIMPLEMENTED));
			return CTRBOX_VERSION_AT_LEAST(1, 0, 0) ? 0 : 1;
		}
	CC
	c++ -std=c++11 -Wall -Wextra -o "$BATS_TEST_TMPDIR/v" "$BATS_TEST_TMPDIR/v.cc" $flags
	run "$BATS_TEST_TMPDIR/v"
	assert_success
	assert_output --regexp '^[0-9]+\.[0-9]+\.[0-9]+ [0-9]+ Unimplemented$'
}

@test "the examples build out of tree with pkg-config alone, statically, also through examples/Makefile" {
	run file "$EXDIR/containerd-shim-example-v1" "$EXDIR/ttrpc-client"
	assert_line --partial "containerd-shim-example-v1: ELF"
	[[ $(grep -c "statically linked" <<<"$output") == 2 ]]
	make -C "$EXDIR" clean >/dev/null
	run make -C "$EXDIR"
	assert_success
	[[ -x $EXDIR/containerd-shim-example-v1 && -x $EXDIR/ttrpc-client ]]
	run "$EXDIR/containerd-shim-example-v1" -v
	assert_success
	assert_line --index 3 "  Runtime:  io.containerd.example.v1"
	run "$EXDIR/containerd-shim-example-v1" -namespace x -bogus
	assert_failure 2
	assert_line --index 0 "flag provided but not defined: -bogus"
}

@test "example shim started as containerd starts it; the example client: Connect answers, State Unimplemented, Shutdown" {
	local addr pid b=$BATS_TEST_TMPDIR/bundle-ex1
	addr=$(ex_start ex1)
	[[ $addr == "$(sk_address ex1)" ]]
	pid=$(ex_pids ex1)
	[[ -n $pid && $(wc -w <<<"$pid") == 1 ]]
	[[ $(stat -c %a "${addr#unix://}") == 600 ]]
	run "$EXDIR/ttrpc-client" "$addr" ex1
	assert_success
	assert_line --index 0 "Connect: shim_pid=$pid task_pid=0 version=example"
	assert_line --index 1 "State: Unimplemented: method State"
	run "$EXDIR/ttrpc-client" "$addr" ex1 shutdown
	assert_success
	assert_line --index 2 "Shutdown: ok"
	wait_for 5 ex_gone ex1
	[[ ! -e ${addr#unix://} ]]
	# its log lines reached the bundle's log fifo in containerd's format
	wait_for 5 grep -q 'msg="shim exited"' "$b/log.txt"
	grep -q "level=info msg=\"Connect request for ex1\" namespace=$CTRD_NS pid=$pid runtime=io.containerd.example.v1" "$b/log.txt"
	kill "$(cat "$b/logcat.pid")" 2>/dev/null || true
	# the client on a dead address fails clearly
	run "$EXDIR/ttrpc-client" "$addr" ex1
	assert_failure 1
	assert_output --partial "No such file or directory"
}

@test "real containerd runs the example shim by absolute path: Create answers Unimplemented, nothing leaks" {
	run ctrt run --runtime "$EXDIR/containerd-shim-example-v1" "$TEST_IMAGE" exc1 true
	assert_failure
	# what README shows (1.6); containerd 2.x turns the Unimplemented status back into its
	# errdefs error and drops the ": not implemented" that names it
	if ctrd_is 1.6; then
		assert_output --partial "method Create: not implemented"
	else
		assert_output "ctr: failed to create shim task: method Create"
	fi
	wait_for 10 ex_gone exc1
	wait_for 10 test ! -e "$(bundle_dir exc1)"
	ctrt containers rm exc1
	ctrd_log | grep -q 'runtime=io.containerd.example.v1'
	assert_no_leaks
}

@test "the example client against ctrbox's runc shim under containerd: Connect and State of a running task" {
	local addr pid
	ctrt run -d "$TEST_IMAGE" exr1 sleep 1000
	wait_for 10 shim_address exr1
	addr=$(shim_address exr1)
	pid=$(ctrt task ls | awk '$1 == "exr1" { print $2 }')
	run "$EXDIR/ttrpc-client" "$addr" exr1
	assert_success
	assert_line --index 0 --regexp "^Connect: shim_pid=[0-9]+ task_pid=$pid version=.*"
	assert_line --index 1 "State: pid=$pid status=2" # RUNNING
	ctrt task kill -s KILL exr1
	wait_for 10 task_is exr1 STOPPED
	ctrt task rm exr1
	ctrt containers rm exr1
	assert_no_leaks
}

@test "every applet reaches libctrbox only through the public API: no private symbol, no private header" {
	local priv hdrs
	# global symbols libctrbox's objects define that the library does not export
	priv=$(find "$REPO/build/libctrbox" -name '*.o' -exec nm -g --defined-only {} + | awk 'NF == 3 { print $3 }' |
		grep -v '^ctrbox_' | sort -u)
	[[ -n $priv ]] # publisher_*, ttrpc_reader_*, jsmn_*, ...: the check has something to find
	run bash -c "find '$REPO/build/applets' '$REPO/build/main.o' -name '*.o' -exec nm -u {} + | awk '{ print \$2 }' | sort -u |
		grep -Fxf <(echo '$priv') || true"
	assert_output ""
	# no applet (nor main.c) includes a header from libctrbox/: only <ctrbox/...> and its own
	hdrs=$(cd "$REPO/libctrbox" && find . -name '*.h' | sed 's|^\./||')
	[[ -n $hdrs ]]
	run bash -c "grep -rhoE '#include \"[^\"]+\"' '$REPO/applets' '$REPO/main.c' | sed -E 's/#include \"(.*)\"/\\1/' | sort -u |
		grep -Fx -f <(echo '$hdrs'; echo '$hdrs' | sed 's|.*/||') || true"
	assert_output ""
	# no libctrbox file knows an applet: no applet header, no applet's main
	run grep -rlE '#include "(applet|runc_shim|ctr/|snapshotter/|journal/)|_main\(' "$REPO/libctrbox" "$REPO/include"
	assert_failure 1
	# and the binary links them against the same localized libctrbox.a that gets installed
	run bash -c "nm -g --defined-only '$REPO/build/ctrbox-lib.o' | awk 'NF == 3 { print \$3 }' | grep -v '^ctrbox_' || true"
	assert_output ""
}

@test "README's 'Write your own shim' example is examples/skeleton-shim.c, line for line" {
	run bash -c "awk '/^## Write your own shim/ { s = 1 } s && /^\`\`\`c\$/ { c = 1; next } c && /^\`\`\`\$/ { exit } c' '$REPO/README.md' |
		diff - '$REPO/examples/skeleton-shim.c'"
	assert_success
}
