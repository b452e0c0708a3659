# bench/rig.bash: sourced by the bench scripts once they have set $repo. It defines say/die, the
# bats suite's private containerd outside bats (rig_up), and rig_cleanup, which tears it all down
# on any exit (also on failure or Ctrl-C). A script's own cleanup goes in the functions
# bench_cleanup (run before the teardown) and bench_cleanup_after (after it), if it defines them.
t_start=$SECONDS

say() { echo "bench: $*" >&2; }
die() { say "error: $*"; exit 1; }

# the suite's setup/teardown, with stand-ins for bats' loaders
# shellcheck source=/dev/null
load() { source "${1%.bash}.bash"; }
bats_load_library() { :; }
source "$repo/tests/bats/setup_suite.bash"
source "$repo/tests/bats/helpers.bash"

rig_cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	say "cleaning up"
	if declare -F bench_cleanup >/dev/null; then bench_cleanup; fi
	if [[ -n ${CTRD_SOCK:-} ]]; then teardown_suite >&2; fi
	if declare -F bench_cleanup_after >/dev/null; then bench_cleanup_after; fi
	say "done in $((SECONDS - t_start))s (exit $rc)"
	exit "$rc"
}

# rig_up WHAT: sets the traps, then starts the private containerd ("starting a private
# containerd WHAT").
rig_up() {
	trap rig_cleanup EXIT
	trap 'say "interrupted"; exit 130' INT
	trap 'say "terminated"; exit 143' TERM
	say "starting a private containerd $1"
	setup_suite 3>/dev/null
	BATS_SETUP_SUITE_COMPLETED=1
}
