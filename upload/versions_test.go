package upload

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"reflect"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

// capped is a local backend whose host takes at most max versions.
type capped struct {
	backend.Backend
	backend.Deployer
	backend.Versions
	backend.TrafficHistory
	max int
}

func (c capped) Properties() backend.Properties {
	p := c.Backend.Properties()
	p.MaxVersions = c.max
	return p
}

func newCapped(t *testing.T, max int) capped {
	lb := openLocal(t)
	return capped{Backend: lb, Deployer: lb.(backend.Deployer), Versions: lb.(backend.Versions), TrafficHistory: lb.(backend.TrafficHistory), max: max}
}

// TestVersionCap: at the host's cap a deploy of a new version stops
// before anything is sent, with an error of class ErrLimit naming the fix;
// a redeploy of an existing version is no new version.
func TestVersionCap(t *testing.T) {
	ctx := context.Background()
	b := newCapped(t, 3)
	dir, files := writeApp(t, 3)
	opts := baseOptions(dir, files)
	for _, id := range []string{"v1", "v2", "v3"} {
		opts.Version = id
		if _, err := Deploy(ctx, b, opts, nil); err != nil {
			t.Fatal(err)
		}
	}
	moreDir, more := writeApp(t, 5) // "content of file 3" is new
	opts.Files, opts.Root, opts.Version = more, moreDir, "v4"
	_, err := Deploy(ctx, b, opts, nil)
	if !errors.Is(err, backend.ErrLimit) {
		t.Fatalf("deploying a 4th version at a cap of 3 = %v, want class ErrLimit", err)
	}
	if miss, _ := b.Deployer.MissingBlobs(ctx, "app", []string{sha1hexOf("content of file 3\n")}); len(miss) != 1 {
		t.Errorf("a file was sent before the cap stopped the deploy")
	}
	opts.Version = "v3"
	if _, err := Deploy(ctx, b, opts, nil); err != nil {
		t.Fatalf("redeploying v3 at the cap: %v", err)
	}
}

// TestKeepVersions: --keep_versions N deletes the service's oldest versions
// beyond N (the new one counts), never one receiving traffic nor the
// previous default, and makes room under the cap.
func TestKeepVersions(t *testing.T) {
	ctx := context.Background()
	b := newCapped(t, 4)
	dir, files := writeApp(t, 3)
	opts := baseOptions(dir, files)
	// v1 then v2 are promoted (v1 is the previous default); v3 and v4 are
	// canaries without traffic.
	for _, id := range []string{"v1", "v2", "v3", "v4"} {
		opts.Version, opts.NoPromote = id, id == "v3" || id == "v4"
		if _, err := Deploy(ctx, b, opts, nil); err != nil {
			t.Fatal(err)
		}
	}
	opts.Version, opts.NoPromote, opts.KeepVersions = "v5", false, 2
	dry := opts
	dry.DryRun = true
	res, err := Deploy(ctx, b, dry, nil)
	if err != nil || !reflect.DeepEqual(res.DeletedVersions, []string{"v3"}) {
		t.Fatalf("dry run with --keep_versions 2: %v, would delete %v; want v3 only", err, res.DeletedVersions)
	}
	if _, err := b.Version(ctx, "app", "default", "v3"); err != nil {
		t.Fatalf("the dry run deleted v3: %v", err)
	}
	res, err = Deploy(ctx, b, opts, nil)
	if err != nil || !reflect.DeepEqual(res.DeletedVersions, []string{"v3"}) {
		t.Fatalf("--keep_versions 2 at the cap: %v, deleted %v; want v3 only (v4 kept, v2 serves, v1 the previous default)", err, res.DeletedVersions)
	}
	list, _ := b.ListVersions(ctx, "app", "default")
	var ids []string
	for _, v := range list {
		ids = append(ids, v.ID)
	}
	if !reflect.DeepEqual(ids, []string{"v1", "v2", "v4", "v5"}) {
		t.Errorf("versions after the deploy: %v, want v1 v2 v4 v5", ids)
	}
}

func sha1hexOf(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
