// ctrbox conformance rig (not containerd's code), copied into integration/client by build-2.1.sh;
// patch.sed points the suite here.
//
// rigPull, rigFetch: the suite's pulls of its busybox test image are imports of the image the rig
// built (tests/conformance/image.sh, named like testImage), so that no test needs a registry.
// CTRBOX_CONFORMANCE_IMAGE names the OCI tarball; unset, the suite pulls as upstream does.

package client

import (
	"context"
	"fmt"
	"os"

	. "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/platforms"
)

// rigImport imports the rig's image with what the pull options ask for, and the remote context.
func rigImport(ctx context.Context, c *Client, ref string, opts []RemoteOpt) (images.Image, *RemoteContext, error) {
	rc := &RemoteContext{}
	for _, o := range opts {
		if err := o(c, rc); err != nil {
			return images.Image{}, nil, err
		}
	}
	f, err := os.Open(os.Getenv("CTRBOX_CONFORMANCE_IMAGE"))
	if err != nil {
		return images.Image{}, nil, err
	}
	defer f.Close()
	var iopts []ImportOpt
	if rc.AllMetadata {
		iopts = append(iopts, WithAllPlatforms(true))
	}
	// WithChildLabelMap(images.ChildGCLabelsFilterLayers), the only map the suite passes: the
	// layers are not referenced by the image, as after such a pull.
	if rc.ChildLabelMap != nil {
		iopts = append(iopts, WithDiscardUnpackedLayers())
	}
	imgs, err := c.Import(ctx, f, iopts...)
	if err != nil {
		return images.Image{}, nil, err
	}
	for _, img := range imgs {
		if img.Name == ref {
			return img, rc, nil
		}
	}
	return images.Image{}, nil, fmt.Errorf("ctrbox rig: %s is not in %s", ref, f.Name())
}

func rigPull(ctx context.Context, c *Client, ref string, opts ...RemoteOpt) (Image, error) {
	if os.Getenv("CTRBOX_CONFORMANCE_IMAGE") == "" {
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
	if os.Getenv("CTRBOX_CONFORMANCE_IMAGE") == "" {
		return c.Fetch(ctx, ref, opts...)
	}
	img, _, err := rigImport(ctx, c, ref, opts)
	return img, err
}
