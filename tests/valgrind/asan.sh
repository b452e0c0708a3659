#!/bin/bash
# asan.sh BUILD_DIR [BATS ARGS...]: the unit tests and the bats suite (default: all of
# tests/bats) on an ASan+UBSan build (make asan). Every sanitized process writes its report to
# BUILD_DIR/san-reports/{asan,ubsan}.<pid> (containerd passes its environment to the shims, the
# shims to their daemons and to ctrbox-journal); fails if a test fails or any report exists.
set -u
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "${1:?usage: asan.sh BUILD_DIR [BATS ARGS...]}" && pwd)
shift
(($# > 0)) || set -- "$repo/tests/bats"
bin=$build/ctrbox
[[ -x $bin ]] || { echo "asan.sh: $bin missing" >&2; exit 2; }

reports=$build/san-reports
rm -rf "$reports"
mkdir -p "$reports"
# halt_on_error=0 keeps UBSan going (ASan stops at its first error whatever it says: no
# -fsanitize-recover). A process with a leak exits 23 at the end; the report file is what counts.
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1:halt_on_error=0:abort_on_error=0:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="log_path=$reports/ubsan:halt_on_error=0:print_stacktrace=1"
export LSAN_OPTIONS="report_objects=1"

rc=0
echo "== unit tests ($build/unit-tests)"
if [[ -x $build/unit-tests ]]; then
	(cd "$repo" && "$build/unit-tests") >"$build/asan-unit.log" 2>&1 || {
		echo "asan: unit tests failed:"
		tail -30 "$build/asan-unit.log"
		rc=1
	}
	tail -1 "$build/asan-unit.log"
fi

# Tests that mean nothing on a sanitized build (static linking, an RSS bound) skip themselves
# when CTRBOX_SANITIZER is set; every other result counts.
export CTRBOX_SANITIZER=asan
echo "== bats $* (CTRBOX_BIN=$bin)"
set -o pipefail
CTRBOX_BIN=$bin bats "$@" | tee "$build/asan.tap" || rc=1
pass=$(grep -c '^ok ' "$build/asan.tap")
skipped=$(grep -c '^ok .* # skip' "$build/asan.tap")
fail=$(grep -c '^not ok ' "$build/asan.tap")
grep -q '^1\.\.[0-9]' "$build/asan.tap" || { echo "asan: bats printed no plan"; rc=1; }
((fail == 0)) || rc=1
grep '^not ok ' "$build/asan.tap" | sed 's/^/asan: FAILED: /'
echo "asan: bats $((pass - skipped)) passed, $fail failed, $skipped skipped"

shopt -s nullglob
files=("$reports"/*)
if ((${#files[@]} > 0)); then
	rc=1
	echo "asan: ${#files[@]} sanitizer report(s) in $reports:"
	for f in "${files[@]}"; do
		echo "---- $f"
		cat "$f"
	done
else
	echo "asan: no sanitizer reports"
fi
exit $rc
