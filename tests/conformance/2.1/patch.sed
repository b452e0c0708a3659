# ctrbox conformance rig, applied to integration/client/{client.go,client_unix.go,*_test.go} of a copy:
# - the suite's pulls and fetches of its busybox test image become imports of the rig's image
#   (rig_test.go);
# - newDaemonWithConfig waits 30 s, not 2, for the daemon a test configures (CRI and all: it
#   takes longer on a loaded 2-core machine);
# - the daemon TestMain starts gets the rig's root, state and config (rig.go: CTRBOX_CONFORMANCE_*,
#   upstream's values when unset), so each test process has a private containerd; its namespace
#   too (the runc state dir and the cgroups are named after it: runs at the same time never meet).
s/\bclient\.Pull(ctx, testImage\b/rigPull(ctx, client, testImage/g
s/\bclient\.Fetch(ctx, testImage\b/rigFetch(ctx, client, testImage/g
s/\bclient\.Fetch(ctx, imageName, WithPlatformMatcher(platforms.Default()))/rigFetch(ctx, client, imageName, WithPlatformMatcher(platforms.Default()))/
s/waitCtx, waitCancel := context.WithTimeout(context.TODO(), 2\*time.Second)/waitCtx, waitCancel := context.WithTimeout(context.TODO(), 30*time.Second)/
s/"--config", createShimDebugConfig(),/"--config", rigConfig(),/
/^const ($/{
	N
	s|^const (\n\(\tdefaultRoot *= \)\("[^"]*"\)$|var (\n\1rigEnv("CTRBOX_CONFORMANCE_ROOT", \2)|
	s|^const (\n\(\ttestNamespace *= \)\("testing"\)$|var (\n\1rigEnv("CTRBOX_CONFORMANCE_NAMESPACE", \2)|
}
s|^\(\tdefaultState *= \)\("[^"]*"\)$|\1rigEnv("CTRBOX_CONFORMANCE_STATE", \2)|
s|^\(\tdefaultAddress *= \)\("[^"]*"\)$|\1rigEnv("CTRBOX_CONFORMANCE_ADDRESS", \2)|
