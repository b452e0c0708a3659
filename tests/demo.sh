#!/usr/bin/env bash
# make demo: a private containerd with ctrbox first in its PATH as containerd-shim-runc-v2; the
# busybox image imported; `ctr run --rm` prints hello through ctrbox's shim. Then the skeleton
# shim driven by hand (start, shim-proto-connect, the shim's log lines). Cleans up after itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# The suite's helpers, outside bats: stand-ins for bats' loaders.
load() { source "${1%.bash}.bash"; }
bats_load_library() { :; }
source "$here/bats/setup_suite.bash"
source "$here/bats/helpers.bash"

setup_suite 3>/dev/null
BATS_SETUP_SUITE_COMPLETED=1
BATS_TEST_TMPDIR=$CTRBOX_TEST_DIR/demo
mkdir -p "$BATS_TEST_TMPDIR"
trap 'set +e; sk_cleanup; teardown_suite' EXIT

echo "== private containerd: $CTRD_SOCK (ttrpc $CTRD_TTRPC), namespace $CTRD_NS"
echo "== PATH starts with $SHIMDIR: $(readlink "$SHIMDIR/containerd-shim-runc-v2") is containerd-shim-runc-v2"
echo "== ctr run --rm $TEST_IMAGE hello echo hello from ctrbox"
ctrt run --rm "$TEST_IMAGE" hello echo hello from ctrbox
echo "== the shim's lines in containerd's log"
grep 'runtime=io.containerd.runc.v2' "$CTRBOX_TEST_DIR/containerd.log" | grep -v level=debug | tail -4
b=$(sk_bundle demo)
echo "== $SKELETON ... -id demo start   (cwd: bundle $b)"
addr=$(sk_start demo)
echo "$addr"
echo "== shim-proto-connect $addr"
"$SHIMDIR/shim-proto-connect" "$addr" demo
for _ in $(seq 50); do grep -q 'msg="shim exited"' "$b/log.txt" 2>/dev/null && break; sleep 0.1; done
echo "== the shim's log (bundle fifo 'log', containerd's key=value format)"
cat "$b/log.txt"
echo "== containerd runs the skeleton by absolute path (Create is not implemented by design)"
ctrt run --runtime "$SHIMDIR/$SKELETON" "$TEST_IMAGE" demo-ctr true 2>&1 || true
ctrt containers rm demo-ctr >/dev/null 2>&1 || true
