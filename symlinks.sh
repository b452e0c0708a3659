#!/bin/sh
# symlinks.sh DIR [CTRBOX]: one symlink per applet in DIR, pointing at the ctrbox binary.
# The applet list comes from `ctrbox --list`, the single source of truth.
set -eu
dir=${1:?usage: symlinks.sh DIR [CTRBOX]}
here=$(cd "$(dirname "$0")" && pwd)
bin=${2:-}
if [ -z "$bin" ]; then
	if [ -x "$dir/ctrbox" ]; then bin="$dir/ctrbox"; else bin="$here/build/ctrbox"; fi
fi
[ -x "$bin" ] || { echo "symlinks.sh: $bin is not executable (run make first)" >&2; exit 1; }
mkdir -p "$dir"
# A relative target when the binary sits in DIR keeps DESTDIR installs relocatable.
if [ "$(cd "$(dirname "$bin")" && pwd)" = "$(cd "$dir" && pwd)" ]; then target=ctrbox; else target=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin"); fi
for name in $("$bin" --list); do
	ln -sfn "$target" "$dir/$name"
done
