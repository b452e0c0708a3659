# The bats suite's private containerd (tests/bats/setup_suite.bash), for the valgrind runs:
# bats looks for setup_suite.bash only in the directory of the first .bats file it is given.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../bats" && pwd)/setup_suite.bash"
