# apt-state.sh, sourced: private_apt_state NAME SUITE TYPES sets up a private apt state for
# another Debian suite (or the system's own) under $CTRBOX_APT_CACHE (default /var/cache/ctrbox)/
# apt-NAME, never touching the system's: its own source list, derived from the system's
# /etc/apt/sources.list.d/debian.sources (the stanza of the system's release, with Suites set to
# SUITE and Types to TYPES: deb or deb-src; so no mirror address is written anywhere), its own
# lists, cache and archives, refreshed at most once a day. Sets $apt_state (the directory) and
# the array apt_opts (the options every apt-get/apt-cache call takes). Callers run with set -e;
# $me names them in errors.
private_apt_state() {
	local name=$1 suite=$2 types=$3 sys=/etc/apt/sources.list.d/debian.sources codename stamp
	[[ -r $sys ]] || { echo "$me: no $sys to derive the source list from" >&2; return 1; }
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:?}")
	apt_state=${CTRBOX_APT_CACHE:-/var/cache/ctrbox}/apt-$name
	mkdir -p "$apt_state/lists/partial" "$apt_state/archives/partial" "$apt_state/cache" \
		"$apt_state/etc"
	# The stanza whose Suites name the system's own release (not -security, not -updates only).
	awk -v suite="$suite" -v types="$types" -v cn="$codename" 'BEGIN { RS = ""; ORS = "\n\n" }
		$0 ~ "(^|\n)Suites:[ \t]*" cn "([ \t]|\n|$)" {
			n = split($0, lines, "\n"); out = ""
			for (i = 1; i <= n; i++) {
				if (lines[i] ~ /^Suites:/) lines[i] = "Suites: " suite
				if (lines[i] ~ /^Types:/) lines[i] = "Types: " types
				out = out lines[i] "\n"
			}
			printf "%s\n", out; found = 1; exit
		}
		END { if (!found) exit 1 }' "$sys" >"$apt_state/etc/$name.sources.new" ||
		{ echo "$me: no stanza for $codename in $sys" >&2; return 1; }
	mv "$apt_state/etc/$name.sources.new" "$apt_state/etc/$name.sources"
	apt_opts=(
		-o "Dir::Etc::SourceList=$apt_state/etc/$name.sources"
		-o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$apt_state/lists"
		-o "Dir::Cache=$apt_state/cache"
		-o "Dir::Cache::Archives=$apt_state/archives"
		-o Dir::State::status=/var/lib/dpkg/status
		-o APT::Get::List-Cleanup=false
		-o APT::Sandbox::User=root
	)
	stamp=$apt_state/lists/.updated
	if [[ ! -e $stamp || -n $(find "$stamp" -mmin +1440) ]]; then
		apt-get -qq "${apt_opts[@]}" update >&2
		touch "$stamp"
	fi
}
