//go:build linux && floorlocal

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/logs"
)

// TestDownload checks the floor's download writes what the store keeps:
// in the benchmark's store, the lines file's bytes.
func TestDownload(t *testing.T) {
	root := t.TempDir()
	b, err := local.Open(t.Context(), "", local.Config{Root: root}, backend.Env{})
	if err != nil {
		t.Fatal(err)
	}
	recs := make([]backend.RequestLog, 3000)
	t0 := time.Now().Add(-time.Hour)
	for i := range recs {
		recs[i] = backend.RequestLog{Time: t0.Add(time.Duration(i) * time.Millisecond), IP: "192.0.2.1", Method: "GET",
			Resource: "/", HTTPVersion: "HTTP/1.1", Status: 200, Host: "h", Service: "default", Version: "v1"}
	}
	if err := logs.KeepLines(b).WriteLogs(t.Context(), "app", recs); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "out.log")
	if err := download(t.Context(), root, "app", "v1", dst); err != nil {
		t.Fatalf("download: %v", err)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "logs", "*.lines"))
	if len(files) != 1 {
		t.Fatalf("lines files %v, want one", files)
	}
	want, err := os.ReadFile(files[0])
	if err != nil || !bytes.Equal(got, want) || bytes.Count(got, []byte("\n")) != len(recs) {
		t.Errorf("downloaded %d bytes, %d lines (%v), want the lines file's %d bytes, %d lines", len(got), bytes.Count(got, []byte("\n")), err, len(want), len(recs))
	}
}
