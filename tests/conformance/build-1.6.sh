#!/bin/bash
# build-1.6.sh: containerd 1.6's own integration/client suite, built from Debian 12 (bookworm)'s
# packages, the containerd of the system's release (its version is printed):
#   build/conformance/1.6/client.test   go test -c of integration/client from the containerd source
#                                        package (apt-get source, Debian's patches applied), patched
#                                        for the rig (1.6/patch.sed and 1.6/rig_test.go: pulls
#                                        of the test images are imports of the rig's image, the
#                                        daemon's root, state and config come from the rig)
#   build/conformance/1.6/image-name    the suite's busybox image name (testImage)
#   build/conformance/1.6/version       "containerd VERSION go VERSION"
# The 1.6 source has no failpoint runc (integration/failpoint/cmd/runc-fp came with 1.7): none is
# built. Go 1.19 (golang-1.19-go/-src) and the Go sources (the recursive golang-*-dev closure of
# golang-github-containerd-containerd-dev) come through tests/rig/suite-fetch.sh, unpacked under
# build/conformance/1.6/deb; the source through tests/conformance/src-fetch.sh (cached in
# /var/cache/ctrbox/apt-bookworm-src). GOPATH mode (GO111MODULE=off) with the source's own vendor/
# (the few libraries Debian keeps there); no network beyond Debian's mirror.
# Idempotent: nothing is rebuilt when the packages, the source and the patches did not change.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here=$repo/tests/conformance
out=$repo/build/conformance/1.6
suite=${CONFORMANCE_SUITE:-bookworm}
gover=1.19
say() { echo "build-1.6.sh: $*" >&2; }

mkdir -p "$out"
"$repo/tests/rig/suite-fetch.sh" -r '^golang-.*-dev$' "$suite" "$out/deb" \
	"golang-$gover-go" "golang-$gover-src" golang-github-containerd-containerd-dev >"$out/packages.new"
mv "$out/packages.new" "$out/packages"
devver=$(sed -n 's/^golang-github-containerd-containerd-dev //p' "$out/packages")
read -r _ srcver srcdir < <("$here/src-fetch.sh" "$suite" "$out/src" containerd)
case $srcver in
1.6.*) ;;
*) say "$suite ships containerd $srcver, not 1.6"; exit 1 ;;
esac
[[ $srcver == "$devver" ]] || { say "containerd source $srcver but containerd-dev $devver"; exit 1; }
[[ -d $srcdir/integration/client ]] || { say "no integration/client in $srcdir"; exit 1; }

# The suite's test image name (1.6 prints no image list): run.sh names the rig's image so.
imgname=$(sed -n 's/^\ttestImage *= "\(.*\)"$/\1/p' "$srcdir/integration/client/client_unix_test.go")
[[ -n $imgname ]] || { say "no testImage in $srcdir/integration/client/client_unix_test.go"; exit 1; }
echo "$imgname" >"$out/image-name"

# One key for the whole build: every package version, the source's and the rig's patch files.
key=$({
	cat "$out/packages"
	echo "containerd $srcver"
	cat "$here/1.6/patch.sed" "$here/1.6/rig_test.go" "${BASH_SOURCE[0]}"
} | sha256sum | cut -c1-16)
if [[ $(cat "$out/.key" 2>/dev/null) == "$key" && -x $out/client.test ]]; then
	say "up to date: $(cat "$out/version")"
	exit 0
fi
rm -f "$out/.key"

# GOROOT: both Go packages' trees in one (their relative symlinks, lib/go-1.19/src ->
# ../../share/go-1.19/src, resolve there), hard links to the unpacked files.
rm -rf "$out/goroot"
mkdir -p "$out/goroot"
cp -al "$out/deb/golang-$gover-go/usr" "$out/goroot/"
cp -al "$out/deb/golang-$gover-src/usr/." "$out/goroot/usr/"
export GOROOT=$out/goroot/usr/lib/go-$gover
[[ -x $GOROOT/bin/go && -d $GOROOT/src/runtime ]] || { say "no Go $gover tree under $GOROOT"; exit 1; }

# GOPATH: one tree of hard links to every package's /usr/share/gocode/src but containerd-dev's
# (its files are the source package's, less integration/ and vendor/), and to the source package
# as github.com/containerd/containerd; the patched test files are new files.
# The closure has both alternatives of "golang-github-golang-protobuf-1-3-dev | ...-1-5-dev"
# (packages that conflict: the same import paths); Debian's containerd 1.6 is built with 1-3 (its
# Built-Using), so 1-5 stays out. Any other import path two packages give stops the build.
gopath=$out/gopath
rm -rf "$gopath"
mkdir -p "$gopath/src"
gopkgs=()
while read -r pkg _; do
	case $pkg in
	golang-github-containerd-containerd-dev | golang-github-golang-protobuf-1-5-dev) continue ;;
	esac
	[[ -d $out/deb/$pkg/usr/share/gocode/src ]] && gopkgs+=("$pkg")
done <"$out/packages"
dup=$(for pkg in "${gopkgs[@]}"; do
	(cd "$out/deb/$pkg/usr/share/gocode/src" && find . -name '*.go' -printf '%h\n' | sort -u)
done | sort | uniq -d | head -3)
[[ -z $dup ]] || { say "import paths in more than one package:" $dup; exit 1; }
for pkg in "${gopkgs[@]}"; do
	cp -alf "$out/deb/$pkg/usr/share/gocode/src/." "$gopath/src/"
done
ctrd=$gopath/src/github.com/containerd/containerd
rm -rf "$ctrd"
mkdir -p "$ctrd"
cp -al "$srcdir/." "$ctrd/"
rm -rf "$ctrd/debian" "$ctrd/.pc"
client=$ctrd/integration/client
for f in "$client"/*_test.go; do
	sed -f "$here/1.6/patch.sed" "$f" >"$f.new"
	mv "$f.new" "$f"
done
# Each of patch.sed's changes must have matched: a new source that moved one fails here.
n=$(cat "$client"/*_test.go | grep -c 'rig\(Pull\|Fetch\)(ctx, client, test' || true)
envs=$(cat "$client"/*_test.go | grep -c 'rigEnv("CTRBOX_CONFORMANCE_\|rigConfig(createShimDebugConfig())\|waitForStartOnce(ctx context' || true)
((n > 0 && envs == 6)) || { say "patch.sed: $n pulls, $envs of 6 daemon changes patched in $client"; exit 1; }
cp "$here/1.6/rig_test.go" "$client/zz_ctrbox_rig_test.go"

export GOPATH=$gopath GO111MODULE=off GOFLAGS= GOTOOLCHAIN=local GOPROXY=off GOCACHE=$out/gocache
export CGO_ENABLED=0 GOENV=off
go=$GOROOT/bin/go
say "building client.test with $("$go" version) (containerd $srcver, $n pulls patched)"
(cd "$client" && "$go" test -c -o "$out/client.test.new" .)
mv "$out/client.test.new" "$out/client.test"
echo "containerd $srcver go $("$go" env GOVERSION)" >"$out/version"
echo "$key" >"$out/.key"
say "built: $(cat "$out/version")"
