package bulkload

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// seedDownload stores 250 Row and 40 Other entities.
func seedDownload(t *testing.T) *memStore {
	t.Helper()
	m := newMemStore()
	for kind, n := range map[string]int{"Row": 250, "Other": 40} {
		var batch []backend.Entity
		for i := 1; i <= n; i++ {
			batch = append(batch, backend.Entity{Key: &backend.Key{Path: []backend.PathElement{{Kind: kind, Name: fmt.Sprintf("k%04d", i)}}},
				Properties: map[string]backend.Value{"n": {Type: backend.IntType, Int: int64(i)}, "label": {Type: backend.StringType, String: fmt.Sprintf("row %d", i)}}})
		}
		if _, err := m.PutEntities(t.Context(), "app", batch); err != nil {
			t.Fatal(err)
		}
	}
	return m
}

const exportConfig = `python_preamble:
- import: google.appengine.ext.bulkload.transform
transformers:
- kind: Row
  connector: csv
  connector_options:
    encoding: utf-8-sig
  property_map:
  - property: __key__
    external_name: key
    export_transform: transform.key_id_or_name_as_string
  - property: n
    external_name: n
  - property: label
    external_name: label
`

// An interrupted download_data resumes from its result database: the
// partial output is kept, cut back to what was recorded, and continued
// after the last recorded key of each kind. The output equals that of a
// download that was never interrupted, byte for byte: nothing twice,
// nothing left out, header and byte order mark once.
func TestDownloadResumesFromResultDB(t *testing.T) {
	for _, tc := range []struct {
		name   string
		config string
		every  time.Duration // checkpoint interval
	}{
		{"dump, checkpoint every page", "", time.Nanosecond},
		{"dump, checkpoint only at kind ends", "", time.Hour},
		{"csv, checkpoint every page", exportConfig, time.Nanosecond},
		{"csv, no checkpoint before the failure", exportConfig, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			m := seedDownload(t)
			o := Options{App: "app", BatchSize: 7, NumThreads: 1}
			if tc.config != "" {
				cfg, err := ParseConfig("bulkloader.yaml", []byte(tc.config))
				if err != nil {
					t.Fatal(err)
				}
				o.Config, o.Kind = cfg, "Row"
			}
			ref := o
			ref.Filename = filepath.Join(dir, "ref.out")
			if _, err := Download(t.Context(), m, ref); err != nil {
				t.Fatal(err)
			}
			want, _ := os.ReadFile(ref.Filename)

			o.Filename = filepath.Join(dir, "out")
			o.ResultDBFilename = filepath.Join(dir, "results.sql3")
			o.CheckpointEvery = tc.every
			total := 0
			for run, failAt := range []int{12, 20, 0} {
				m.queries = 0
				m.query = func(call int) error {
					if call == failAt {
						return errors.New("connection reset")
					}
					return nil
				}
				sum, err := Download(t.Context(), m, o)
				if failAt != 0 {
					if err == nil || sum.Partial == "" {
						t.Fatalf("run %d: %v, partial %q; want a failure keeping the partial output", run, err, sum.Partial)
					}
					if _, err := os.Stat(o.Filename); !os.IsNotExist(err) {
						t.Fatalf("run %d: the output exists after a failed run", run)
					}
					// Bytes written after the last record (a crash
					// between writing and recording) are cut off.
					f, err := os.OpenFile(sum.Partial, os.O_APPEND|os.O_WRONLY, 0)
					if err != nil {
						t.Fatal(err)
					}
					f.WriteString("half a record,")
					f.Close()
					continue
				}
				if err != nil {
					t.Fatalf("last run: %v", err)
				}
				total = sum.Total
				if sum.Previously == 0 && tc.every == time.Nanosecond {
					t.Errorf("last run: nothing previously transferred: %+v", sum)
				}
			}
			got, err := os.ReadFile(o.Filename)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("resumed output (%d bytes) differs from an uninterrupted one (%d bytes)", len(got), len(want))
			}
			wantTotal := 290
			if tc.config != "" {
				wantTotal = 250
			}
			if total != wantTotal {
				t.Errorf("summary total %d, want %d", total, wantTotal)
			}
			if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp")); len(leftovers) != 0 {
				t.Errorf("temporary files left: %v", leftovers)
			}
			// Another run with other options refuses the database.
			o2 := o
			o2.Filename = filepath.Join(dir, "other")
			var se *SignatureError
			if _, err := Download(t.Context(), m, o2); !errors.As(err, &se) || se.What != "result" {
				t.Errorf("other options: %v, want a result database signature mismatch", err)
			}
		})
	}
}
