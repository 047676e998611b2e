package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestPrintJSONRedacts: every string of --json output loses its
// credentials, and the output stays the JSON the encoder would write.
func TestPrintJSONRedacts(t *testing.T) {
	v := map[string]any{
		"warnings": []string{`stopping v0: you sent "Authorization: Bearer ya29.SECRET" and ?access_token=zzz`, "plain <text> & \"quotes\""},
		"deployer": "me@example.com",
		"n":        3,
	}
	var got bytes.Buffer
	if err := printJSON(&got, v); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got.String(), "ya29") || strings.Contains(got.String(), "zzz") {
		t.Errorf("printJSON left a token:\n%s", got.String())
	}
	var back map[string]any
	if err := json.Unmarshal(got.Bytes(), &back); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, got.String())
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetIndent("", "  ")
	enc.Encode(map[string]any{"warnings": []string{"x", "plain <text> & \"quotes\""}, "deployer": "me@example.com", "n": 3})
	if !strings.Contains(want.String(), `"plain \u003ctext\u003e \u0026 \"quotes\""`) || !strings.Contains(got.String(), `"plain \u003ctext\u003e \u0026 \"quotes\""`) {
		t.Errorf("a string without credentials changed form:\n%s\nwant as in:\n%s", got.String(), want.String())
	}
}
