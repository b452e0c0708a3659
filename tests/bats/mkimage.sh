#!/bin/bash
# Builds a tiny busybox OCI image tarball for the bats suite (offline, reproducible, cached).
#
# usage: mkimage.sh OUT.tar [NAME:TAG]      (default NAME:TAG = ctrbox.test/busybox:latest)
#
# The tarball is an OCI image layout whose index.json carries the containerd annotation
# io.containerd.image.name, so a plain `ctr images import OUT.tar` names the image NAME:TAG.
# Built once per (busybox binary, this script, NAME:TAG) and cached in
# ${CTRBOX_TEST_CACHE:-${XDG_CACHE_HOME:-/var/tmp}/ctrbox-test}; set CTRBOX_TEST_NOCACHE=1 to rebuild.
# Needs: umoci, jq, tar, /bin/busybox (busybox-static). Works as root or not (umoci --rootless).
set -euo pipefail

out=${1:?usage: mkimage.sh OUT.tar [NAME:TAG]}
name=${2:-ctrbox.test/busybox:latest}
busybox=${BUSYBOX:-/bin/busybox}
epoch=${SOURCE_DATE_EPOCH:-0}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

die() { echo "mkimage.sh: $*" >&2; exit 1; }
for t in umoci jq tar sha256sum; do command -v "$t" >/dev/null || die "missing tool: $t"; done
[[ -x $busybox ]] || die "no $busybox (apt-get install busybox-static)"
case $(file -L "$busybox" 2>/dev/null) in *"dynamically linked"*) die "$busybox is not static" ;; esac

key=$( { sha256sum <"$busybox"; sha256sum <"${BASH_SOURCE[0]}"; echo "$name $epoch"; } |
	sha256sum | cut -c1-16)
bbver=$("$busybox" 2>&1 | sed -n '1s/^BusyBox v\([^ ]*\).*/\1/p') # sed reads it all: no SIGPIPE
cache=${CTRBOX_TEST_CACHE:-${XDG_CACHE_HOME:-/var/tmp}/ctrbox-test}
cached="$cache/busybox-${bbver:-unknown}-$key.tar"

if [[ -z ${CTRBOX_TEST_NOCACHE:-} && -s $cached ]]; then
	[[ $cached -ef $out ]] || cp "$cached" "$out"
	exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ctrbox-mkimage.XXXXXX")
trap 'rm -rf "$work"' EXIT
oci="$work/oci"
bundle="$work/bundle"
tag=${name##*:}
[[ $tag == "$name" || $tag == */* ]] && tag=latest # NAME without a tag

umoci init --layout "$oci"
umoci new --image "$oci:$tag"
rootless=()
[[ $EUID -eq 0 ]] || rootless=(--rootless) # files then belong to root in the image anyway
umoci unpack "${rootless[@]}" --image "$oci:$tag" "$bundle" >/dev/null

root="$bundle/rootfs"
mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,root,var/tmp}
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 0700 "$root/root"
install -m 0755 "$busybox" "$root/bin/busybox"
# Every applet as a relative symlink — except `busybox` itself, which is in the list too
# and would replace the binary with a symlink to itself.
"$busybox" --list | while read -r applet; do
	[[ -n $applet && $applet != busybox ]] || continue
	ln -s busybox "$root/bin/$applet"
done
ln -s bin "$root/sbin"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
# Fixed mtimes so the layer (and so every digest) is the same on every build.
find "$root" -exec touch -h -d "@$epoch" {} +

umoci repack --image "$oci:$tag" --history.created "$created" \
	--history.created_by "ctrbox tests/bats/mkimage.sh" "$bundle"
umoci config --image "$oci:$tag" --created "$created" --history.created "$created" \
	--history.created_by "ctrbox tests/bats/mkimage.sh" \
	--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	--config.cmd sh --config.workingdir /
umoci gc --layout "$oci"

# Name the image for containerd (ctr images import reads io.containerd.image.name first).
jq -c --arg n "$name" '.manifests[].annotations["io.containerd.image.name"] = $n' \
	"$oci/index.json" >"$work/index.json"
mv "$work/index.json" "$oci/index.json"

find "$oci" -exec touch -h -d "@$epoch" {} +
mkdir -p "$(dirname "$out")"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
	-C "$oci" -cf "$work/image.tar" .
mv "$work/image.tar" "$out"

if [[ -z ${CTRBOX_TEST_NOCACHE:-} ]] && mkdir -p "$cache" 2>/dev/null; then
	find "$cache" -maxdepth 1 -name 'busybox-*.tar' ! -name "${cached##*/}" -delete 2>/dev/null || true
	if ! { cp "$out" "$cached.$$" && mv "$cached.$$" "$cached"; }; then rm -f "$cached.$$"; fi
fi
