package appengine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/appmodel"
)

// TestManifestEncodesAsAMap: deployment.files written straight from the
// file list is byte for byte what encoding/json wrote for the map it
// replaced, for names that need escaping, files out of order and a
// repeated path.
func TestManifestEncodesAsAMap(t *testing.T) {
	type fileInfo struct {
		SourceURL string `json:"sourceUrl"`
		SHA1Sum   string `json:"sha1Sum"`
		MimeType  string `json:"mimeType,omitempty"`
	}
	names := []string{"main.py", "static/a b.css", `q"uote`, `back\slash`, "tab\there", "nl\nx", "cr\rx",
		"ctl\x01\x1f", "bs\bff\f", "html<&>", "é/ü/日本.txt", "bad\xffutf8", "cut\xe6\x97", "ls\u2028ps\u2029", "del\x7f", "z/last"}
	var files []backend.FileRef
	for i := len(names) - 1; i >= 0; i-- { // out of order
		files = append(files, backend.FileRef{Path: names[i], SHA1: fmt.Sprintf("%040x", i), MimeType: []string{"", "text/css"}[i%2]})
	}
	files = append(files, backend.FileRef{Path: "main.py", SHA1: fmt.Sprintf("%040x", 99)}) // repeated: the last wins
	const prefix = "https://storage.googleapis.com/staging.p.appspot.com/"
	want := map[string]fileInfo{}
	for _, f := range files {
		want[f.Path] = fileInfo{SourceURL: prefix + f.SHA1, SHA1Sum: f.SHA1, MimeType: f.MimeType}
	}
	for _, n := range []int{0, 1, len(files)} {
		m := manifest{files: files[len(files)-n:], prefix: prefix}
		w := map[string]fileInfo{}
		for _, f := range m.files {
			w[f.Path] = want[f.Path]
		}
		if n == len(files) {
			w = want
		}
		wantJSON, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.append(nil); !bytes.Equal(got, wantJSON) {
			t.Errorf("%d files:\n got %s\nwant %s", n, got, wantJSON)
		}
	}

	// The whole body: the configuration as encoding/json writes it, the
	// manifest spliced in, valid JSON that decodes as the map did.
	spec := backend.VersionSpec{Version: "v1", Runtime: "python312", Model: &appmodel.App{Runtime: "python312"}, Files: files}
	body, err := versionBody(spec, "staging.p.appspot.com")
	if err != nil {
		t.Fatal(err)
	}
	res, err := VersionResource(spec.Model)
	if err != nil {
		t.Fatal(err)
	}
	res["runtime"], res["id"], res["deployment"] = "python312", "v1", map[string]any{"files": want}
	old, _ := json.Marshal(res)
	var got, wantBody any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("the body is not JSON: %v\n%s", err, body)
	}
	json.Unmarshal(old, &wantBody)
	if !reflect.DeepEqual(got, wantBody) {
		t.Errorf("body\n got %s\nwant %s", body, old)
	}
}

// FuzzAppendEscapedAsEncodingJSON: a string written by appendJSONString is
// byte for byte what encoding/json writes for it. The seeds hold every
// byte alone and between letters (control characters, \b and \f, which
// encoding/json writes by their letters, quotes, backslashes, <>&, DEL,
// each byte of invalid UTF-8), U+2028 and U+2029, and UTF-8 cut short.
func FuzzAppendEscapedAsEncodingJSON(f *testing.F) {
	for c := range 256 {
		f.Add(string([]byte{byte(c)}))
		f.Add("a" + string([]byte{byte(c)}) + "b")
	}
	for _, s := range []string{"", "é/ü/日本.txt", "ls\u2028ps\u2029", "cut\xe6\x97", "\xe6\x97", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\U0010ffff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q written as %s, encoding/json writes %s", s, got, want)
		}
	})
}
