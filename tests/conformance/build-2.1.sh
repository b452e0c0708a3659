#!/bin/bash
# build-2.1.sh: containerd 2.x's own integration/client suite and its failpoint runc, built from
# Debian testing's packages (whatever containerd 2.x testing ships: its version is printed):
#   build/conformance/2.1/client.test   go test -c of integration/client, patched (patch.sed and
#                                        rig_test.go: pulls of the busybox test image are
#                                        imports of the rig's image; rig.go: TestMain's
#                                        containerd gets the rig's root, state and config)
#   build/conformance/2.1/runc-fp       integration/failpoint/cmd/runc-fp
#   build/conformance/2.1/version       "containerd-dev VERSION go VERSION"
# Go (golang-1.26-go/-src) and the Go sources (the recursive golang-*-dev closure of
# golang-github-containerd-containerd-dev) come through tests/rig/suite-fetch.sh, unpacked under
# build/conformance/2.1/deb; GOPATH mode (GO111MODULE=off), no network beyond Debian's mirror.
# Idempotent: nothing is rebuilt when the packages and the patches did not change.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$repo/tests/conformance
out=$repo/build/conformance/2.1
suite=${CONFORMANCE_SUITE:-forky}
gover=${CONFORMANCE_GO:-1.26}
say() { echo "build-2.1.sh: $*" >&2; }

mkdir -p "$out"
"$repo/tests/rig/suite-fetch.sh" -r '^golang-.*-dev$' "$suite" "$out/deb" \
	"golang-$gover-go" "golang-$gover-src" golang-github-containerd-containerd-dev >"$out/packages.new"
mv "$out/packages.new" "$out/packages"
ctrdver=$(sed -n 's/^golang-github-containerd-containerd-dev //p' "$out/packages")
case $ctrdver in
2.*) ;;
*) say "$suite ships containerd-dev $ctrdver, not 2.x"; exit 1 ;;
esac

# One key for the whole build: every package version and the rig's patch files.
key=$({ cat "$out/packages"; cat "$here/2.1/patch.sed" "$here/2.1/rig_test.go" "$here/2.1/rig.go" "${BASH_SOURCE[0]}"; } |
	sha256sum | cut -c1-16)
if [[ $(cat "$out/.key" 2>/dev/null) == "$key" && -x $out/client.test && -x $out/runc-fp ]]; then
	say "up to date: $(cat "$out/version")"
	exit 0
fi
rm -f "$out/.key"

# GOROOT: both Go packages' trees in one (their relative symlinks, lib/go-1.26/src ->
# ../../share/go-1.26/src, resolve there), hard links to the unpacked files.
rm -rf "$out/goroot"
mkdir -p "$out/goroot"
cp -al "$out/deb/golang-$gover-go/usr" "$out/goroot/"
cp -al "$out/deb/golang-$gover-src/usr/." "$out/goroot/usr/"
export GOROOT=$out/goroot/usr/lib/go-$gover
[[ -x $GOROOT/bin/go && -d $GOROOT/src/runtime ]] || { say "no Go $gover tree under $GOROOT"; exit 1; }

# GOPATH: a tree of hard links to (go:embed takes no symlink) every package's /usr/share/gocode/src, the containerd
# integration/client tests patched copies.
gopath=$out/gopath
rm -rf "$gopath"
mkdir -p "$gopath/src"
while read -r pkg _; do
	[[ -d $out/deb/$pkg/usr/share/gocode/src ]] || continue
	cp -alf "$out/deb/$pkg/usr/share/gocode/src/." "$gopath/src/"
done <"$out/packages"
ctrd=$gopath/src/github.com/containerd/containerd/v2
client=$ctrd/integration/client
[[ -d $client ]] || { say "no integration/client in golang-github-containerd-containerd-dev"; exit 1; }
# New files: the hard links' targets stay as unpacked.
for f in "$client"/client.go "$client"/client_unix.go "$client"/*_test.go; do
	sed -f "$here/2.1/patch.sed" "$f" >"$f.new"
	mv "$f.new" "$f"
done
n=$(grep -c 'rig\(Pull\|Fetch\)(ctx, client, testImage' "$client"/*_test.go | awk -F: '{ s += $2 } END { print s }')
((n > 0)) || { say "patch.sed matched nothing in $client"; exit 1; }
grep -q 'rigEnv("CTRBOX_CONFORMANCE_ROOT"' "$client/client_unix.go" &&
	grep -q 'rigEnv("CTRBOX_CONFORMANCE_NAMESPACE"' "$client/client.go" &&
	grep -q '"--config", rigConfig()' "$client/client_test.go" ||
	{ say "patch.sed did not give TestMain's daemon the rig's root and config"; exit 1; }
cp "$here/2.1/rig_test.go" "$client/zz_ctrbox_rig_test.go"
cp "$here/2.1/rig.go" "$client/zz_ctrbox_rig.go"

export GOPATH=$gopath GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local GOPROXY=off GOCACHE=$out/gocache
export CGO_ENABLED=0 GOTELEMETRY=off
go=$GOROOT/bin/go
say "building client.test with $("$go" version) (containerd-dev $ctrdver, $n pulls patched)"
(cd "$client" && "$go" test -c -o "$out/client.test.new" .)
(cd "$ctrd/integration/failpoint/cmd/runc-fp" && "$go" build -o "$out/runc-fp.new" .)
mv "$out/client.test.new" "$out/client.test"
mv "$out/runc-fp.new" "$out/runc-fp"
echo "containerd-dev $ctrdver go $("$go" env GOVERSION)" >"$out/version"
echo "$key" >"$out/.key"
say "built: $(cat "$out/version")"
