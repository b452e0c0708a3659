#!/bin/bash
# bench/journal.sh: lines/s into a real systemd-journald: ctrbox-journal vs the native-protocol
# ceiling (build/tools/journal-ceiling, tests/tools/journal-ceiling.c), same input, same fields.
#
# Not part of make test. Needs root (a private journald namespace, and a private mount namespace
# so that systemd-cat, which only knows /run/systemd/journal/stdout, reaches it). For the run it
# writes /etc/systemd/journald@NS.conf (rate limiting off, volatile storage: the writers would
# otherwise hit journald's per-unit burst limit), and removes it, the journal and the socket dir
# at exit. Every measurement gets a journald of its own, started afresh on an empty journal, so
# no writer pays for a journal the one before it filled. The clock runs from the writer's start
# until journald has stored the last line (journalctl -n 1), so all numbers are end-to-end ingest
# rates, not how fast a writer could hand bytes to a socket. Order: ceiling, ctrbox-journal,
# ctrbox-journal, ceiling (ABBA, so drift cancels; JOURNAL_ROUNDS times, default 1), then
# systemd-cat once as an extra row, and
# with JOURNAL_DOCKER=1 Docker's journald log driver (dockerd of Debian's docker.io, unpacked
# under build/docker/root, fetched with apt-get download if missing; a private dockerd with its
# own containerd, in a mount namespace where /run/systemd/journal is our journald's socket dir;
# `docker run -d` of a busybox image doing cat of the input, clock from docker run to stored).
#   N=200000 bench/journal.sh
# CTRBOX: the ctrbox binary (build/ctrbox); JOURNAL_CEILING: the ceiling tool (built if missing);
# JOURNAL_SNDBUF: the ceiling's SO_SNDBUF (8388608, ctrbox-journal's; 0: the kernel default);
# JOURNAL_CEILING_BATCH: datagrams a sendmmsg() of the ceiling (1: one sendmsg() per line).
# BENCH_ROWS (unset): a file to which the main row is appended as one machine-readable line for
# bench/all.sh: ROW<TAB>measurement<TAB>ceiling<TAB>ctrbox-journal<TAB>ratio<TAB>-
set -euo pipefail

N=${N:-200000}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CTRBOX=${CTRBOX:-$REPO/build/ctrbox}
CEILING=${JOURNAL_CEILING:-$REPO/build/tools/journal-ceiling}
SNDBUF=${JOURNAL_SNDBUF:-8388608}
CBATCH=${JOURNAL_CEILING_BATCH:-1}
DOCKER=${JOURNAL_DOCKER:-0}
ROUNDS=${JOURNAL_ROUNDS:-1}
DOCKER_ROOT=${JOURNAL_DOCKER_ROOT:-$REPO/build/docker/root}
JOURNALD=/lib/systemd/systemd-journald
NS=ctrboxbench$$
CONF=/etc/systemd/journald@$NS.conf
DIR=$(mktemp -d /tmp/ctrbox-jbench.XXXXXX)
MID=$(cat /etc/machine-id)
JPID=
DPID=
RUNLOG_NEW=
[[ -e /run/log/journal ]] || RUNLOG_NEW=1 # journald creates it; remove it again if so

[[ $EUID -eq 0 ]] || { echo "journal.sh: needs root" >&2; exit 1; }
[[ -x $CEILING || -n ${JOURNAL_CEILING:-} ]] || make -s -C "$REPO" build/tools/journal-ceiling >&2
for t in "$JOURNALD" "$CTRBOX" "$CEILING" "$(command -v systemd-cat)" "$(command -v unshare)"; do
	[[ -x $t ]] || { echo "journal.sh: missing $t" >&2; exit 1; }
done

# stop_proc PID TENTHS: SIGTERM, up to TENTHS tenths of a second to go, then SIGKILL; reaped.
stop_proc() {
	[[ -n $1 ]] || return 0
	kill -TERM "$1" 2>/dev/null || true
	for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
stop_journald() {
	stop_proc "$JPID" 50
	JPID=
	rm -rf "/run/systemd/journal.$NS" "/run/log/journal/$MID.$NS" "/var/log/journal/$MID.$NS"
}
stop_dockerd() {
	stop_proc "$DPID" 150
	DPID=
}
cleanup() {
	stop_dockerd
	stop_journald
	rm -f "$CONF"
	[[ ! -d $DIR/docker ]] || { umount -R "$DIR/docker" 2>/dev/null || true; }
	rm -rf "$DIR"
	[[ -z $RUNLOG_NEW ]] || rmdir /run/log/journal 2>/dev/null || true
}
trap cleanup EXIT

start_journald() {
	stop_journald
	setsid "$JOURNALD" "$NS" </dev/null >"$DIR/journald.log" 2>&1 &
	JPID=$!
	for _ in $(seq 100); do [[ -S /run/systemd/journal.$NS/socket ]] && break; sleep 0.1; done
	[[ -S /run/systemd/journal.$NS/socket ]] || { cat "$DIR/journald.log" >&2; exit 1; }
}

printf '[Journal]\nRateLimitIntervalSec=0\nStorage=volatile\n' >"$CONF"
seq -f "bench line %07g: the quick brown fox jumps over the lazy dog, 0123456789 abcdef" 1 "$N" \
	>"$DIR/input"
last=$(tail -n 1 "$DIR/input")

now() { date +%s.%N; }
# stored TAG: true once journald holds the input's last line for TAG
stored() { [[ $(journalctl --namespace="$NS" -t "$1" -n 1 -o cat --no-pager 2>/dev/null) == "$last" ]]; }
wait_stored() {
	for _ in $(seq 6000); do stored "$1" && return 0; sleep 0.01; done
	echo "journal.sh: $1: last line not stored after 60 s" >&2
	return 1
}
count() { journalctl --namespace="$NS" -t "$1" -o cat --no-pager | wc -l; }

# rtime TAG [-n 1]: journald's receive time (us) of TAG's first (or last) entry
rtime() {
	journalctl --namespace="$NS" -t "$@" -o export --no-pager 2>/dev/null |
		grep -a -m 1 '^__REALTIME_TIMESTAMP=' | cut -d= -f2 || true
}
# measure NAME TAG CMD...: one writer into the journald started last (start_journald); appends
# "NAME stored writer-exit-s total-s dropped span-s" to $DIR/results, span being journald's
# receive times of the first and the last line
measure() {
	local name=$1 tag=$2 t0 t1 t2 drops=-
	shift 2
	rm -f "$DIR/stats"
	t0=$(now)
	"$@"
	t1=$(now)
	wait_stored "$tag"
	t2=$(now)
	[[ ! -e $DIR/stats ]] || drops=$(sed -n 's/^dropped_lines=//p' "$DIR/stats")
	echo "$name $(count "$tag") $(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "%.3f %.3f", b - a, c - a }') $drops $(awk -v f="$(rtime "$tag")" -v l="$(rtime "$tag" -n 1)" 'BEGIN { printf "%.3f", (l - f) / 1e6 }')" >>"$DIR/results"
}
ceiling() { "$CEILING" "/run/systemd/journal.$NS/socket" native "$DIR/input" "$SNDBUF" "$CBATCH" >/dev/null; }
ctrbox() {
	CONTAINER_ID=bench CONTAINER_NAMESPACE=bench "$CTRBOX" ctrbox-journal namespace "$NS" tag ctrbox \
		buffer 1g flush-timeout 600000 stats-file "$DIR/stats" 3<"$DIR/input" 4</dev/null 5>/dev/null
}
# in_journal_ns DIR CMD...: CMD in a mount namespace where /run/systemd/journal is our
# journald's socket dir (bound through DIR/sock): what systemd-cat and dockerd's journald driver
# know of journald is that fixed path. It execs: call it in a subshell or in the background (then
# $! is CMD's pid).
in_journal_ns() {
	exec unshare -m bash -c '
		set -e
		mount --make-rprivate /
		mkdir -p "$1/sock" && mount --bind "/run/systemd/journal.$2" "$1/sock"
		mount -t tmpfs none /run/systemd && mkdir /run/systemd/journal
		mount --bind "$1/sock" /run/systemd/journal
		shift 2
		exec "$@"' _ "$1" "$NS" "${@:2}"
}
systemd_cat() { (in_journal_ns "$DIR" systemd-cat -t systemd-cat <"$DIR/input"); }

docker_setup() {
	if [[ ! -x $DOCKER_ROOT/usr/sbin/dockerd ]]; then
		mkdir -p "$DOCKER_ROOT/.."
		(cd "$DOCKER_ROOT/.." && apt-get download docker.io >&2 && dpkg-deb -x docker.io_*.deb "$DOCKER_ROOT")
	fi
	mkdir -p "$DIR/docker/img/bin"
	cp "$(command -v busybox)" "$DIR/docker/img/bin/busybox"
	tar -C "$DIR/docker/img" -cf "$DIR/docker/img.tar" .
	echo '{}' >"$DIR/docker/daemon.json"
}
dk() { "$DOCKER_ROOT/usr/bin/docker" -H "unix://$DIR/docker/docker.sock" "$@"; }
# a private dockerd (and the containerd it starts), its journal socket being our journald's
start_dockerd() {
	local d=$DIR/docker
	in_journal_ns "$d" env PATH="$DOCKER_ROOT/usr/bin:$DOCKER_ROOT/usr/sbin:$PATH" \
		dockerd --config-file "$d/daemon.json" --data-root "$d/data" --exec-root "$d/exec" \
		--pidfile "$d/docker.pid" -H "unix://$d/docker.sock" --bridge=none --iptables=false \
		--ip6tables=false --ip-masq=false --log-driver=journald >"$d/dockerd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 300); do dk version >/dev/null 2>&1 && break; sleep 0.1; done
	dk version >/dev/null || { tail -20 "$DIR/docker/dockerd.log" >&2; exit 1; }
	dk import "$DIR/docker/img.tar" ctrbox-jbench:1 >/dev/null
}
docker_cat() {
	local id
	id=$(dk run -d --network none -v "$DIR/input:/input:ro" --log-opt tag=docker ctrbox-jbench:1 \
		/bin/busybox cat /input)
	dk wait "$id" >/dev/null
	dk rm "$id" >/dev/null
}

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "journal.sh: JOURNAL_ROUNDS must be a positive integer" >&2; exit 1; }
for m in $(for _ in $(seq "$ROUNDS"); do echo ceiling ctrbox ctrbox ceiling; done); do
	start_journald
	case $m in
	ceiling) measure ceiling native ceiling ;;
	ctrbox) measure ctrbox-journal ctrbox ctrbox ;;
	esac
done
start_journald
measure systemd-cat systemd-cat systemd_cat
if [[ $DOCKER == 1 ]]; then
	docker_setup
	start_journald
	start_dockerd
	measure docker-journald docker docker_cat
	stop_dockerd
fi

awk -v rows="${BENCH_ROWS:-}" -v n="$N" -v len="$(head -n 1 "$DIR/input" | wc -c)" \
	-v sndbuf="$SNDBUF" -v cbatch="$CBATCH" -v qlen="$(cat /proc/sys/net/unix/max_dgram_qlen)" '
	{ name[NR] = $1; st[NR] = $2; ex[NR] = $3; tot[NR] = $4; dr[NR] = $5; sp[NR] = $6; T[$1] += $4; R[$1]++
	  bad += $2 != n || ($5 != "-" && $5 != 0) }
	END {
		printf "lines: %d (%d bytes each); ceiling and ctrbox-journal entries carry 7 fields, systemd-cat 3\n", n, len
		printf "ceiling: journal-ceiling, %s, SO_SNDBUF %s; net.unix.max_dgram_qlen %d\n", cbatch == 1 ? "one blocking sendmsg per line" : "blocking sendmmsg of " cbatch " lines", sndbuf, qlen
		printf "%-15s %10s %12s %12s %8s %14s\n", "writer", "stored", "writer exit", "lines/s", "dropped", "lines/s (span)"
		for (i = 1; i <= NR; i++)
			printf "%-15s %10d %11.2fs %12.0f %8s %14.0f\n", name[i], st[i], ex[i], n / tot[i], dr[i], (sp[i] > 0 ? (n - 1) / sp[i] : 0)
		c = R["ceiling"] * n / T["ceiling"]; j = R["ctrbox-journal"] * n / T["ctrbox-journal"]
		s = R["systemd-cat"] * n / T["systemd-cat"]
		printf "%-15s %12.0f lines/s (all %d runs)\n", "ceiling", c, R["ceiling"]
		printf "%-15s %12.0f lines/s (all %d runs), %.2f of the ceiling\n", "ctrbox-journal", j, R["ctrbox-journal"], j / c
		printf "%-15s %12.0f lines/s, %.2f of the ceiling\n", "systemd-cat", s, s / c
		if (R["docker-journald"]) {
			d = n / T["docker-journald"]
			printf "%-15s %12.0f lines/s, %.2f of the ceiling (the Docker journald log driver; its entries carry 8 fields)\n", "docker-journald", d, d / c
		}
		printf "span: (N-1) / time between the receive times journald gave the first and the last line (start-up left out)\n"
		if (bad)
			printf "journal.sh: a writer lost lines (stored != %d or dropped > 0)\n", n >"/dev/stderr"
		if (rows != "")
			printf "ROW\tjournal: lines/s stored by journald, native-protocol ceiling vs ctrbox-journal (higher is better)\t%.0f\t%.0f\t%.2f\t-\n", c, j, j / c >>rows
		exit bad ? 1 : 0
	}' "$DIR/results"
