#!/bin/bash
# compare.sh VERSION: both shims' results of run.sh VERSION (build/conformance/VERSION/{go,ctrbox}/
# results). Prints the README table row
#   | VERSION | go: P passed / F failed / S skipped | ctrbox: P / F / S |
# and every test ctrbox fails that the Go shim passes, after re-running those for ctrbox (below);
# exit 1 if one still fails (or a result is missing), 0 otherwise.
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
# The others run again for ctrbox, as run.sh runs them (build/conformance/VERSION/ctrbox-rerun),
# up to CONFORMANCE_RERUNS times (default 2) until they pass: a test that passes so is reported
# flaky (failed F of N runs) and does not fail the gate; one that fails every time does.
reruns=${CONFORMANCE_RERUNS:-2}
[[ $reruns =~ ^[0-9]+$ ]] || { echo "compare.sh: CONFORMANCE_RERUNS: a number" >&2; exit 2; }
worse='' noshim='' flaky=''
declare -A nfail=() nruns=()
retry=()
while read -r t g c; do
	logs=("$cdir/ctrbox/logs/$t".run*.log)
	if [[ $c == FAIL && -e ${logs[0]} ]] && ! grep -qsE 'connecting to shim|topic=/tasks/create' "${logs[@]}"; then
		noshim+="$t (go PASS, ctrbox FAIL in ${#logs[@]} run(s), no shim started: not the shim's)"$'\n'
	elif [[ $c == FAIL ]]; then
		retry+=("$t")
		nfail[$t]=$(awk -v t="$t" '$1 == "FAIL" && $2 == t { n++ } END { print n + 0 }' "$cdir/ctrbox/lines")
		nruns[$t]=$(awk -v t="$t" '$2 == t && $1 != "SKIP" { n++ } END { print n + 0 }' "$cdir/ctrbox/lines")
	else
		worse+="$t (go PASS, ctrbox $c)"$'\n'
	fi
done < <(join <(sort "$cdir/go/results") <(sort "$cdir/ctrbox/results") -a 1 -e MISSING -o 0,1.2,2.2 |
	awk '$2 == "PASS" && $3 != "PASS" && $3 != "SKIP"')
for ((r = 1; r <= reruns && ${#retry[@]} > 0; r++)); do
	echo "compare.sh $ver: ctrbox again (re-run $r of $reruns): ${retry[*]}"
	re="^($(
		IFS='|'
		echo "${retry[*]}"
	))\$"
	CONFORMANCE_OUT=ctrbox-rerun CONFORMANCE_RUN=$re "$repo/tests/conformance/run.sh" "$ver" ctrbox 1 |
		sed 's/^/  /' || true
	again=()
	for t in "${retry[@]}"; do
		nruns[$t]=$((nruns[$t] + 1))
		if grep -qx "$t PASS" "$cdir/ctrbox-rerun/results" 2>/dev/null; then
			flaky+="$t (go PASS, ctrbox flaky: failed ${nfail[$t]} of ${nruns[$t]} runs)"$'\n'
		else
			nfail[$t]=$((nfail[$t] + 1))
			again+=("$t")
			mkdir -p "$cdir/ctrbox/logs"
			for f in "$cdir/ctrbox-rerun/logs/$t".run*.log; do
				[[ ! -e $f ]] || cp "$f" "$cdir/ctrbox/logs/$t.rerun$r.log"
			done
		fi
	done
	retry=("${again[@]}")
done
for t in "${retry[@]}"; do
	worse+="$t (go PASS, ctrbox FAIL in all ${nruns[$t]} runs)"$'\n'
done
[[ -z $noshim ]] || { echo "compare.sh $ver: not counted:"; sed 's/^/  /' <<<"${noshim%$'\n'}"; }
[[ -z $flaky ]] || { echo "compare.sh $ver: flaky, not counted:"; sed 's/^/  /' <<<"${flaky%$'\n'}"; }
if [[ -n $worse ]]; then
	echo "compare.sh $ver: ctrbox fails what the Go shim passes:"
	sed 's/^/  /' <<<"${worse%$'\n'}"
	echo "  (logs: $cdir/ctrbox/logs/)"
	exit 1
fi
echo "compare.sh $ver: ctrbox fails nothing the Go shim passes"
