package local

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/backendtest"
)

// createVersion records a version of app naming the given contents.
func createVersion(t *testing.T, b *Backend, app, version string, contents ...string) {
	t.Helper()
	spec := backend.VersionSpec{App: app, Service: "default", Version: version, Runtime: "python27"}
	for i, c := range contents {
		spec.Files = append(spec.Files, backend.FileRef{Path: "f" + string(rune('a'+i)), SHA1: sha1hex([]byte(c)), Size: int64(len(c))})
	}
	if _, err := b.CreateVersion(t.Context(), spec); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// Deleting a version leaves blobs only it named; collecting frees them (and
// their files), keeps what other versions or other apps still use, and
// reports what it freed.
func TestCollectBlobsFreesOnlyUnused(t *testing.T) {
	b := openAt(t, t.TempDir())
	only := put(t, b, "app", []byte("only v1 names this\n"))
	both := put(t, b, "app", []byte("v1 and v2 name this\n"))
	shared := put(t, b, "app", []byte("another app holds this too\n"))
	put(t, b, "other", []byte("another app holds this too\n"))
	createVersion(t, b, "app", "v1", "only v1 names this\n", "v1 and v2 name this\n", "another app holds this too\n")
	createVersion(t, b, "app", "v2", "v1 and v2 name this\n")
	if err := b.DeleteVersion(t.Context(), "app", "default", "v1"); err != nil {
		t.Fatal(err)
	}
	c, err := b.CollectBlobs(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	want := backend.Collected{Blobs: 2, Files: 1, Bytes: int64(len("only v1 names this\n"))}
	if c.Blobs != want.Blobs || c.Files != want.Files || c.Bytes != want.Bytes || c.Kept != 0 {
		t.Fatalf("CollectBlobs = %+v, want %+v", c, want)
	}
	if exists(b.blobPath(only)) || !exists(b.blobPath(both)) || !exists(b.blobPath(shared)) {
		t.Fatalf("after collecting: unused file kept %v, used file kept %v, other app's file kept %v",
			exists(b.blobPath(only)), exists(b.blobPath(both)), exists(b.blobPath(shared)))
	}
	if m, _ := b.MissingBlobs(t.Context(), "other", []string{shared}); len(m) != 0 {
		t.Fatal("collecting app's blobs took another app's record")
	}
	if m, _ := b.MissingBlobs(t.Context(), "app", []string{only, both}); !slices.Equal(m, []string{only}) {
		t.Fatalf("MissingBlobs after collecting = %v, want the collected blob", m)
	}
}

// A deploy in flight has sent blobs (or was told the host holds them) but
// not created its version: while it holds its lock, no unused blob of its
// app is collected. A killed deploy's expired lock keeps what it sent, so
// running it again resumes.
func TestCollectBlobsSparesDeploysInFlight(t *testing.T) {
	b := openAt(t, t.TempDir())
	old := put(t, b, "app", []byte("held before the deploy, reused by it\n"))
	key := backend.LockKey{App: "app", Service: "default", Version: "v1"}
	tok, err := b.AcquireLock(t.Context(), key, backend.Owner{User: "deployer"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	sent := put(t, b, "app", []byte("sent by the deploy in flight\n"))
	c, err := b.CollectBlobs(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.Blobs != 0 || c.Kept != 2 || !slices.Equal(c.KeptFor, []string{"app"}) {
		t.Fatalf("CollectBlobs during a deploy = %+v, want both blobs kept for app", c)
	}
	createVersion(t, b, "app", "v1", "held before the deploy, reused by it\n", "sent by the deploy in flight\n")
	if err := b.ReleaseLock(t.Context(), key, tok); err != nil {
		t.Fatal(err)
	}

	// A killed deploy: its lock expired, never released.
	gone := put(t, b, "app", []byte("unused, stored before the killed deploy\n"))
	later := b.now().Add(time.Second)
	b.now = func() time.Time { return later }
	if _, err := b.AcquireLock(t.Context(), backend.LockKey{App: "app", Service: "default", Version: "v2"}, backend.Owner{User: "killed"}, time.Millisecond); err != nil {
		t.Fatal(err)
	}
	b.now = func() time.Time { return later.Add(time.Minute) }
	resumable := put(t, b, "app", []byte("sent by the killed deploy\n"))
	c, err = b.CollectBlobs(t.Context(), "app")
	if err != nil {
		t.Fatal(err)
	}
	if c.Blobs != 1 || c.Kept != 1 || exists(b.blobPath(gone)) || !exists(b.blobPath(resumable)) {
		t.Fatalf("CollectBlobs with a killed deploy's lock = %+v; want the older blob freed and the killed deploy's kept", c)
	}
	if !exists(b.blobPath(old)) || !exists(b.blobPath(sent)) {
		t.Fatal("a blob of the created version was collected")
	}
}

// Verify finds every kind of damage, reports it by version, repairs it so
// MissingBlobs asks for the content again, and collects what no one uses.
func TestVerifyStore(t *testing.T) {
	dir := t.TempDir()
	b := openAt(t, dir)
	files := []string{"sound\n", "deleted by hand\n", "one byte flipped\n", "truncated\n"}
	var ds []string
	for _, f := range files {
		ds = append(ds, put(t, b, "app", []byte(f)))
	}
	unused := put(t, b, "app", []byte("no version names this\n"))
	createVersion(t, b, "app", "v1", files...)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Remove(b.blobPath(ds[1])))
	must(os.WriteFile(b.blobPath(ds[2]), []byte("one byte flipped!"), 0o600))
	must(os.Truncate(b.blobPath(ds[3]), 2))
	stray := filepath.Join(dir, blobDir, "ff", "ffffffffffffffffffffffffffffffffffffff")
	must(os.MkdirAll(filepath.Dir(stray), 0o700))
	must(os.WriteFile(stray, []byte("no record names this"), 0o600))
	past := time.Now().Add(-2 * tmpMaxAge)
	must(os.Chtimes(stray, past, past))

	rep, err := b.VerifyStore(t.Context(), backend.VerifyOptions{})
	must(err)
	kinds := map[string]string{}
	for _, p := range rep.Problems {
		kinds[p.SHA1] = p.Kind
	}
	want := map[string]string{ds[1]: backend.ProblemMissing, ds[2]: backend.ProblemContent, ds[3]: backend.ProblemSize}
	if len(kinds) != 3 || kinds[ds[1]] != want[ds[1]] || kinds[ds[2]] != want[ds[2]] || kinds[ds[3]] != want[ds[3]] {
		t.Fatalf("problems %+v, want %v", rep.Problems, want)
	}
	if len(rep.Versions) != 1 || rep.Versions[0].Version != "v1" || len(rep.Versions[0].Files) != 3 {
		t.Fatalf("damaged versions %+v, want v1 with 3 files", rep.Versions)
	}
	if rep.Blobs != 5 || rep.Files != 4 || rep.UnusedBlobs != 1 || rep.UnrecordedFiles != 1 || rep.Repaired != 0 {
		t.Fatalf("report %+v", rep)
	}

	rep, err = b.VerifyStore(t.Context(), backend.VerifyOptions{Repair: true, Collect: true})
	must(err)
	if rep.Repaired != 3 || rep.Collected == nil || rep.Collected.Blobs != 1 || rep.Collected.Files != 2 {
		t.Fatalf("repair and collect: repaired %d, collected %+v", rep.Repaired, rep.Collected)
	}
	if exists(b.blobPath(ds[2])) || exists(b.blobPath(unused)) || exists(stray) {
		t.Fatal("a damaged, unused or unrecorded file is still in the store")
	}
	m, err := b.MissingBlobs(t.Context(), "app", ds)
	must(err)
	if !slices.Equal(m, ds[1:]) {
		t.Fatalf("after repair MissingBlobs = %v, want the three damaged contents", m)
	}
	for _, f := range files[1:] {
		put(t, b, "app", []byte(f))
	}
	rep, err = b.VerifyStore(t.Context(), backend.VerifyOptions{})
	must(err)
	if len(rep.Problems) != 0 || len(rep.Versions) != 0 {
		t.Fatalf("after the next deploy sent them again: %+v", rep)
	}
}

// A blob record the store would never write (a hand edit, a damaged page)
// is found by verify as a damaged record, not a crash (a digest too short
// to name a directory panicked) nor a failed read (a size that is not a
// number stopped the whole check); --repair forgets it without touching any
// file (a digest like ../x would otherwise name a path outside the store);
// and a deploy that meets it says what to run.
func TestVerifyStoreDamagedRecords(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "outside")
	if err := os.WriteFile(outside, []byte("not the store's\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b := openAt(t, filepath.Join(dir, "store"))
	sized := put(t, b, "app", []byte("its size becomes text\n"))
	createVersion(t, b, "app", "v1", "its size becomes text\n")
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := b.db.ExecContext(t.Context(), q, args...); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE blobs SET size = 'abc' WHERE sha1 = ?`, sized)
	exec(`INSERT INTO blobs (app_id, sha1, size, stored) SELECT app_id, 'x', 3, 0 FROM blobs LIMIT 1`)
	exec(`INSERT INTO blobs (app_id, sha1, size, stored) SELECT app_id, '../../outside', 16, 0 FROM blobs LIMIT 1`)

	_, err := b.MissingBlobs(t.Context(), "app", []string{sized})
	if err == nil || !strings.Contains(err.Error(), "its size 'abc' is not a number of bytes; run appcfg verify --repair") {
		t.Fatalf("MissingBlobs with a damaged record: %v, want the damage and the command that repairs it", err)
	}
	for _, opts := range []backend.VerifyOptions{{}, {Repair: true, Collect: true}} {
		rep, details := recordDetails(t, b, opts)
		want := []string{
			"a blob record of app app is damaged: its digest '../../outside' is not 40 lowercase hex digits",
			"a blob record of app app is damaged: its digest 'x' is not 40 lowercase hex digits",
			"a blob record of app app is damaged: its size 'abc' is not a number of bytes",
		}
		if !slices.Equal(details, want) {
			t.Fatalf("VerifyStore(%+v): problems\n%q\nwant\n%q", opts, details, want)
		}
		if len(rep.Versions) != 1 || len(rep.Versions[0].Files) != 1 || rep.Versions[0].Files[0].Kind != backend.ProblemRecord {
			t.Fatalf("VerifyStore(%+v): damaged versions %+v, want v1's file with a damaged record", opts, rep.Versions)
		}
		if rep.UnusedBlobs != 0 {
			t.Errorf("VerifyStore(%+v): %d unused contents, want damaged records not counted as contents", opts, rep.UnusedBlobs)
		}
	}
	if !exists(outside) {
		t.Fatal("verify --repair --gc removed a file outside the store that a damaged record named")
	}
	// Forgotten, the content is asked for again and the store is sound
	// once it is sent.
	if m, err := b.MissingBlobs(t.Context(), "app", []string{sized}); err != nil || !slices.Equal(m, []string{sized}) {
		t.Fatalf("after --repair MissingBlobs = %v, %v; want the content whose record was forgotten", m, err)
	}
	put(t, b, "app", []byte("its size becomes text\n"))
	if rep, err := b.VerifyStore(t.Context(), backend.VerifyOptions{}); err != nil || len(rep.Problems) != 0 || len(rep.Versions) != 0 {
		t.Fatalf("after the next deploy: %+v, %v", rep, err)
	}
}

// A stored entity or request-log chunk that cannot be read back stops the
// command that reads it with the one message every damaged record gives,
// which says what to run; verify reports it, and --repair forgets it, so
// the rest reads again.
func TestVerifyRepairsDamagedEntitiesAndLogChunks(t *testing.T) {
	b := openAt(t, t.TempDir())
	ctx := t.Context()
	var ents []backend.Entity
	for id := range int64(3) {
		ents = append(ents, backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "A", ID: id + 1}}},
			Properties: map[string]backend.Value{"n": {Type: backend.IntType, Int: id}}})
	}
	if _, err := b.PutEntities(ctx, "app", ents); err != nil {
		t.Fatal(err)
	}
	writeChunks(t, b, backendtest.LineFormat("local/1", ""), 2, 3, 8)
	exec := func(q string) {
		t.Helper()
		if _, err := b.db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`UPDATE entities SET data = x'' WHERE k = (SELECT min(k) FROM entities)`)
	exec(`UPDATE entities SET k = x'09' || k WHERE k = (SELECT max(k) FROM entities)`)
	exec(`UPDATE log_chunks SET data = x'ff' WHERE id = (SELECT min(id) FROM log_chunks)`)
	readAll := func() (int, int, []error) {
		var errs []error
		got, _, err := b.QueryEntities(ctx, "app", backend.EntityQuery{Kind: "A"}, "", 10)
		errs = append(errs, err)
		logs := 0
		errs = append(errs, b.ReadLogs(ctx, backend.LogQuery{App: "app"}, func(backend.RequestLog) error { logs++; return nil }))
		return len(got), logs, errs
	}
	_, _, errs := readAll()
	for i, want := range []string{"a stored entity is damaged: its data is not what appcfg writes", "the stored request logs are damaged (chunk "} {
		if err := errs[i]; !errors.Is(err, backend.ErrDamagedRecord) || !strings.Contains(err.Error(), want) ||
			!strings.HasSuffix(err.Error(), "; run appcfg verify --repair, which forgets it, then run this command again") {
			t.Errorf("reading a damaged record: %v; want %q and what to run, as an ErrDamagedRecord", err, want)
		}
	}
	for _, opts := range []backend.VerifyOptions{{}, {Repair: true}} {
		rep, details := recordDetails(t, b, opts)
		if len(details) != 3 || !strings.Contains(details[0], "is damaged: its data is not what appcfg writes") ||
			!strings.Contains(details[1], "is damaged: its key is not one appcfg writes") ||
			!strings.HasPrefix(details[2], "the stored request logs are damaged (chunk ") {
			t.Fatalf("VerifyStore(%+v): problems %q; want the two entities and the log chunk", opts, details)
		}
		if opts.Repair && rep.Repaired != 3 {
			t.Errorf("repaired %d, want 3", rep.Repaired)
		}
	}
	if n, logs, errs := readAll(); n != 1 || logs != 3 || errs[0] != nil || errs[1] != nil {
		t.Fatalf("after --repair: %d entities, %d logs, %v; want the sound entity and chunk", n, logs, errs)
	}
	if rep, err := b.VerifyStore(ctx, backend.VerifyOptions{}); err != nil || len(rep.Problems) != 0 {
		t.Fatalf("verify after --repair: %+v, %v", rep, err)
	}
}

// recordDetails runs VerifyStore with opts and returns its report and the
// sorted details of its problems, each of which must be a damaged record,
// repaired when opts repairs.
func recordDetails(t *testing.T, b *Backend, opts backend.VerifyOptions) (*backend.StoreReport, []string) {
	t.Helper()
	rep, err := b.VerifyStore(t.Context(), opts)
	if err != nil {
		t.Fatalf("VerifyStore(%+v): %v", opts, err)
	}
	var details []string
	for _, p := range rep.Problems {
		if p.Kind != backend.ProblemRecord || p.Repaired != opts.Repair {
			t.Errorf("VerifyStore(%+v): problem %+v, want a damaged record", opts, p)
		}
		details = append(details, p.Detail)
	}
	slices.Sort(details)
	return rep, details
}

// An entity this appcfg cannot read because a newer one wrote it is not
// damage: verify says to upgrade and --repair keeps it.
func TestVerifyKeepsEntityOfNewerCodec(t *testing.T) {
	b := openAt(t, t.TempDir())
	ctx := t.Context()
	ent := backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: "A", ID: 1}}}}
	if _, err := b.PutEntities(ctx, "app", []backend.Entity{ent}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.db.ExecContext(ctx, `UPDATE entities SET data = x'07'`); err != nil {
		t.Fatal(err)
	}
	if _, err := b.VerifyStore(ctx, backend.VerifyOptions{Repair: true}); err == nil || !strings.Contains(err.Error(), "upgrade appcfg") {
		t.Fatalf("VerifyStore(--repair) on an entity of codec version 7: %v; want an error saying to upgrade appcfg", err)
	}
	var n int
	if err := b.db.QueryRowContext(ctx, `SELECT count(*) FROM entities`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("after verify --repair: %d entities, %v; want the entity kept", n, err)
	}
}
