#!/bin/bash
# suite-fetch.sh SUITE DEST PACKAGE...: another Debian suite's packages (testing's containerd, say)
# unpacked under DEST/PACKAGE with dpkg-deb -x, never installed over the system's.
#
# A private apt state under $CTRBOX_APT_CACHE (default /var/cache/ctrbox), one per suite: its own
# source list, derived from the system's /etc/apt/sources.list.d/debian.sources with only the
# main stanza's Suites changed to SUITE (so no mirror address is written anywhere), its own lists
# and archives directories. The lists are refreshed at most once a day; downloaded .debs stay in
# the cache, so fresh clones (CI) do not fetch them again. Prints "PACKAGE VERSION" per package.
set -euo pipefail

suite=${1:?usage: suite-fetch.sh SUITE DEST PACKAGE...}
dest=${2:?usage: suite-fetch.sh SUITE DEST PACKAGE...}
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

mkdir -p "$dest"
for pkg in "$@"; do
	ver=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -1)
	[[ -n $ver ]] || { echo "suite-fetch.sh: $pkg not in $suite" >&2; exit 1; }
	deb=$(ls "$state/archives/${pkg}_${ver//:/%3a}_"*.deb 2>/dev/null | head -1 || true)
	if [[ -z $deb ]]; then
		(cd "$state/archives" && apt-get -qq "${apt_opts[@]}" download "$pkg=$ver" >&2)
		deb=$(ls "$state/archives/${pkg}_${ver//:/%3a}_"*.deb | head -1)
	fi
	if [[ $(cat "$dest/$pkg/.version" 2>/dev/null) != "$ver" ]]; then
		rm -rf "$dest/$pkg"
		mkdir -p "$dest/$pkg"
		dpkg-deb -x "$deb" "$dest/$pkg"
		echo "$ver" >"$dest/$pkg/.version"
	fi
	echo "$pkg $ver"
done
