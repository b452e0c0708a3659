#!/bin/bash
# compare.sh VERSION: both shims' results of run.sh VERSION (build/conformance/VERSION/{go,ctrbox}/
# results). Prints the README table row
#   | VERSION | go: P passed / F failed / S skipped | ctrbox: P / F / S |
# and every test ctrbox fails that the Go shim passes; exit 1 if there is one (or a result is
# missing), 0 otherwise.
set -euo pipefail

ver=${1:?usage: compare.sh 1.6|2.1}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cdir=$repo/build/conformance/$ver
for s in go ctrbox; do
	[[ -s $cdir/$s/results ]] || { echo "compare.sh: no $cdir/$s/results (tests/conformance/run.sh $ver $s)" >&2; exit 1; }
done
count() { awk -v st="$2" '$2 == st { n++ } END { print n + 0 }' "$cdir/$1/results"; }
cell() { echo "$(count "$1" PASS) / $(count "$1" FAIL) / $(count "$1" SKIP)"; }
runs() { sed -n 's/.*(\([0-9]*\) run(s).*/\1/p' "$cdir/$1/summary" 2>/dev/null || echo '?'; }
echo "| $ver | $(cell go) | $(cell ctrbox) | $(runs go) / $(runs ctrbox) |"
# Tests ctrbox fails that the Go shim passes (a test only one side ran counts too). Not counted:
# a failure in which no shim was started, in no run (containerd's log has neither 2.x's
# "connecting to shim" nor 1.6's /tasks/create event):
# no shim took part, so the flake is containerd's (TestContentClient's ingest cleanup race).
worse='' noshim=''
while read -r t g c; do
	logs=("$cdir/ctrbox/logs/$t".run*.log)
	if [[ $c == FAIL && -e ${logs[0]} ]] && ! grep -qsE 'connecting to shim|topic=/tasks/create' "${logs[@]}"; then
		noshim+="$t (go PASS, ctrbox FAIL in ${#logs[@]} run(s), no shim started: not the shim's)"$'\n'
	else
		worse+="$t (go PASS, ctrbox $c)"$'\n'
	fi
done < <(join <(sort "$cdir/go/results") <(sort "$cdir/ctrbox/results") -a 1 -e MISSING -o 0,1.2,2.2 |
	awk '$2 == "PASS" && $3 != "PASS" && $3 != "SKIP"')
[[ -z $noshim ]] || { echo "compare.sh $ver: not counted:"; sed 's/^/  /' <<<"${noshim%$'\n'}"; }
if [[ -n $worse ]]; then
	echo "compare.sh $ver: ctrbox fails what the Go shim passes:"
	sed 's/^/  /' <<<"${worse%$'\n'}"
	echo "  (logs: $cdir/ctrbox/logs/)"
	exit 1
fi
echo "compare.sh $ver: ctrbox fails nothing the Go shim passes"
