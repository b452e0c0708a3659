#!/usr/bin/env bats
# make deb's two packages, inspected as dpkg sees them (dpkg-deb -c/-I/-x, never installed here),
# make deb-lint, the man pages, make install's share/ files, and ctrbox-ctr's bash completion
# against ctr's (the system's ctr 1.6: urfave/cli v1, whose rule ctrbox-ctr follows).

load helpers
bats_require_minimum_version 1.5.0

CTR16=/usr/bin/ctr

setup_file() {
	[[ -z ${CTRBOX_SANITIZER:-} ]] || return 0
	export DEB_OUT=$CTRBOX_TEST_DIR/deb
	mkdir -p "$DEB_OUT"
	make -C "$REPO" --no-print-directory deb >"$DEB_OUT/make.log" 2>&1 || return 0
	local v
	v=$(sed -n 's/^#define CTRBOX_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\)$/\2/p' \
		"$REPO/include/ctrbox/version.h" | paste -sd.)
	export DEB_VERSION=$v-1 DEB_ARCH
	DEB_ARCH=$(dpkg --print-architecture)
	export DEB_BIN=$REPO/build/deb/ctrbox_${DEB_VERSION}_$DEB_ARCH.deb
	export DEB_DEV=$REPO/build/deb/libctrbox-dev_${DEB_VERSION}_$DEB_ARCH.deb
	dpkg-deb -x "$DEB_BIN" "$DEB_OUT/bin"
	dpkg-deb -e "$DEB_BIN" "$DEB_OUT/bin-control"
	dpkg-deb -x "$DEB_DEV" "$DEB_OUT/dev"
	dpkg-deb -e "$DEB_DEV" "$DEB_OUT/dev-control"
}

setup() {
	[[ -z ${CTRBOX_SANITIZER:-} ]] || skip "$CTRBOX_SANITIZER build: the packages hold the static build"
	[[ -n ${DEB_BIN:-} && -f $DEB_BIN && -f $DEB_DEV ]] || {
		cat "$CTRBOX_TEST_DIR/deb/make.log" >&2
		false
	}
}

# ctrbox-ctr by its name, from a directory of the test's own.
cctr() { "$SHIMDIR/ctrbox-ctr" "$@"; }

@test "make deb: both packages, named and versioned from version.h, with the control fields" {
	run dpkg-deb -f "$DEB_BIN" Package Version Architecture Depends Recommends Section
	assert_success
	assert_line "Package: ctrbox"
	assert_line "Version: $DEB_VERSION"
	assert_line "Architecture: $DEB_ARCH"
	assert_line "Recommends: containerd, runc"
	refute_line --partial "Depends:" # static: nothing beyond what Essential packages give
	run dpkg-deb -f "$DEB_DEV" Package Version Depends Section
	assert_line "Package: libctrbox-dev"
	assert_line "Version: $DEB_VERSION"
	assert_line "Depends: libprotobuf-c-dev, libnghttp2-dev"
	assert_line "Section: libdevel"
	# Installed-Size is the tree's, in KiB
	local size
	size=$(dpkg-deb -f "$DEB_BIN" Installed-Size)
	((size >= $(stat -c %s "$DEB_OUT/bin/usr/bin/ctrbox") / 1024))
}

@test "ctrbox package: the binary, its links by ctrbox --list, all resolving to it" {
	local r=$DEB_OUT/bin
	[[ -f $r/usr/bin/ctrbox && ! -L $r/usr/bin/ctrbox ]]
	[[ $(readlink "$r/usr/bin/ctrbox-ctr") == ctrbox ]]
	# /usr/libexec/ctrbox: exactly ctrbox --list's names, each ../../bin/ctrbox
	diff <("$CTRBOX" --list | sort) <(ls "$r/usr/libexec/ctrbox" | sort)
	local name
	for name in $("$CTRBOX" --list); do
		[[ $(readlink "$r/usr/libexec/ctrbox/$name") == ../../bin/ctrbox ]]
		[[ $(readlink -f "$r/usr/libexec/ctrbox/$name") == "$(readlink -f "$r/usr/bin/ctrbox")" ]]
	done
	# /usr/sbin: the operator's tools this build has, ../bin/ctrbox
	for name in ctrbox-snapshotter ctrbox-journal ctrbox-setup; do
		if "$CTRBOX" --list | grep -qx "$name"; then
			[[ $(readlink "$r/usr/sbin/$name") == ../bin/ctrbox ]]
			[[ $(readlink -f "$r/usr/sbin/$name") == "$(readlink -f "$r/usr/bin/ctrbox")" ]]
		else
			[[ ! -e $r/usr/sbin/$name ]]
		fi
	done
	# nothing else on a PATH: /usr/bin has ctrbox and ctrbox-ctr only
	run ls "$r/usr/bin"
	assert_output $'ctrbox\nctrbox-ctr'
	# the packaged binary dispatches by the names it is installed under
	run "$r/usr/libexec/ctrbox/ctrbox-ctr" --version
	assert_success
	assert_output "ctrbox-ctr (ctrbox) ${DEB_VERSION%-*}"
	run "$r/usr/sbin/ctrbox-snapshotter" --version
	assert_output "ctrbox-snapshotter (ctrbox) ${DEB_VERSION%-*}"
}

@test "ctrbox package: stripped, static, the same applets as build/ctrbox" {
	run file -L "$DEB_OUT/bin/usr/bin/ctrbox"
	assert_output --partial "statically linked"
	assert_output --partial ", stripped"
	diff <("$CTRBOX" --list) <("$DEB_OUT/bin/usr/bin/ctrbox" --list)
}

@test "modes and owners: root/root, directories and programs 0755, the rest 0644, no build path" {
	local deb line bad=0
	for deb in "$DEB_BIN" "$DEB_DEV"; do
		while read -r line; do
			local mode=${line%% *} owner
			owner=$(awk '{print $2}' <<<"$line")
			[[ $owner == root/root ]] || { echo "owner: $line"; bad=1; }
			case $mode in
			d*) [[ $mode == drwxr-xr-x ]] || { echo "dir mode: $line"; bad=1; } ;;
			l*) ;;
			-*)
				if [[ $line == *" ./usr/bin/ctrbox" ]]; then
					[[ $mode == -rwxr-xr-x ]] || { echo "binary mode: $line"; bad=1; }
				else
					[[ $mode == -rw-r--r-- ]] || { echo "file mode: $line"; bad=1; }
				fi
				;;
			*) echo "unexpected: $line"; bad=1 ;;
			esac
		done < <(dpkg-deb -c "$deb")
	done
	[[ $bad == 0 ]]
	# no path of the build tree in any file (the binary's strings included)
	run grep -rlF "$REPO" "$DEB_OUT/bin" "$DEB_OUT/dev" "$DEB_OUT/bin-control" "$DEB_OUT/dev-control"
	assert_failure
	refute_output
	run bash -c "strings '$DEB_OUT/bin/usr/bin/ctrbox' | grep -F '$REPO'"
	refute_output
}

@test "control members: md5sums match the files, maintainer scripts 0755 and valid sh, no conffiles" {
	local p
	for p in bin dev; do
		(cd "$DEB_OUT/$p" && md5sum --quiet -c "$DEB_OUT/$p-control/md5sums")
		# every regular file is listed
		diff <(cd "$DEB_OUT/$p" && find . -type f -printf '%P\n' | LC_ALL=C sort) \
			<(awk '{print $2}' "$DEB_OUT/$p-control/md5sums" | LC_ALL=C sort)
		[[ ! -e $DEB_OUT/$p-control/conffiles ]]
	done
	for p in prerm postrm postinst; do
		[[ $(stat -c %a "$DEB_OUT/bin-control/$p") == 755 ]]
		sh -n "$DEB_OUT/bin-control/$p"
		# an action dpkg never passes is refused
		run sh "$DEB_OUT/bin-control/$p" no-such-action
		assert_failure
	done
	# prerm undoes ctrbox-setup only on removal, never on upgrade; postinst enables nothing
	run grep -n "ctrbox-setup disable" "$DEB_OUT/bin-control/prerm"
	assert_success
	run grep -nE "enable|start" "$DEB_OUT/bin-control/postinst"
	refute_output --regexp '^[0-9]+:[^#]*(systemctl (enable|start)|deb-systemd-(helper enable|invoke start))'
}

@test "ctrbox package: man pages gzipped -9n for every program on a PATH, completion, docs" {
	local r=$DEB_OUT/bin prog sec
	for prog in "$r"/usr/bin/* "$r"/usr/sbin/*; do
		prog=${prog##*/}
		ls "$r"/usr/share/man/man[18]/"$prog".[18].gz >/dev/null
	done
	for page in "$r"/usr/share/man/man*/*.gz "$DEB_OUT"/dev/usr/share/man/man3/*.gz; do
		# -n: no name, no time in the gzip header
		gzip -t "$page"
		[[ $(od -An -tx1 -j4 -N4 "$page" | tr -d ' ') == 00000000 ]]
		run man -l "$page"
		assert_success
		assert_output --partial "NAME"
	done
	[[ -f $r/usr/share/bash-completion/completions/ctrbox-ctr ]]
	cmp "$r/usr/share/bash-completion/completions/ctrbox-ctr" "$REPO/packaging/bash-completion/ctrbox-ctr"
	[[ -f $r/usr/share/doc/ctrbox/copyright ]]
	run bash -c "zcat '$r/usr/share/doc/ctrbox/changelog.Debian.gz' | head -1"
	assert_output "ctrbox ($DEB_VERSION) unstable; urgency=medium"
}

@test "ctrbox package: the units and the containerd drop-in when the tree has them, never enabled" {
	local r=$DEB_OUT/bin u
	for u in ctrbox-snapshotter.service ctrbox-snapshotter.socket; do
		if [[ -f $REPO/packaging/systemd/$u ]]; then
			cmp "$REPO/packaging/systemd/$u" "$r/lib/systemd/system/$u"
		else
			[[ ! -e $r/lib/systemd/system/$u ]]
		fi
	done
	if [[ -f $REPO/packaging/containerd/ctrbox-snapshotter.toml ]]; then
		cmp "$REPO/packaging/containerd/ctrbox-snapshotter.toml" \
			"$r/usr/share/ctrbox/containerd/ctrbox-snapshotter.toml"
	fi
	# no enablement shipped: no .wants links, nothing under /etc
	run find "$r" -path '*wants*' -o -path "$r/etc*"
	refute_output
}

@test "libctrbox-dev: archive in the multiarch libdir, headers, ctrbox.pc for /usr, libctrbox(3)" {
	local r=$DEB_OUT/dev ma
	ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
	[[ -f $r/usr/lib/$ma/libctrbox.a ]]
	[[ -f $r/usr/include/ctrbox/ctrbox.h && -f $r/usr/include/ctrbox/version.h ]]
	ls "$r"/usr/include/ctrbox/proto/task/shim.pb-c.h
	diff <(ls "$REPO/include/ctrbox") <(ls "$r/usr/include/ctrbox" | grep -v '^proto$')
	run grep -E '^(prefix|libdir|includedir)=' "$r/usr/lib/$ma/pkgconfig/ctrbox.pc"
	assert_line "prefix=/usr"
	assert_line "libdir=\${prefix}/lib/$ma"
	assert_line "includedir=\${prefix}/include"
	[[ -f $r/usr/share/man/man3/libctrbox.3.gz ]]
	# the archive still exports the public API (only debug info was stripped)
	run nm -g --defined-only "$r/usr/lib/$ma/libctrbox.a"
	assert_output --partial " T ctrbox_shim_run"
}

@test "make deb again: byte for byte the same packages (time stamps are the last commit's)" {
	cp "$DEB_BIN" "$DEB_DEV" "$DEB_OUT/"
	run make -C "$REPO" --no-print-directory deb
	assert_success
	cmp "$DEB_BIN" "$DEB_OUT/${DEB_BIN##*/}"
	cmp "$DEB_DEV" "$DEB_OUT/${DEB_DEV##*/}"
}

@test "make deb-lint: lintian reports nothing outside packaging/lintian-accepted, each with a reason" {
	# every accepted tag has its why on the same line
	run awk '!/^#/ && NF == 1' "$REPO/packaging/lintian-accepted"
	refute_output
	run make -C "$REPO" --no-print-directory deb-lint
	assert_success
	assert_output --partial "deb-lint: only accepted tags"
	refute_output --partial "not accepted"
}

@test "man pages: one per doc/man source, rendered by man without warnings" {
	run make -C "$REPO" --no-print-directory man
	assert_success
	local src page n=0
	for src in "$REPO"/doc/man/*.scd; do
		page=$REPO/build/man/$(basename "$src" .scd)
		[[ -s $page ]]
		run --separate-stderr env MANWIDTH=80 man --warnings -l "$page"
		assert_success
		[[ -z $stderr ]] || { echo "$stderr"; false; }
		assert_output --partial "SYNOPSIS"
		n=$((n + 1))
	done
	((n >= 5))
	run man -l "$REPO/build/man/ctrbox-ctr.1"
	assert_output --partial "generate-bash-completion"
	[[ ${#output} -gt 2000 ]]
}

@test "make install: man pages and the completion under PREFIX/share, in DESTDIR" {
	local d=$CTRBOX_TEST_DIR/install
	run make -C "$REPO" --no-print-directory install DESTDIR="$d" PREFIX=/opt/cb
	assert_success
	local src name
	for src in "$REPO"/doc/man/*.scd; do
		name=$(basename "$src" .scd)
		[[ -f $d/opt/cb/share/man/man${name##*.}/$name ]]
	done
	[[ -f $d/opt/cb/share/bash-completion/completions/ctrbox-ctr ]]
	[[ -x $d/opt/cb/bin/ctrbox && -f $d/opt/cb/lib/libctrbox.a ]]
	rm -rf "$d"
}

# ---- completion ----

# ctr 1.6's and ctrbox-ctr's words for one line, each as one space-separated string.
comp_ctr() { "$CTR16" "$@" --generate-bash-completion 2>/dev/null | paste -sd' '; }
comp_ours() { cctr "$@" --generate-bash-completion 2>/dev/null | paste -sd' '; }

@test "completion: the same words as ctr 1.6 where ctrbox-ctr has the same commands" {
	[[ $("$CTR16" --version) == *" 1.6."* ]] || skip "$CTR16 is not ctr 1.6"
	local -a lines=(
		"-" "--n" "--add" "containers -" "containers ls -" "containers ls --q" "c list --quiet -"
		"namespaces" "ns" "plugins" "plugins ls -" "plugins ls -d -" "version -" "events -"
		"tasks exec -" "t kill -" "images ls -" "images import --snap" "snapshots -"
		"snapshots --snapshotter native ls -" "snapshots tree -" "containers ls" "-n default namespaces"
		"tasks ls --"
	)
	local line a b bad=0
	for line in "${lines[@]}"; do
		# shellcheck disable=SC2086
		a=$(comp_ctr $line)
		# shellcheck disable=SC2086
		b=$(comp_ours $line)
		[[ $a == "$b" ]] || { printf 'line "%s"\n  ctr:  %s\n  ours: %s\n' "$line" "$a" "$b"; bad=1; }
	done
	[[ $bad == 0 ]]
}

@test "completion: where the words differ, ctrbox-ctr lacks exactly those commands" {
	[[ $("$CTR16" --version) == *" 1.6."* ]] || skip "$CTR16 is not ctr 1.6"
	local line w bad=0
	for line in "" "containers" "tasks" "images" "snapshots"; do
		local -A ours=()
		# shellcheck disable=SC2086
		for w in $(comp_ours $line); do ours[$w]=1; done
		# shellcheck disable=SC2086
		for w in $(comp_ctr $line); do
			[[ -z ${ours[$w]:-} ]] || continue
			# ctr offers it, ctrbox-ctr does not: ctrbox-ctr must refuse it
			[[ -n $line || ($w != help && $w != h) ]] || continue # ctrbox-ctr has no top-level help command
			# shellcheck disable=SC2086
			run cctr -a "$CTRBOX_TEST_DIR/none.sock" $line "$w"
			[[ $status == 1 && $output == *"not supported by ctrbox-ctr"* ]] || [[ $status == 3 ]] ||
				{ echo "ctr offers '$line $w', ctrbox-ctr does not, yet runs it: $status $output"; bad=1; }
		done
		# and nothing ctr does not offer
		# shellcheck disable=SC2086
		for w in $(comp_ours $line); do
			# shellcheck disable=SC2086
			comp_ctr $line | tr ' ' '\n' | grep -qx -- "$w" || { echo "'$line': '$w' is ours only"; bad=1; }
		done
	done
	[[ $bad == 0 ]]
}

@test "completion: runs nothing and asks no containerd" {
	# lines that would leave a container behind, against the suite's containerd
	run cctr -a "$CTRD_SOCK" -n "$CTRD_NS" run "$TEST_IMAGE" comp-ran true --generate-bash-completion
	assert_success
	refute_output
	run cctr -a "$CTRD_SOCK" -n "$CTRD_NS" containers create "$TEST_IMAGE" comp-made --generate-bash-completion
	assert_success
	run ctrt containers ls -q
	assert_success
	local left
	left=$(grep -xE 'comp-(ran|made)' <<<"$output") || true
	[[ -z $left ]] || { ctrt tasks rm -f comp-ran; ctrt containers rm $left; echo "ran: $left"; false; }
	# without any containerd the words are the same
	diff <(cctr -a "$CTRBOX_TEST_DIR/none.sock" tasks --generate-bash-completion) \
		<(cctr -a "$CTRD_SOCK" tasks --generate-bash-completion)
	# a flag the line does not know is no error while typing
	run cctr containers ls --no-such-flag - --generate-bash-completion
	assert_success
	assert_output $'--help\n-h\n--quiet\n-q'
}

@test "completion: the bash function offers the words for the line being typed" {
	local f=$REPO/packaging/bash-completion/ctrbox-ctr
	bash -n "$f"
	# COMP_WORDS / COMP_CWORD as bash sets them; ctrbox-ctr found on PATH (the test's SHIMDIR)
	run env PATH="$SHIMDIR:$PATH" bash -c '
		source "$1"
		complete -p ctrbox-ctr
		t() { COMP_WORDS=("${@:2}"); COMP_CWORD=$1; COMPREPLY=(); _ctrbox_ctr; echo "${COMPREPLY[*]}"; }
		t 2 ctrbox-ctr containers l
		t 3 ctrbox-ctr containers ls --q
		t 1 ctrbox-ctr na
		t 1 ctrbox-ctr --na
		t 2 ctrbox-ctr snapshots ""
	' _ "$f"
	assert_success
	assert_line --index 0 "complete -o bashdefault -o default -F _ctrbox_ctr ctrbox-ctr"
	assert_line --index 1 "list ls label"
	assert_line --index 2 "--quiet"
	assert_line --index 3 "namespaces namespace"
	assert_line --index 4 "--namespace"
	assert_line --index 5 "$(cctr snapshots --generate-bash-completion | paste -sd' ')"
}
