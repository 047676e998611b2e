package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
)

// storeWithOneVersion makes a local store in dir/store holding version v1
// of app a, whose one file main.py is the content digest names.
func storeWithOneVersion(t *testing.T, dir string) (store, digest string) {
	t.Helper()
	store = filepath.Join(dir, "store")
	b, err := local.Open(context.Background(), "", local.Config{Root: store}, backend.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const body = "app = None\n"
	digest = "80562d877ecfabf85bada422b4afc915bd902f38"
	if err := b.PutBlob(context.Background(), "a", digest, int64(len(body)), strings.NewReader(body)); err != nil {
		t.Fatal(err)
	}
	if err := b.SyncBlobs(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := b.CreateVersion(context.Background(), backend.VersionSpec{App: "a", Service: "default", Version: "v1",
		Files: []backend.FileRef{{Path: "main.py", SHA1: digest, Size: int64(len(body))}}}); err != nil {
		t.Fatal(err)
	}
	return store, digest
}

// verify exits 0 on a sound store and 1 (exitFailure) when it finds damage,
// even after --repair: the versions it listed still need an update.
func TestVerifyExitStatus(t *testing.T) {
	dir := t.TempDir()
	store, digest := storeWithOneVersion(t, dir)
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	loc := "--backend=local:" + store
	if code, out, errOut := runCLI(t, "verify", loc); code != exitOK {
		t.Fatalf("verify of a sound store: exit %d\n%s%s", code, out, errOut)
	}
	if err := os.WriteFile(filepath.Join(store, "blobs", digest[:2], digest[2:]), []byte("app = Nonf\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"verify", loc}, {"verify", "--repair", loc}} {
		if code, out, errOut := runCLI(t, args...); code != exitFailure || !strings.Contains(out, "main.py: content damaged") {
			t.Fatalf("%v on a damaged store: exit %d, want %d\n%s%s", args, code, exitFailure, out, errOut)
		}
	}
	// Forgotten, the content is no longer damaged but missing from the
	// version until the next update sends it.
	if code, out, _ := runCLI(t, "verify", loc); code != exitFailure || !strings.Contains(out, "main.py: content not recorded") ||
		!strings.Contains(out, "Run appcfg update for each version listed") {
		t.Fatalf("verify after --repair: exit %d\n%s", code, out)
	}
}

// A damaged blob record (here its size, made text by hand) is verify's
// damage like any other: exit 1, the file it breaks named by version, and
// the next step; before, verify could not read the records at all.
func TestVerifyDamagedRecord(t *testing.T) {
	dir := t.TempDir()
	store, _ := storeWithOneVersion(t, dir)
	db, err := sql.Open("sqlite", filepath.Join(store, "appcfg.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE blobs SET size = 'abc'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	loc := "--backend=local:" + store
	code, out, errOut := runCLI(t, "verify", loc)
	if code != exitFailure || !strings.Contains(out, "main.py: record damaged") || !strings.Contains(out, "its size 'abc' is not a number of bytes") ||
		!strings.Contains(out, "Run appcfg verify --repair, then appcfg update for each version listed.") {
		t.Fatalf("verify of a store with a damaged record: exit %d, want %d\n%s%s", code, exitFailure, out, errOut)
	}
	if code, out, errOut := runCLI(t, "verify", "--repair", loc); code != exitFailure || !strings.Contains(out, "Repaired: forgot 1") {
		t.Fatalf("verify --repair: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, "verify", loc); code != exitFailure || !strings.Contains(out, "main.py: content not recorded") {
		t.Fatalf("verify after --repair: exit %d\n%s", code, out)
	}
}
