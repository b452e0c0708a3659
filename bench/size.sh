#!/bin/bash
# size.sh [-o] [-w REGEX] [MAP]: what takes the space in build/ctrbox, from the link map the
# Makefile writes next to it (build/ctrbox.map, ld -Map).
#
#   size.sh          one row per input archive (libc.a, libsqlite3.a, ...) or, for our own
#                    objects, per folder (applets/ctr, applets/runc_shim, ...): the bytes each
#                    puts into the loaded output sections, in columns text (.text, .init, .plt...),
#                    rodata (.rodata and friends), eh (.eh_frame, .eh_frame_hdr, .gcc_except_table),
#                    data (.data, .data.rel.ro, .tdata, .init_array, .got, ...), bss (.bss, .tbss,
#                    not in the file) and file (all but bss), sorted by file, then the total and
#                    the size of build/ctrbox stripped (strip -o, what bench/run.sh reports).
#   size.sh -o       the same per object file (archive members as ARCHIVE(MEMBER)), top 40.
#   size.sh -w REGEX why: the archive members whose name matches REGEX (e.g. 'dlopen|dl-open',
#                    'iconv', 'nss', 'libm'), each with the file and symbol that pulled it in
#                    (the map's "Archive member included to satisfy reference" part), followed up
#                    the chain to one of our own objects.
#
# Alignment padding (*fill*) is counted in the row of the section that follows it, so the total
# is the sum of the output sections. `make size` builds and runs this.
set -euo pipefail
export LC_ALL=C

mode=archive
why=''
while getopts 'ow:' o; do
	case $o in
	o) mode=object ;;
	w) why=$OPTARG ;;
	*) echo "usage: size.sh [-o] [-w REGEX] [MAP]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
map=${1:-build/ctrbox.map}
[[ -r $map ]] || { echo "size.sh: no link map $map (make builds it with build/ctrbox)" >&2; exit 1; }
bin=${map%.map}

if [[ -n $why ]]; then
	# The cross-reference part: "ARCHIVE(MEMBER)" on one line, "    FILE (SYMBOL)" on the next.
	awk -v re="$why" '
		/^Archive member included/ { on = 1; next }
		on && /^(Discarded input sections|Memory Configuration|Allocating common symbols|As-needed)/ { exit }
		!on { next }
		/^[^ ]/ { member = $1; if (NF > 1) { by[member] = $2; sym[member] = $3 } ; order[++n] = member; next }
		/^ / && member != "" { by[member] = $1; sym[member] = $2; member = "" }
		function short(f) { if (f ~ /^\//) sub(/.*\//, "", f); else sub(/^(build|build-[a-z]+)\//, "", f); return f }
		END {
			for (i = 1; i <= n; i++) {
				m = order[i]
				if (short(m) !~ re) continue
				line = short(m); cur = m; depth = 0
				while (cur in by && depth++ < 20) {
					line = line " <- " short(by[cur]) " " sym[cur]
					cur = by[cur]
				}
				print line
			}
		}' "$map"
	exit 0
fi

awk -v mode="$mode" '
	function hex(x,   i, v) {
		v = 0; x = tolower(substr(x, 3))
		for (i = 1; i <= length(x); i++) v = v * 16 + index("0123456789abcdef", substr(x, i, 1)) - 1
		return v
	}
	function class(s) {
		if (s ~ /^\.(eh_frame|eh_frame_hdr|gcc_except_table)$/) return "eh"
		if (s ~ /^\.(bss|tbss)$/) return "bss"
		if (s ~ /^\.(text|init|fini|plt|iplt|plt\.got|plt\.sec)$/) return "text"
		if (s ~ /^\.(rodata|rodata1|note.*|interp|hash|gnu\.hash|dynsym|dynstr|gnu\.version.*|rela\..*|relr\..*|stapsdt\.base)$/) return "rodata"
		return "data"
	}
	function group(f,   g) {
		if (f ~ /\.a\(/) {
			if (mode == "object") { g = f; sub(/.*\//, "", g); return g }
			g = f; sub(/\(.*/, "", g); sub(/.*\//, "", g); return g
		}
		if (mode == "object") { g = f; sub(/^(.*\/)?(build|build-[a-z]+)\//, "", g); sub(/^\/usr\/lib\/.*\//, "", g); return g }
		if (f ~ /^\/usr\//) return "crt*.o"
		g = f; sub(/^(.*\/)?(build|build-[a-z]+)\//, "", g)
		if (g ~ /\//) sub(/\/[^\/]*$/, "", g); else g = "main.o"
		return g
	}
	function add(sec, size, file,   c, g) {
		c = class(sec); g = group(file)
		sz[g, c] += size + pend; pend = 0
		if (c != "bss") tot[g] += size
		all[c] += size; seen[g] = 1
	}
	/^Linker script and memory map/ { on = 1; next }
	!on { next }
	# An output section: its name at column 0, address and size there or on the next line.
	/^\.[^ ]+/ { osec = $1; alloc = (NF >= 2) ? ($2 != "0x0000000000000000") : -1; pend = 0; next }
	alloc == -1 && /^ +0x/ { alloc = ($1 != "0x0000000000000000"); next }
	!alloc { next }
	/^ \*fill\*/ { pend += hex($3); next }
	# An input section: " .name ADDR SIZE FILE", or " .name" alone and "  ADDR SIZE FILE" after.
	/^ [.A-Z]/ && $1 !~ /^\*/ {
		if (NF >= 4 && $2 ~ /^0x/) add(osec, hex($3), $4)
		else if (NF == 1) want = 1
		next
	}
	want && /^ +0x/ { if (NF >= 3 && $2 ~ /^0x/) add(osec, hex($2), $3); want = 0; next }
	{ want = 0 }
	END {
		for (g in seen) {
			f = sz[g, "text"] + sz[g, "rodata"] + sz[g, "eh"] + sz[g, "data"]
			printf "%d\t%s\t%d\t%d\t%d\t%d\t%d\n", f, g, sz[g, "text"], sz[g, "rodata"], sz[g, "eh"], sz[g, "data"], sz[g, "bss"]
		}
	}' "$map" | sort -rn | awk -v mode="$mode" -v top="${SIZE_TOP:-40}" -F '\t' '
	function kb(x) { return sprintf("%9.1f", x / 1024) }
	function line(g, a, b, c, d, e, f) { printf "%-28s %s %s %s %s %s %s\n", g, kb(a), kb(b), kb(c), kb(d), kb(e), kb(f) }
	BEGIN { printf "%-28s %9s %9s %9s %9s %9s %9s\n", mode " (kB)", "text", "rodata", "eh", "data", "bss", "file" }
	{
		for (i = 1; i <= 7; i++) t[i] += $i
		if (mode == "archive" || NR <= top) line($2, $3, $4, $5, $6, $7, $1)
	}
	END { line("total", t[3], t[4], t[5], t[6], t[7], t[1]) }'
if [[ -x $bin ]]; then
	tmp=$(mktemp)
	trap 'rm -f "$tmp"' EXIT
	strip -o "$tmp" "$bin"
	echo "$bin stripped: $(($(stat -c %s "$tmp") / 1024)) kB ($(stat -c %s "$tmp") bytes; goal 2048 kB)"
fi
