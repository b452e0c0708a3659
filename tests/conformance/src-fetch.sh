#!/bin/bash
# src-fetch.sh SUITE DEST SOURCE: a Debian suite's source package SOURCE (its .dsc, upstream and
# debian tarballs) unpacked with dpkg-source -x into DEST/SOURCE-VERSION (Debian's patches applied).
# Prints "SOURCE VERSION DIR".
#
# A private apt state under $CTRBOX_APT_CACHE (default /var/cache/ctrbox)/apt-SUITE-src: its own
# deb-src list, derived from the system's /etc/apt/sources.list.d/debian.sources (the main stanza,
# Types changed to deb-src and Suites to SUITE, so no mirror address is written anywhere), its own
# lists. The lists are refreshed at most once a day; the downloaded source files stay in the cache
# (DIR/src), so fresh clones (CI) do not fetch them again.
set -euo pipefail

usage="usage: src-fetch.sh SUITE DEST SOURCE"
suite=${1:?$usage}
dest=${2:?$usage}
src=${3:?$usage}
[[ $suite =~ ^[a-z][a-z0-9-]*$ ]] || { echo "src-fetch.sh: bad suite name '$suite'" >&2; exit 2; }
[[ $src =~ ^[a-z0-9][a-z0-9.+-]*$ ]] || { echo "src-fetch.sh: bad source name '$src'" >&2; exit 2; }

me=src-fetch.sh
. "$(dirname "${BASH_SOURCE[0]}")/../rig/apt-state.sh"
private_apt_state "$suite-src" "$suite" deb-src
state=$apt_state
mkdir -p "$state/src"
chmod 700 "$state"

ver=$(apt-cache "${apt_opts[@]}" showsrc --only-source "$src" 2>/dev/null |
	sed -n 's/^Version: //p' | sort -V | tail -1)
[[ -n $ver ]] || { echo "src-fetch.sh: source $src not in $suite" >&2; exit 1; }
uver=${ver#*:}
dsc=$state/src/${src}_${uver}.dsc
if [[ ! -e $dsc ]]; then
	(cd "$state/src" && apt-get -qq "${apt_opts[@]}" source --download-only "$src=$ver" >&2)
fi
[[ -e $dsc ]] || { echo "src-fetch.sh: no $dsc after download" >&2; exit 1; }

dir=$dest/$src-${uver%-*}
if [[ $(cat "$dir/.ctrbox-version" 2>/dev/null) != "$ver" ]]; then
	rm -rf "$dir"
	mkdir -p "$dest"
	# Its output only on failure: gpgv cannot check the .dsc's signature without debian-keyring
	# (apt checked the files' hashes against the signed Sources index already).
	if ! dpkg-source -q --no-copy -x "$dsc" "$dir" >"$dest/dpkg-source.log" 2>&1; then
		cat "$dest/dpkg-source.log" >&2
		exit 1
	fi
	rm -f "$dest/dpkg-source.log"
	echo "$ver" >"$dir/.ctrbox-version"
fi
echo "$src $ver $dir"
