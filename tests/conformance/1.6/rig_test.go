// ctrbox conformance rig (not containerd's code), copied by build-1.6.sh into integration/client;
// patch.sed points the suite here.
//
// The suite's pulls of its test images are imports of the image the rig built
// (tests/bats/mkimage.sh, a busybox OCI tarball), so that no container test needs a registry.
// CTRBOX_CONFORMANCE_IMAGE names the tarball; unset, the suite pulls from the registry as upstream
// does. The image is stored under the name the test asks for (testImage, or testUserNSImage, which
// is the same busybox image then); other names (the multi-layer image, say) are pulled as upstream.
//
// The daemon TestMain starts (without -no-daemon) takes its --root from CTRBOX_CONFORMANCE_ROOT,
// its --state from CTRBOX_CONFORMANCE_STATE (the default -address is STATE/containerd.sock), its
// --config from CTRBOX_CONFORMANCE_CONFIG (instead of the suite's, which only sets the v1 runtime's
// shim_debug); the suite's namespace is CTRBOX_CONFORMANCE_NAMESPACE. Unset, upstream's values.
//
// The suite's wait for its daemon (daemon.waitForStart, renamed waitForStartOnce) dials once: a
// daemon between its socket's bind and listen refuses the connection, which fails TestMain or a
// restart test on a loaded machine. waitForStart here dials again on "connection refused" until
// the caller's deadline (the suite's: 4 s in TestMain, 1 or 2 s after restarts).

//go:build linux

package client

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	. "github.com/containerd/containerd"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/images"
	"github.com/containerd/containerd/platforms"
)

const rigImageEnv = "CTRBOX_CONFORMANCE_IMAGE"

// rigEnv is the environment variable name's value, or def when it is unset or empty.
func rigEnv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// rigConfig is the rig's containerd config file, or the suite's (def) without one.
func rigConfig(def string) string {
	return rigEnv("CTRBOX_CONFORMANCE_CONFIG", def)
}

// rigImage: the rig has an image for ref (and the tarball is named).
func rigImage(ref string) bool {
	return os.Getenv(rigImageEnv) != "" && (ref == testImage || ref == testUserNSImage)
}

// rigImport imports the rig's tarball and names its image ref; it returns the image and the
// remote context the pull options make.
func rigImport(ctx context.Context, c *Client, ref string, opts []RemoteOpt) (images.Image, *RemoteContext, error) {
	rc := &RemoteContext{}
	for _, o := range opts {
		if err := o(c, rc); err != nil {
			return images.Image{}, nil, err
		}
	}
	path := os.Getenv(rigImageEnv)
	f, err := os.Open(path)
	if err != nil {
		return images.Image{}, nil, fmt.Errorf("ctrbox rig: %w", err)
	}
	defer f.Close()
	var iopts []ImportOpt
	if rc.AllMetadata {
		iopts = append(iopts, WithAllPlatforms(true))
	}
	imgs, err := c.Import(ctx, f, iopts...)
	if err != nil {
		return images.Image{}, nil, fmt.Errorf("ctrbox rig: import %s: %w", path, err)
	}
	if len(imgs) == 0 {
		return images.Image{}, nil, fmt.Errorf("ctrbox rig: no named image in %s", path)
	}
	img := imgs[0]
	for _, i := range imgs {
		if i.Name == ref {
			img = i
		}
	}
	if img.Name != ref || len(rc.Labels) > 0 {
		img = images.Image{Name: ref, Target: img.Target, Labels: rc.Labels}
		is := c.ImageService()
		stored, err := is.Update(ctx, img, "target", "labels")
		if errdefs.IsNotFound(err) {
			stored, err = is.Create(ctx, img)
		}
		if err != nil {
			return images.Image{}, nil, fmt.Errorf("ctrbox rig: name %s: %w", ref, err)
		}
		img = stored
	}
	return img, rc, nil
}

func rigPull(ctx context.Context, c *Client, ref string, opts ...RemoteOpt) (Image, error) {
	if !rigImage(ref) {
		return c.Pull(ctx, ref, opts...)
	}
	ctx, done, err := c.WithLease(ctx)
	if err != nil {
		return nil, err
	}
	defer done(ctx)
	img, rc, err := rigImport(ctx, c, ref, opts)
	if err != nil {
		return nil, err
	}
	matcher := rc.PlatformMatcher
	if matcher == nil {
		matcher = platforms.Default()
	}
	i := NewImageWithPlatform(c, img, matcher)
	if rc.Unpack {
		if err := i.Unpack(ctx, rc.Snapshotter, rc.UnpackOpts...); err != nil {
			return nil, fmt.Errorf("ctrbox rig: unpack %s: %w", ref, err)
		}
	}
	return i, nil
}

func rigFetch(ctx context.Context, c *Client, ref string, opts ...RemoteOpt) (images.Image, error) {
	if !rigImage(ref) {
		return c.Fetch(ctx, ref, opts...)
	}
	img, _, err := rigImport(ctx, c, ref, opts)
	return img, err
}

func (d *daemon) waitForStart(ctx context.Context) (*Client, error) {
	for {
		c, err := d.waitForStartOnce(ctx)
		if err == nil || !strings.Contains(err.Error(), "connect: connection refused") {
			return c, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(10 * time.Millisecond):
		}
	}
}
