package runtimes

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDocsTable: docs/runtimes.md shows the table this package holds.
func TestDocsTable(t *testing.T) {
	doc, err := os.ReadFile("../../docs/runtimes.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), Markdown()) {
		t.Errorf("docs/runtimes.md does not hold the table of internal/runtimes; put this in it:\n%s", Markdown())
	}
}

func TestCheck(t *testing.T) {
	py27, _ := Lookup("python27")
	at := func(s string) time.Time { d, _ := time.Parse(time.DateOnly, s); return d }
	if w, err := Check(py27, at("2023-12-01")); w != "" || err != nil {
		t.Errorf("python27 before its end of support: %q, %v", w, err)
	}
	if w, err := Check(py27, at("2025-06-01")); err != nil || !strings.Contains(w, "end of support on 2024-01-30") {
		t.Errorf("python27 past end of support: %q, %v; want a warning", w, err)
	}
	var de *DeprecatedError
	if _, err := Check(py27, at("2026-01-31")); !errors.As(err, &de) || !strings.Contains(err.Error(), "python314") {
		t.Errorf("python27 on its deprecation day: %v; want a refusal naming python314", err)
	}
	if _, err := Check(Runtime{Name: "x", Decommissioned: at("2020-01-01")}, at("2026-01-01")); err == nil {
		t.Error("a decommissioned runtime is accepted")
	}
}
