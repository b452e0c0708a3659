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

sys=/etc/apt/sources.list.d/debian.sources
[[ -r $sys ]] || { echo "suite-fetch.sh: no $sys to derive the source list from" >&2; exit 1; }
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:?}")
state=${CTRBOX_APT_CACHE:-/var/cache/ctrbox}/apt-$suite
mkdir -p "$state/lists/partial" "$state/archives/partial" "$state/cache" "$state/etc"

# The stanza whose Suites name the system's own release (not -security, not -updates only).
awk -v suite="$suite" -v cn="$codename" 'BEGIN { RS = ""; ORS = "\n\n" }
	$0 ~ "(^|\n)Suites:[ \t]*" cn "([ \t]|\n|$)" {
		n = split($0, lines, "\n"); out = ""
		for (i = 1; i <= n; i++) {
			if (lines[i] ~ /^Suites:/) lines[i] = "Suites: " suite
			out = out lines[i] "\n"
		}
		printf "%s\n", out; found = 1; exit
	}
	END { if (!found) exit 1 }' "$sys" >"$state/etc/$suite.sources.new" ||
	{ echo "suite-fetch.sh: no stanza for $codename in $sys" >&2; exit 1; }
mv "$state/etc/$suite.sources.new" "$state/etc/$suite.sources"

apt_opts=(
	-o "Dir::Etc::SourceList=$state/etc/$suite.sources"
	-o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$state/lists"
	-o "Dir::Cache=$state/cache"
	-o "Dir::Cache::Archives=$state/archives"
	-o Dir::State::status=/var/lib/dpkg/status
	-o APT::Get::List-Cleanup=false
	-o APT::Sandbox::User=root
)
stamp=$state/lists/.updated
if [[ ! -e $stamp || -n $(find "$stamp" -mmin +1440) ]]; then
	apt-get -qq "${apt_opts[@]}" update >&2
	touch "$stamp"
fi

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
