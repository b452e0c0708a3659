#!/bin/bash
# valgrind.sh BUILD_DIR: ctrbox's long-running applets under valgrind (make valgrind), on a
# dynamic build (with the static one valgrind cannot follow malloc):
#   1. the runc shim, started by a real containerd (tests/valgrind/shim.bats: create, 100 execs,
#      delete, ...); the start process, the daemon it re-executes (/proc/self/exe) are traced,
#      runc (Go) is not;
#   2. ctrbox-snapshotter: Prepare/View/Commit/Stat/List/Usage/Update/Remove/Cleanup and some bad
#      input with build/tools/grpc-probe, then SIGTERM;
#   3. ctrbox-journal: thousands of lines to rotating files (mode=file), and to an absent journald.
# Every valgrind log must say "ERROR SUMMARY: 0 errors" and, if it has a leak summary,
# "definitely lost: 0 bytes". Logs: BUILD_DIR/vg/logs/.
set -u
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:?usage: valgrind.sh BUILD_DIR}" && pwd)
bin=$build/ctrbox
probe=$repo/build/tools/grpc-probe
[[ -x $bin ]] || { echo "valgrind.sh: $bin missing" >&2; exit 2; }
[[ -x $probe ]] || { echo "valgrind.sh: $probe missing (make build/tools/grpc-probe)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind.sh: valgrind missing (apt-get install valgrind)" >&2; exit 2; }
if file -L "$bin" | grep -q 'statically linked'; then
	echo "valgrind.sh: $bin is static; build with STATIC= (make valgrind-build)" >&2
	exit 2
fi

out=$build/vg
rm -rf "$out"
mkdir -p "$out/bin" "$out/wrap" "$out/logs" "$out/tmp"
logs=$out/logs
# valgrind runs the program with argv[0] = the path it is given: symlinks named after the applets
for a in containerd-shim-runc-v2 ctrbox-snapshotter ctrbox-journal; do
	ln -s "$bin" "$out/bin/$a"
done
VG=(valgrind --trace-children=yes --trace-children-skip='*/runc,*/runc.*' --child-silent-after-fork=yes
	--leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --num-callers=40)

# ---- 1. the runc shim under containerd ----
# The start action re-executes the daemon; under valgrind /proc/self/exe is valgrind itself:
# CTRBOX_SHIM_EXE (lib/shim.c) makes it re-execute the symlink, which --trace-children follows.
cat >"$out/wrap/containerd-shim-runc-v2" <<WRAP
#!/bin/sh
CTRBOX_SHIM_EXE=$out/bin/containerd-shim-runc-v2 exec ${VG[*]@Q} --log-file=$logs/shim.%p \\
	$out/bin/containerd-shim-runc-v2 "\$@"
WRAP
chmod 0755 "$out/wrap/containerd-shim-runc-v2"

rc=0
echo "== 1. runc shim under containerd (tests/valgrind/shim.bats)"
VG_BIN=$out/bin VG_SHIM=$out/wrap/containerd-shim-runc-v2 bats "$repo/tests/valgrind/shim.bats" || rc=1

# ---- 2. the snapshotter ----
echo "== 2. ctrbox-snapshotter"
snap_test() {
	local root=$out/tmp/snap sock=$out/tmp/snap.sock pid i r=0 src
	"${VG[@]}" --log-file="$logs/snapshotter.%p" "$out/bin/ctrbox-snapshotter" --root "$root" \
		--address "$sock" --backend native --log-level debug </dev/null >"$out/snapshotter.out" 2>&1 &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		"$probe" "$sock" list 'name==__ready__' >/dev/null 2>&1 && break
		sleep 0.1
	done
	p() { # p WANT_EXIT ARGS...: one grpc-probe call
		local want=$1 got=0 o
		shift
		o=$("$probe" "$sock" "$@" 2>&1) || got=$?
		echo "grpc-probe $* -> $got: $o" >>"$out/snapshotter.calls"
		[[ $want == any || $got -eq $want ]] || { echo "snapshotter: grpc-probe $* exited $got (want $want): $o"; r=1; }
	}
	p 0 prepare a
	src=$("$probe" "$sock" mounts a | awk '{ print $2 }')
	[[ -d $src ]] && echo hello >"$src/file" && mkdir -p "$src/d/e" && ln -s file "$src/link"
	p 0 label la k1=v1 k2=v2
	p 0 commit c1 a
	p 0 prepare b c1
	p 0 view v c1
	p 0 stat c1
	p 0 stat b
	p 0 mounts b
	p 0 usage c1
	p 0 update c1 labels.x -- x=y
	p 0 list
	p 0 list 'kind==committed'
	p 0 listn 'labels.k1==v1'
	p 0 churn 20 ch
	p any stat missing
	p any prepare b
	p any remove c1 # has children
	p any commit c2 nosuchkey
	p any oversize 70000
	p any garbage
	p any call /containerd.services.snapshots.v1.Snapshots/Prepare 0aff
	p any concurrent 20
	p 0 remove v
	p 0 remove b
	p 0 remove la
	p 0 remove c1
	p 0 cleanup
	p 0 list
	kill -TERM "$pid"
	for ((i = 0; i < 600; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "snapshotter: still running 60 s after SIGTERM"
		kill -KILL "$pid"
		r=1
	fi
	wait "$pid" || { echo "snapshotter: exit status $?"; r=1; }
	return $r
}
snap_test || { rc=1; tail -20 "$out/snapshotter.out"; }

# ---- 3. the logging binary ----
echo "== 3. ctrbox-journal"
journal_test() {
	local d=$out/tmp/journal r=0 i n
	mkdir -p "$d"
	for ((i = 1; i <= 5000; i++)); do echo "stdout line $i $RANDOM$RANDOM"; done >"$d/out"
	head -c 300000 /dev/zero | tr '\0' x >>"$d/out" # one line longer than a split
	echo >>"$d/out"
	printf 'partial line without newline' >>"$d/out"
	for ((i = 1; i <= 3000; i++)); do echo "stderr line $i"; done >"$d/err"
	CONTAINER_ID=vgj CONTAINER_NAMESPACE=vgns "${VG[@]}" --log-file="$logs/journal-file.%p" \
		"$out/bin/ctrbox-journal" mode file path "$d/c.log" max-size 200k max-files 3 \
		3<"$d/out" 4<"$d/err" 5>/dev/null || { echo "journal (file mode): exit status $?"; r=1; }
	n=$(cat "$d"/c.log* 2>/dev/null | wc -l)
	echo "journal (file mode): $n lines in $(ls "$d" | grep -c '^c\.log') file(s)"
	grep -q ' stderr F stderr line 3000$' "$d/c.log" || { echo "journal: last stderr line missing"; r=1; }
	# journal mode, the socket absent: a clear error at start (exit status 1)
	CONTAINER_ID=vgj CONTAINER_NAMESPACE=vgns "${VG[@]}" --log-file="$logs/journal-nosock.%p" \
		"$out/bin/ctrbox-journal" socket "$d/no-journald" tag vg \
		3<"$d/out" 4<"$d/err" 5>/dev/null 2>"$d/nosock.err"
	# journal mode into a private systemd-journald namespace (as tests/bats/90-journal.bats)
	local journald=/lib/systemd/systemd-journald jns=ctrboxvg$$ jpid jmid
	if [[ -x $journald ]]; then
		jmid=$(cat /etc/machine-id 2>/dev/null)
		setsid "$journald" "$jns" </dev/null >"$d/journald.log" 2>&1 &
		jpid=$!
		for ((i = 0; i < 100; i++)); do
			[[ -S /run/systemd/journal.$jns/socket ]] && break
			sleep 0.1
		done
		CONTAINER_ID=vgj CONTAINER_NAMESPACE=vgns "${VG[@]}" --log-file="$logs/journal-journald.%p" \
			"$out/bin/ctrbox-journal" socket "/run/systemd/journal.$jns/socket" tag vg \
			stats-file "$d/stats" --field IMAGE_NAME=busybox \
			3<"$d/out" 4<"$d/err" 5>/dev/null || { echo "journal (journald): exit status $?"; r=1; }
		for ((i = 0; i < 100; i++)); do
			n=$(journalctl --namespace="$jns" --no-pager -o cat SYSLOG_IDENTIFIER=vg 2>/dev/null | wc -l)
			((n >= 8000)) && break
			sleep 0.2
		done
		echo "journal (journald): $n entries; stats: $(tr '\n' ' ' <"$d/stats" 2>/dev/null)"
		kill -TERM "$jpid" 2>/dev/null
		wait "$jpid" 2>/dev/null
		rm -rf "/run/systemd/journal.$jns"
		[[ -n $jmid ]] && rm -rf "/var/log/journal/$jmid.$jns" "/run/log/journal/$jmid.$jns"
	else
		echo "journal (journald): $journald missing, skipped"
	fi
	return $r
}
journal_test || rc=1

# ---- the logs ----
echo "== valgrind logs ($logs)"
shopt -s nullglob
nlogs=0
for f in "$logs"/*; do
	cmd=$(sed -n 's/^==[0-9]*== Command: //p' "$f" | head -1)
	errs=$(sed -n 's/^==[0-9]*== ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$f" | tail -1)
	def=$(sed -n 's/^==[0-9]*==    definitely lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tail -1)
	ind=$(sed -n 's/^==[0-9]*==    indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$f" | tail -1)
	heap=$(sed -n 's/^==[0-9]*==   total heap usage: \(.*\)/\1/p' "$f" | tail -1)
	[[ -n $cmd ]] || continue # a forked child that was silenced and never exec'd
	nlogs=$((nlogs + 1))
	# the program, and for the shim its action: start, delete or none (the daemon)
	prog=${cmd%% *}
	what="${f##*/} (${prog##*/}"
	if [[ $prog == */containerd-shim-* ]]; then
		case $cmd in
		*" start") what="$what start" ;;
		*" delete") what="$what delete" ;;
		*) what="$what daemon" ;;
		esac
	fi
	what="$what)"
	if [[ -z $errs ]]; then
		echo "FAIL $what: no ERROR SUMMARY (killed?): $cmd"
		rc=1
	elif [[ $errs != 0 || ${def:-0} != 0 ]]; then
		echo "FAIL $what: $errs errors, definitely lost ${def:-0} bytes: $cmd"
		sed -n '/ERROR SUMMARY/!p' "$f" | grep -v '^==[0-9]*== *$' | head -150
		rc=1
	else
		echo "ok   $what: 0 errors, definitely lost ${def:-0}, indirectly lost ${ind:-0}; heap: $heap"
	fi
done
((nlogs > 0)) || { echo "valgrind: no logs"; rc=1; }
echo "valgrind: $nlogs process log(s), $([[ $rc -eq 0 ]] && echo PASS || echo FAIL)"
exit $rc
