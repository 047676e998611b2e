package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeGoogle is a recording fake of the App Engine Admin API and Cloud
// Storage on loopback, for command-level tests of the appengine backend:
// it answers just enough for a deploy to complete, for any project, and
// records the method and path of every request. echo, when set, writes
// the error answer instead, as a server that repeats the request back.
type fakeGoogle struct {
	srv *httptest.Server

	mu      sync.Mutex
	calls   []string
	objects map[string]bool // object names stored in the buckets
	// versions are the versions created, by "apps/P/services/S".
	versions map[string][]map[string]any
	// echo, when set, answers every request (only those whose path
	// holds echoPath, when that is set) with this status and an error
	// message repeating the request's headers, query and body.
	echo     int
	echoPath string
}

func newFakeGoogle(t *testing.T) *fakeGoogle {
	t.Helper()
	f := &fakeGoogle{objects: map[string]bool{}, versions: map[string][]map[string]any{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// env points appcfg's appengine backend at the fake, with the XDG and
// HOME directories of a fresh user (no cached credentials).
func (f *fakeGoogle) env(t *testing.T) {
	for _, k := range []string{"APPCFG_APPENGINE_API", "APPCFG_STORAGE_API", "APPCFG_LOGGING_API", "APPCFG_DATASTORE_API"} {
		t.Setenv(k, f.srv.URL+"/")
	}
	home := t.TempDir()
	for _, k := range []string{"HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME"} {
		t.Setenv(k, home)
	}
	for _, k := range []string{"APPCFG_BACKEND", "APPCFG_APPLICATION", "GOOGLE_APPLICATION_CREDENTIALS", "APPCFG_OAUTH2_ACCESS_TOKEN", "APPCFG_OAUTH2_REFRESH_TOKEN"} {
		t.Setenv(k, "")
	}
}

func (f *fakeGoogle) callLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func (f *fakeGoogle) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	echo := f.echo
	if f.echoPath != "" && !strings.Contains(r.URL.Path, f.echoPath) {
		echo = 0
	}
	f.mu.Unlock()
	if echo != 0 {
		var hdr []string
		for k, vs := range r.Header {
			hdr = append(hdr, k+": "+strings.Join(vs, ","))
		}
		msg := "you sent " + r.Method + " " + r.URL.String() + " with " + strings.Join(hdr, "; ") + " and body " + string(body)
		fakeJSON(w, echo, map[string]any{"error": map[string]any{"code": echo, "message": msg, "status": "INVALID_ARGUMENT"}})
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	parts := strings.Split(p, "/")
	switch {
	case strings.HasPrefix(p, "upload/storage/v1/b/"):
		name := r.URL.Query().Get("name")
		f.mu.Lock()
		f.objects[name] = true
		f.mu.Unlock()
		fakeJSON(w, 200, map[string]any{"name": name})
	case strings.HasPrefix(p, "storage/v1/b/") && len(parts) == 4:
		fakeJSON(w, 200, map[string]any{"name": parts[3]})
	case strings.HasPrefix(p, "storage/v1/b/") && len(parts) == 5:
		fakeJSON(w, 200, map[string]any{"items": []any{}})
	case strings.HasPrefix(p, "storage/v1/b/") && len(parts) == 6:
		f.mu.Lock()
		ok := f.objects[parts[5]]
		f.mu.Unlock()
		if !ok {
			fakeJSON(w, 404, map[string]any{"error": map[string]any{"code": 404, "message": "No such object"}})
			return
		}
		fakeJSON(w, 200, map[string]any{"name": parts[5], "size": "0"})
	case len(parts) == 3 && parts[0] == "v1" && parts[1] == "apps":
		fakeJSON(w, 200, map[string]any{"id": parts[2], "codeBucket": "staging." + parts[2] + ".appspot.com", "servingStatus": "SERVING"})
	case len(parts) == 6 && parts[5] == "versions" && r.Method == "POST":
		var v map[string]any
		json.Unmarshal(body, &v)
		svc := strings.Join(parts[1:5], "/")
		f.mu.Lock()
		f.versions[svc] = append(f.versions[svc], map[string]any{"id": v["id"], "servingStatus": "SERVING"})
		f.mu.Unlock()
		fakeJSON(w, 200, map[string]any{"name": "apps/" + parts[2] + "/operations/op1", "done": true, "response": map[string]any{}})
	case len(parts) >= 3 && parts[0] == "v1" && parts[1] == "apps" && r.Method != "GET":
		fakeJSON(w, 200, map[string]any{"name": "apps/" + parts[2] + "/operations/op1", "done": true, "response": map[string]any{}})
	case len(parts) == 4 && parts[3] == "services":
		fakeJSON(w, 200, map[string]any{"services": []any{}})
	case len(parts) == 5 && parts[3] == "services":
		fakeJSON(w, 200, map[string]any{"id": parts[4], "split": map[string]any{"allocations": map[string]any{}}})
	case len(parts) == 6 && parts[5] == "versions":
		f.mu.Lock()
		vs := append([]map[string]any{}, f.versions[strings.Join(parts[1:5], "/")]...)
		f.mu.Unlock()
		fakeJSON(w, 200, map[string]any{"versions": vs})
	case len(parts) == 7 && parts[5] == "versions":
		f.mu.Lock()
		vs := f.versions[strings.Join(parts[1:5], "/")]
		f.mu.Unlock()
		for _, v := range vs {
			if v["id"] == parts[6] {
				fakeJSON(w, 200, v)
				return
			}
		}
		fakeJSON(w, 404, map[string]any{"error": map[string]any{"code": 404, "message": "no such version", "status": "NOT_FOUND"}})
	default:
		fakeJSON(w, 404, map[string]any{"error": map[string]any{"code": 404, "message": "not found", "status": "NOT_FOUND"}})
	}
}

func fakeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
