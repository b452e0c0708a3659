#!/bin/bash
# bench/journal.sh: lines/s into a real systemd-journald, ctrbox-journal vs systemd-cat, same input.
#
# Not part of make test. Needs root (a private journald namespace, and a private mount namespace
# so that systemd-cat, which only knows /run/systemd/journal/stdout, reaches it). For the run it
# writes /etc/systemd/journald@NS.conf (rate limiting off, volatile storage: both writers would
# otherwise hit journald's per-unit burst limit), and removes it, the journal and the socket dir
# at exit. The clock stops when journald has stored the last line (journalctl -n 1), so both
# numbers are end-to-end ingest rates, not how fast the writer could hand bytes to a socket.
#   N=200000 bench/journal.sh
# BENCH_ROWS (unset): a file to which the rate is appended as one machine-readable line for
# bench/all.sh: ROW<TAB>measurement<TAB>systemd-cat<TAB>ctrbox-journal<TAB>ratio<TAB>-
set -euo pipefail

N=${N:-200000}
REPO=$(cd "$(dirname "$0")/.." && pwd)
CTRBOX=${CTRBOX:-$REPO/build/ctrbox}
JOURNALD=/lib/systemd/systemd-journald
NS=ctrboxbench$$
CONF=/etc/systemd/journald@$NS.conf
DIR=$(mktemp -d /tmp/ctrbox-jbench.XXXXXX)
MID=$(cat /etc/machine-id)
JPID=
RUNLOG_NEW=
[[ -e /run/log/journal ]] || RUNLOG_NEW=1 # journald creates it; remove it again if so

[[ $EUID -eq 0 ]] || { echo "journal.sh: needs root" >&2; exit 1; }
for t in "$JOURNALD" "$CTRBOX" "$(command -v systemd-cat)" "$(command -v unshare)"; do
	[[ -x $t ]] || { echo "journal.sh: missing $t" >&2; exit 1; }
done

cleanup() {
	if [[ -n $JPID ]]; then
		kill -TERM "$JPID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$JPID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$JPID" 2>/dev/null || true
	fi
	rm -f "$CONF"
	rm -rf "$DIR" "/run/systemd/journal.$NS" "/run/log/journal/$MID.$NS" "/var/log/journal/$MID.$NS"
	[[ -z $RUNLOG_NEW ]] || rmdir /run/log/journal 2>/dev/null || true
}
trap cleanup EXIT

printf '[Journal]\nRateLimitIntervalSec=0\nStorage=volatile\n' >"$CONF"
setsid "$JOURNALD" "$NS" </dev/null >"$DIR/journald.log" 2>&1 &
JPID=$!
for _ in $(seq 100); do [[ -S /run/systemd/journal.$NS/socket ]] && break; sleep 0.1; done
[[ -S /run/systemd/journal.$NS/socket ]] || { cat "$DIR/journald.log" >&2; exit 1; }

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

t0=$(now)
CONTAINER_ID=bench CONTAINER_NAMESPACE=bench "$CTRBOX" ctrbox-journal namespace "$NS" tag ctrbox \
	buffer 1g flush-timeout 600000 stats-file "$DIR/stats" 3<"$DIR/input" 4</dev/null 5>/dev/null
t1=$(now)
wait_stored ctrbox
t2=$(now)

# systemd-cat in a mount namespace where /run/systemd/journal is our journald's socket dir
t3=$(now)
unshare -m bash -c '
	set -e
	mount --make-rprivate /
	mkdir -p "$1/sock" && mount --bind "/run/systemd/journal.$2" "$1/sock"
	mount -t tmpfs none /run/systemd && mkdir /run/systemd/journal
	mount --bind "$1/sock" /run/systemd/journal
	exec systemd-cat -t systemd-cat <"$1/input"' _ "$DIR" "$NS"
t4=$(now)
wait_stored systemd-cat
t5=$(now)

c1=$(count ctrbox)
c2=$(count systemd-cat)
awk -v rows="${BENCH_ROWS:-}" -v n="$N" -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" -v f="$t5" \
	-v c1="$c1" -v c2="$c2" -v len="$(head -n 1 "$DIR/input" | wc -c)" -v drops="$(sed -n 's/^dropped_lines=//p' "$DIR/stats")" 'BEGIN {
	printf "lines: %d (%d bytes each); ctrbox entries carry 7 fields, systemd-cat 3\n", n, len
	printf "%-15s %10s %12s %12s %8s\n", "writer", "stored", "writer exit", "lines/s", "dropped"
	printf "%-15s %10d %11.2fs %12.0f %8d\n", "ctrbox-journal", c1, b - a, n / (c - a), drops
	printf "%-15s %10d %11.2fs %12.0f %8s\n", "systemd-cat", c2, e - d, n / (f - d), "-"
	if (rows != "")
		printf "ROW\tjournal: lines/s stored by journald (higher is better)\t%.0f\t%.0f\t%.2f\t-\n", n / (f - d), n / (c - a), (f - d) / (c - a) >>rows
}'
