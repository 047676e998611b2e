package upload

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/internal/progress"
	"github.com/appcfg/appcfg/skipfiles"
)

// swapApp lays out an app whose link.txt points to inside.txt, and a file
// of the same size outside the app that an attacker swaps the link to.
func swapApp(t *testing.T) (app, link, outside string) {
	t.Helper()
	app = t.TempDir()
	outside = filepath.Join(t.TempDir(), "outside.txt")
	if err := os.WriteFile(filepath.Join(app, "inside.txt"), []byte("public app data\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outside, []byte("SECRET-NOT-APP!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link = filepath.Join(app, "link.txt")
	if err := os.Symlink("inside.txt", link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	return app, link, outside
}

func swapLink(t *testing.T, link, target string) {
	t.Helper()
	tmp := link + ".new"
	if err := os.Symlink(target, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, link); err != nil {
		t.Fatal(err)
	}
}

// walkedFiles walks app as update does: the walk's list is the upload set.
func walkedFiles(t *testing.T, app string) []File {
	t.Helper()
	res, err := skipfiles.Walk(context.Background(), app, skipfiles.Options{SkipFiles: []string{"^$"}, SkipFilesSource: "app.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res.Files
}

// A link swapped between the walk and the hashing must not make the deploy
// read (and upload) a file from outside the app: the bytes hashed must come
// from the file the walk resolved and checked.
func TestLinkSwappedAfterWalkIsNotHashed(t *testing.T) {
	app, link, outside := swapApp(t)
	files := walkedFiles(t, app)
	swapLink(t, link, outside)
	b := openLocal(t)
	res, err := Deploy(context.Background(), b, baseOptions(app, files), nil)
	if err == nil {
		t.Fatalf("deploy after the swap succeeded (%d blobs sent); want an error", res.Missing)
	}
	if !errors.Is(err, hashcache.ErrChanged) || !strings.Contains(err.Error(), "link.txt") {
		t.Errorf("error %q; want one naming link.txt as changed since it was listed", err)
	}
	outsideSum, _, _ := hashcache.HashFile(context.Background(), outside, nil)
	if miss, _ := b.MissingBlobs(context.Background(), "app", []string{outsideSum}); len(miss) != 1 {
		t.Errorf("the file outside the app was stored")
	}
}

// The same swap between hashing and sending: the send must not read the
// new target either.
func TestLinkSwappedAfterHashIsNotSent(t *testing.T) {
	app, link, outside := swapApp(t)
	files := walkedFiles(t, app)
	h, err := hashFiles(context.Background(), app, files, 1, nil, nil, progress.Nop{})
	if err != nil {
		t.Fatal(err)
	}
	swapLink(t, link, outside)
	b := openLocal(t)
	for i := range h.refs {
		f := h.at(i)
		err := sendOne(context.Background(), b, "app", app, f, progress.Nop{})
		if f.Path == "link.txt" && !errors.Is(err, hashcache.ErrChanged) {
			t.Errorf("sending the swapped link: %v; want ErrChanged", err)
		}
	}
}
