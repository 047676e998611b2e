package logs_test

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/logs"
)

// BenchmarkDownload measures request_logs end to end: benchRecords stored
// logs of one version, downloaded to a file. bench/request_logs.sh compares
// the same against cat at a million records.
func BenchmarkDownload(b *testing.B) {
	const benchRecords = 100_000
	store, err := local.Open(b.Context(), "", local.Config{Root: b.TempDir()}, backend.Env{User: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	t0 := time.Date(2026, 11, 20, 18, 0, 0, 0, time.UTC)
	batch := make([]backend.RequestLog, 0, 1000)
	for i := range benchRecords {
		batch = append(batch, backend.RequestLog{
			Time: t0.Add(time.Duration(i) * 20 * time.Millisecond), IP: fmt.Sprintf("203.0.%d.%d", i%256, i/256%256),
			Method: "GET", Resource: fmt.Sprintf("/static/img/photo-%d.jpg", i%500), HTTPVersion: "HTTP/1.1",
			Status: 200, Bytes: int64(i % 60000), Referrer: "https://www.example.com/search?q=guestbook",
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			Host:      "guestbook.localhost:8080", Latency: time.Duration(i%80_000) * time.Microsecond, Service: "default", Version: "v1",
		})
		if len(batch) == cap(batch) {
			if err := logs.KeepLines(store).WriteLogs(b.Context(), "bench", batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	out := filepath.Join(b.TempDir(), "out.log")
	b.ResetTimer()
	for range b.N {
		res, err := logs.Download(b.Context(), store, logs.Options{App: "bench", Service: "default", Version: "v1",
			Output: out, EndDate: "2026-11-30", Format: logs.Format{Severity: -1}})
		if err != nil {
			b.Fatal(err)
		}
		if res.Requests != benchRecords {
			b.Fatalf("downloaded %d requests, want %d", res.Requests, benchRecords)
		}
	}
}
