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

sys=/etc/apt/sources.list.d/debian.sources
[[ -r $sys ]] || { echo "src-fetch.sh: no $sys to derive the source list from" >&2; exit 1; }
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:?}")
state=${CTRBOX_APT_CACHE:-/var/cache/ctrbox}/apt-$suite-src
mkdir -p "$state/lists/partial" "$state/cache" "$state/etc" "$state/src"
chmod 700 "$state"

# The stanza whose Suites name the system's own release (not -security, not -updates only).
awk -v suite="$suite" -v cn="$codename" 'BEGIN { RS = ""; ORS = "\n\n" }
	$0 ~ "(^|\n)Suites:[ \t]*" cn "([ \t]|\n|$)" {
		n = split($0, lines, "\n"); out = ""
		for (i = 1; i <= n; i++) {
			if (lines[i] ~ /^Suites:/) lines[i] = "Suites: " suite
			if (lines[i] ~ /^Types:/) lines[i] = "Types: deb-src"
			out = out lines[i] "\n"
		}
		printf "%s\n", out; found = 1; exit
	}
	END { if (!found) exit 1 }' "$sys" >"$state/etc/$suite-src.sources.new" ||
	{ echo "src-fetch.sh: no stanza for $codename in $sys" >&2; exit 1; }
mv "$state/etc/$suite-src.sources.new" "$state/etc/$suite-src.sources"

apt_opts=(
	-o "Dir::Etc::SourceList=$state/etc/$suite-src.sources"
	-o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$state/lists"
	-o "Dir::Cache=$state/cache"
	-o Dir::State::status=/var/lib/dpkg/status
	-o APT::Get::List-Cleanup=false
	-o APT::Sandbox::User=root
)
stamp=$state/lists/.updated
if [[ ! -e $stamp || -n $(find "$stamp" -mmin +1440) ]]; then
	apt-get -qq "${apt_opts[@]}" update >&2
	touch "$stamp"
fi

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
