#!/bin/bash
# image.sh OUT.tar NAME: the conformance suites' busybox test image, offline: the bats suite's
# image (tests/bats/mkimage.sh) plus a layer with the system users and groups a busybox image
# has (the suites run as www-data, uid 33, and uid 3 expecting gid 3) and /run, named NAME for
# `import` (io.containerd.image.name). Cached next to OUT by content: rebuilt only when the base
# image, this script or NAME change.
set -euo pipefail

out=${1:?usage: image.sh OUT.tar NAME}
name=${2:?usage: image.sh OUT.tar NAME}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
epoch=${SOURCE_DATE_EPOCH:-0}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

work=$(mktemp -d "${TMPDIR:-/tmp}/ctrbox-confimage.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$repo/tests/bats/mkimage.sh" "$work/base.tar" "$name"
key=$({ sha256sum <"$work/base.tar"; sha256sum <"${BASH_SOURCE[0]}"; echo "$name"; } | sha256sum | cut -c1-16)
if [[ -s $out && $(cat "$out.key" 2>/dev/null) == "$key" ]]; then
	exit 0
fi

oci=$work/oci
mkdir "$oci"
tar -xf "$work/base.tar" -C "$oci"
tag=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"] // "latest"' "$oci/index.json")
umoci unpack --image "$oci:$tag" "$work/bundle" >/dev/null
etc=$work/bundle/rootfs/etc
cat >"$etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
EOF
cat >"$etc/group" <<'EOF'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
lp:x:7:
mail:x:8:
kmem:x:9:
wheel:x:10:root
floppy:x:11:
news:x:13:
uucp:x:14:
www-data:x:33:
operator:x:37:
users:x:100:
nogroup:x:65534:
EOF
# /run: TestUserNamespaces/ReadonlyRootFS mounts the spec's /run tmpfs on a read-only rootfs,
# where runc cannot make the mount point.
mkdir -p "$work/bundle/rootfs/run"
touch -h -d "@$epoch" "$etc/passwd" "$etc/group" "$etc" "$work/bundle/rootfs/run"
umoci repack --image "$oci:$tag" --history.created "$created" \
	--history.created_by "ctrbox tests/conformance/image.sh" "$work/bundle"
umoci gc --layout "$oci"
jq -c --arg n "$name" '.manifests[].annotations["io.containerd.image.name"] = $n' \
	"$oci/index.json" >"$work/index.json"
mv "$work/index.json" "$oci/index.json"
find "$oci" -exec touch -h -d "@$epoch" {} +
mkdir -p "$(dirname "$out")"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" -C "$oci" -cf "$out.new.$$" .
mv "$out.new.$$" "$out" # atomic: the two shims' run.sh may build it at once
echo "$key" >"$out.key"
