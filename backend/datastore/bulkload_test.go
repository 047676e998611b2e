//go:build unix

package datastore_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/datastore"
	"github.com/appcfg/appcfg/bulkload"
)

// rowsConfig maps the CSV columns of writeCSV onto kind Row; the key name
// comes from the id column, and the export side writes every column back
// as it was read.
const rowsConfig = `python_preamble:
- import: google.appengine.ext.bulkload.transform
- import: google.appengine.ext.db

transformers:
- kind: Row
  connector: csv
  connector_options:
    encoding: utf-8
    columns: from_header
  property_map:
    - property: __key__
      external_name: id
      export_transform: transform.key_id_or_name_as_string
    - property: name
      external_name: name
    - property: n
      external_name: n
      import_transform: int
    - property: ratio
      external_name: ratio
      import_transform: float
    - property: even
      external_name: even
      import_transform: transform.regexp_bool('^True$')
    - property: when
      external_name: when
      import_transform: transform.import_date_time('%Y-%m-%dT%H:%M:%S')
      export_transform: transform.export_date_time('%Y-%m-%dT%H:%M:%S')
`

// csvRow is one generated row; want is the entity it must become.
type csvRow struct {
	fields []string
	want   backend.Entity
}

func genRows(n int) []csvRow {
	base := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	rows := make([]csvRow, n)
	for i := range rows {
		id := fmt.Sprintf("row-%05d", i)
		name := fmt.Sprintf("name %d, \"quoted\" é", i)
		num := int64(i)*1_000_003 - 5_000_000
		ratio := float64(i)/7 + 0.5 // never a whole number, so it prints alike in Go and Python
		even := i%2 == 0
		when := base.Add(time.Duration(i) * 61 * time.Second)
		rows[i] = csvRow{
			fields: []string{id, name, strconv.FormatInt(num, 10), strconv.FormatFloat(ratio, 'g', -1, 64),
				map[bool]string{true: "True", false: "False"}[even], when.Format("2006-01-02T15:04:05")},
			want: backend.Entity{
				Key: &backend.Key{Path: []backend.PathElement{{Kind: "Row", Name: id}}},
				Properties: map[string]backend.Value{
					"name":  {Type: backend.StringType, String: name},
					"n":     {Type: backend.IntType, Int: num},
					"ratio": {Type: backend.DoubleType, Double: ratio},
					"even":  {Type: backend.BoolType, Bool: even},
					"when":  {Type: backend.TimestampType, Time: when},
				},
			},
		}
	}
	return rows
}

func writeCSV(t *testing.T, path string, rows []csvRow) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write([]string{"id", "name", "n", "ratio", "even", "when"})
	for _, r := range rows {
		w.Write(r.fields)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func writeConfig(t *testing.T, dir string) *bulkload.Config {
	t.Helper()
	path := filepath.Join(dir, "bulkloader.yaml")
	if err := os.WriteFile(path, []byte(rowsConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := bulkload.LoadConfig(path)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	return cfg
}

func openBackend(t *testing.T, hostport string) *datastore.Backend {
	t.Helper()
	b, err := datastore.NewFactory().Open(t.Context(), "datastore://?endpoint="+hostport, "//?endpoint="+hostport, backend.Env{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b.(*datastore.Backend)
}

// checkRows fails unless got holds every wanted entity exactly once.
func checkRows(t *testing.T, got []backend.Entity, rows []csvRow) {
	t.Helper()
	want := make(map[string]backend.Entity, len(rows))
	for _, r := range rows {
		want[r.want.Key.Path[0].Name] = r.want
	}
	seen := make(map[string]bool, len(got))
	bad := 0
	for _, e := range got {
		if bad > 5 {
			t.Fatal("too many differences")
		}
		name := e.Key.Path[len(e.Key.Path)-1].Name
		if seen[name] {
			t.Errorf("row %s stored twice", name)
			bad++
			continue
		}
		seen[name] = true
		w, ok := want[name]
		if !ok {
			t.Errorf("entity %+v matches no row", e.Key)
			bad++
			continue
		}
		if !datastore.EqualEntity(e, w) {
			t.Errorf("row %s:\n got %+v\nwant %+v", name, e, w)
			bad++
		}
	}
	if len(seen) != len(rows) {
		t.Fatalf("%d distinct rows stored, want %d", len(seen), len(rows))
	}
}

// readDump reads a download_data dump (JSON Lines).
func readDump(t *testing.T, path string) []backend.Entity {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ents []backend.Entity
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		e, err := bulkload.UnmarshalEntity(sc.Bytes())
		if err != nil {
			t.Fatalf("%s:%d: %v", path, len(ents)+1, err)
		}
		ents = append(ents, e)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ents
}

// TestBulkloadCSV10kThroughEmulator is upload_data of a 10,000-row CSV into
// the real Datastore emulator, then download_data of it twice: as a
// lossless dump (every entity equal to its row) and through the same
// config's CSV export (the file equal to the input).
func TestBulkloadCSV10kThroughEmulator(t *testing.T) {
	t.Parallel() // the emulator is shared; each test has its own project
	host := datastore.StartEmulator(t)
	b := openBackend(t, host)
	app := datastore.EmulatorApp("bulk-10k")
	dir := t.TempDir()
	rows := genRows(10000)
	in := filepath.Join(dir, "rows.csv")
	writeCSV(t, in, rows)
	cfg := writeConfig(t, dir)
	opts := bulkload.Options{App: app, Kind: "Row", Filename: in, Config: cfg, BatchSize: 500, NumThreads: 4,
		DBFilename: filepath.Join(dir, "progress.db"), Backend: b.Location()}

	start := time.Now()
	sum, err := bulkload.Upload(t.Context(), b, opts)
	if err != nil {
		t.Fatalf("upload: %v (summary %+v)", err, sum)
	}
	t.Logf("upload_data: %d rows in %s", sum.Loaded, time.Since(start).Round(time.Millisecond))
	if sum.Loaded != len(rows) || sum.Failed != 0 {
		t.Fatalf("upload summary %+v, want %d loaded, 0 failed", sum, len(rows))
	}

	start = time.Now()
	dump := filepath.Join(dir, "dump.jsonl")
	dopts := bulkload.Options{App: app, Kind: "Row", Filename: dump, BatchSize: 1000, NumThreads: 1, Backend: b.Location()}
	if _, err := bulkload.Download(t.Context(), b, dopts); err != nil {
		t.Fatalf("download (dump): %v", err)
	}
	t.Logf("download_data (dump): %s", time.Since(start).Round(time.Millisecond))
	checkRows(t, readDump(t, dump), rows)

	out := filepath.Join(dir, "out.csv")
	dopts.Filename, dopts.Config = out, cfg
	if _, err := bulkload.Download(t.Context(), b, dopts); err != nil {
		t.Fatalf("download (csv): %v", err)
	}
	inData, _ := os.ReadFile(in)
	outData, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.ReplaceAll(outData, []byte("\r\n"), []byte("\n")), inData) {
		t.Errorf("the exported CSV differs from the input (first 300 bytes):\n got %q\nwant %q", head(outData), head(inData))
	}
}

func head(b []byte) []byte { return b[:min(len(b), 300)] }
