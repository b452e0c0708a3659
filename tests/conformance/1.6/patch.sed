# ctrbox conformance rig, applied by build-1.6.sh to integration/client/*_test.go of a copy:
# - the daemon TestMain starts gets its root, state (so its socket), namespace and config from the
#   rig's environment (rig_test.go: rigEnv, rigConfig), so that runs share no host paths;
# - the suite's pulls and fetches of its busybox test image (testImage) and of its user-namespace
#   image (testUserNSImage), and testExportImport's fetch of its image, become imports of the
#   rig's image (rig_test.go: rigPull, rigFetch; other images are still pulled), but in the tests
#   of pulling itself (TestImagePull*), which still need a registry;
# - the suite's daemon.waitForStart is waitForStartOnce, rig_test.go's waitForStart dials again
#   while the daemon's socket refuses connections (bound, not yet listening).
/^const ($/{
N
s/^const (\n\(\tdefaultRoot \)/var (\n\1/
}
s/^\(\tdefaultRoot *= \)\("\/var\/lib\/containerd-test"\)$/\1rigEnv("CTRBOX_CONFORMANCE_ROOT", \2)/M
s/^\(\tdefaultState *= \)\("\/run\/containerd-test"\)$/\1rigEnv("CTRBOX_CONFORMANCE_STATE", \2)/M
s/^\(\tdefaultAddress *= \)"\/run\/containerd-test\/containerd.sock"$/\1rigEnv("CTRBOX_CONFORMANCE_STATE", "\/run\/containerd-test") + "\/containerd.sock"/M
s/^\(\ttestNamespace *= \)\("testing"\)$/\1rigEnv("CTRBOX_CONFORMANCE_NAMESPACE", \2)/M
s/"--config", createShimDebugConfig(),/"--config", rigConfig(createShimDebugConfig()),/
/^func TestImagePull/,/^}/b
s/\bclient\.Pull(ctx, testImage\b/rigPull(ctx, client, testImage/g
s/\bclient\.Fetch(ctx, testImage\b/rigFetch(ctx, client, testImage/g
s/\bclient\.Pull(ctx, testUserNSImage\b/rigPull(ctx, client, testUserNSImage/g
/^func testExportImport(/,/^}/s/\bclient\.Fetch(ctx, imageName)$/rigFetch(ctx, client, imageName)/
s/^func (d \*daemon) waitForStart(ctx context.Context) (\*Client, error) {$/func (d *daemon) waitForStartOnce(ctx context.Context) (*Client, error) {/
