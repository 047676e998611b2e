package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServerTextIsRedacted: a host whose error answers echo the request
// (its headers, query string and body) never gets a token or a secret onto
// the screen: not in error messages, --json, status lines or --noisy
// logs, for every backend that talks to a server (appengine, datastore;
// local has no server text).
func TestServerTextIsRedacted(t *testing.T) {
	const token = "ya29.SECRET-ACCESS-TOKEN"
	const envSecret = "tok-SECRET-ENV-VALUE"
	f := newFakeGoogle(t)
	f.env(t)
	f.echo = http.StatusBadRequest
	dir := t.TempDir()
	for name, data := range map[string]string{
		"app.yaml": "runtime: python312\nenv_variables:\n  API_TOKEN: " + envSecret + "\n",
		"main.py":  "print(1)\n",
		"k.jsonl":  `{"key":{"path":[{"kind":"K","name":"a"}]},"properties":{"x":{"type":"integer","int":1}}}` + "\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ds := "datastore://p?endpoint=" + strings.TrimPrefix(f.srv.URL, "http://")
	runs := [][]string{
		{"update", dir, "--backend", "appengine://p", "-V", "v1"},
		{"update", dir, "--backend", "appengine://p", "-V", "v1", "--json"},
		{"update", dir, "--backend", "appengine://p", "-V", "v1", "--noisy"},
		{"list_versions", "--backend", "appengine://p", "--json"},
		{"request_logs", "--backend", "appengine://p", "-V", "v1", "-"},
		{"download_data", "--backend", ds, "--kind", "K", "--filename", filepath.Join(t.TempDir(), "out.jsonl"), "--db_filename", "skip", "--result_db_filename", "skip"},
		{"upload_data", "--backend", ds, "--kind", "K", "--filename", filepath.Join(dir, "k.jsonl"), "--db_filename", "skip", "--noisy"},
	}
	for i, args := range runs {
		if i == 1 {
			// A deploy that gets as far as versions.create, whose body
			// (with app.yaml's env_variables) is echoed back.
			f.echoPath = "/versions"
		}
		if i == 2 {
			f.echoPath = ""
		}
		before := len(f.callLog())
		code, stdout, stderr := runCLI(t, append(args, "--oauth2_access_token", token)...)
		if len(f.callLog()) == before {
			t.Errorf("%s: no request reached the echoing fake (exit %d):\n%s", args, code, stderr)
		}
		if code == exitOK {
			t.Errorf("%s: exit 0 from a host that refuses everything", args)
		}
		for _, secret := range []string{token, "SECRET-ACCESS-TOKEN", envSecret} {
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("%s printed %q:\nstdout:\n%s\nstderr:\n%s", args, secret, stdout, stderr)
			}
		}
		if i == 1 && !strings.Contains(stderr, "API_TOKEN") {
			t.Errorf("%s: the versions.create body was not echoed:\n%s", args, stderr)
		}
		if !strings.Contains(stderr, "you sent") {
			t.Errorf("%s: the server's message is gone altogether:\n%s", args, stderr)
		}
	}
}
