# containerd 2.x from Debian's testing suite, unpacked under build/ (never installed over the
# system's): tests/rig/suite-fetch.sh keeps a private apt state and the .debs in /var/cache/ctrbox.
# `make containerd2` prints the version it unpacked; build/containerd2/containerd/usr/bin has
# containerd, ctr and the Go containerd-shim-runc-v2 of that release.
CONTAINERD2_SUITE ?= forky
.PHONY: containerd2
containerd2:
	tests/rig/suite-fetch.sh $(CONTAINERD2_SUITE) $(BUILD)/containerd2 containerd
