// ctrbox conformance rig (not containerd's code): where TestMain's containerd keeps its root
// and state, its config and the suite's namespace come from the environment (run.sh sets them
// per test process); unset, upstream's values. build-2.1.sh copies this file into
// integration/client.

package client

import "os"

func rigEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// rigConfig: the rig's containerd config (CRI and the probing plugins disabled), or upstream's.
func rigConfig() string {
	if v := os.Getenv("CTRBOX_CONFORMANCE_CONFIG"); v != "" {
		return v
	}
	return createShimDebugConfig()
}
