#!/bin/bash
# suite-fetch.sh SUITE DEST PACKAGE...: another Debian suite's packages (testing's containerd, say)
# unpacked under DEST/PACKAGE with dpkg-deb -x, never installed over the system's.
#
# A private apt state under $CTRBOX_APT_CACHE (default /var/cache/ctrbox), one per suite: its own
# source list, derived from the system's /etc/apt/sources.list.d/debian.sources with only the
# main stanza's Suites changed to SUITE (so no mirror address is written anywhere), its own lists
# and archives directories. The lists are refreshed at most once a day; downloaded .debs stay in
# the cache, so fresh clones (CI) do not fetch them again. Prints "PACKAGE VERSION" per package.
#
# suite-fetch.sh -r REGEX SUITE DEST PACKAGE...: the PACKAGEs and their recursive Depends whose
# names match REGEX (an extended regex, anchored: '^golang-.*-dev$' is a Go source closure), real
# packages only. Missing .debs are downloaded in one apt-get call.
set -euo pipefail

usage="usage: suite-fetch.sh [-r REGEX] SUITE DEST PACKAGE..."
closure=''
if [[ ${1:-} == -r ]]; then
	closure=${2:?$usage}
	shift 2
fi
suite=${1:?$usage}
dest=${2:?$usage}
shift 2
(($# > 0)) || { echo "suite-fetch.sh: no package named" >&2; exit 2; }
[[ $suite =~ ^[a-z][a-z0-9-]*$ ]] || { echo "suite-fetch.sh: bad suite name '$suite'" >&2; exit 2; }

me=suite-fetch.sh
. "$(dirname "${BASH_SOURCE[0]}")/apt-state.sh"
private_apt_state "$suite" "$suite" deb
state=$apt_state

pkgs=("$@")
if [[ -n $closure ]]; then
	# apt-cache prints every package of the closure unindented (virtual ones in <>), its
	# dependencies indented below it.
	mapfile -t pkgs < <({
		printf '%s\n' "$@"
		apt-cache "${apt_opts[@]}" depends --recurse --no-recommends --no-suggests --no-conflicts \
			--no-breaks --no-replaces --no-enhances "$@" | grep -v '^[ <]' | grep -E -- "$closure" || true
	} | sort -u)
fi

# One apt-cache call for every version (the candidate of each: --no-all-versions).
declare -A vers=()
while read -r p v; do
	[[ -n ${vers[$p]:-} ]] || vers[$p]=$v
done < <(apt-cache "${apt_opts[@]}" show --no-all-versions "${pkgs[@]}" 2>/dev/null |
	awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }')

# debof PKG VER: deb=the cached .deb of that version, or empty (no fork: hundreds of packages).
debof() {
	local f=("$state/archives/${1}_${2//:/%3a}_"*.deb)
	deb=${f[0]}
	[[ -e $deb ]] || deb=''
}
missing=()
for pkg in "${pkgs[@]}"; do
	ver=${vers[$pkg]:-}
	[[ -n $ver ]] || { echo "suite-fetch.sh: $pkg not in $suite" >&2; exit 1; }
	debof "$pkg" "$ver"
	[[ -n $deb ]] || missing+=("$pkg=$ver")
done
if ((${#missing[@]} > 0)); then
	(cd "$state/archives" && apt-get -qq "${apt_opts[@]}" download "${missing[@]}" >&2)
fi

mkdir -p "$dest"
for pkg in "${pkgs[@]}"; do
	ver=${vers[$pkg]}
	debof "$pkg" "$ver"
	[[ -n $deb ]] || { echo "suite-fetch.sh: no .deb of $pkg $ver after download" >&2; exit 1; }
	have=''
	[[ ! -r $dest/$pkg/.version ]] || read -r have <"$dest/$pkg/.version" || true
	if [[ $have != "$ver" ]]; then
		rm -rf "$dest/$pkg"
		mkdir -p "$dest/$pkg"
		dpkg-deb -x "$deb" "$dest/$pkg"
		echo "$ver" >"$dest/$pkg/.version"
	fi
	echo "$pkg $ver"
done
