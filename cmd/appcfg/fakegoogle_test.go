package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGoogle is a recording fake of the App Engine Admin API and Cloud
// Storage on loopback, for command-level tests of the appengine backend:
// it answers just enough for a deploy and the version commands to work,
// for any project, and records the method and path of every request.
// echo, when set, writes the error answer instead, as a server that
// repeats the request back. The knobs inject App Engine's failure modes.
type fakeGoogle struct {
	srv *httptest.Server

	mu      sync.Mutex
	calls   []string
	authz   []string        // the Authorization header of each call
	objects map[string]bool // object names stored in the buckets
	// versions are the versions created, by "apps/P/services/S", in
	// creation order; splits their services' traffic allocations.
	versions map[string][]map[string]any
	splits   map[string]map[string]float64
	shardBy  map[string]string
	created  time.Time // the next version's createTime, a minute apart
	// echo, when set, answers every request (only those whose path
	// holds echoPath, when that is set) with this status and an error
	// message repeating the request's headers, query and body.
	echo     int
	echoPath string
	// busy is how many calls changing a service answer 409 ABORTED
	// (an operation of alice@example.com in progress); < 0 for ever.
	busy int
	// deny, when set, refuses versions.create with a 403 naming this
	// permission in an ErrorInfo detail.
	deny string
	// runtimes is apps.listRuntimes' answer; nil answers 404 (an API
	// without the method), so the offline table applies.
	runtimes []map[string]any
}

func newFakeGoogle(t *testing.T) *fakeGoogle {
	t.Helper()
	f := startFakeGoogle()
	t.Cleanup(f.srv.Close)
	return f
}

// startFakeGoogle starts a fake the caller closes (f.srv.Close).
func startFakeGoogle() *fakeGoogle {
	f := &fakeGoogle{objects: map[string]bool{}, versions: map[string][]map[string]any{},
		splits: map[string]map[string]float64{}, shardBy: map[string]string{},
		created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// envVars are the variables pointing appcfg's appengine backend at the
// fake.
func (f *fakeGoogle) envVars() map[string]string {
	m := map[string]string{}
	for _, k := range []string{"APPCFG_APPENGINE_API", "APPCFG_STORAGE_API", "APPCFG_LOGGING_API", "APPCFG_DATASTORE_API"} {
		m[k] = f.srv.URL + "/"
	}
	return m
}

// env points appcfg's appengine backend at the fake, with the XDG and
// HOME directories of a fresh user (no cached credentials).
func (f *fakeGoogle) env(t *testing.T) {
	for k, v := range f.envVars() {
		t.Setenv(k, v)
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

// addVersions adds n versions v001… to apps/P/services/S, a minute apart,
// the last one receiving all traffic.
func (f *fakeGoogle) addVersions(project, service string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	svc := "apps/" + project + "/services/" + service
	for i := 1; i <= n; i++ {
		f.addVersion(svc, map[string]any{"id": fmt.Sprintf("v%03d", i), "runtime": "python312"})
	}
	f.splits[svc] = map[string]float64{fmt.Sprintf("v%03d", n): 1}
}

// addVersion stores v (its id set) under svc; f.mu is held.
func (f *fakeGoogle) addVersion(svc string, v map[string]any) {
	f.created = f.created.Add(time.Minute)
	v["servingStatus"] = "SERVING"
	v["createTime"] = f.created.Format(time.RFC3339)
	v["createdBy"] = "deployer@example.com"
	id := v["id"]
	// versionUrl as the Admin API forms it: the default service's name is
	// left out of the host name.
	parts := strings.Split(svc, "/") // apps/P/services/S
	host := parts[1] + ".uc.r.appspot.com"
	if parts[3] != "default" {
		host = parts[3] + "-dot-" + host
	}
	v["versionUrl"] = fmt.Sprintf("https://%v-dot-%s", id, host)
	vs := f.versions[svc][:0:0]
	for _, old := range f.versions[svc] {
		if old["id"] != id {
			vs = append(vs, old)
		}
	}
	f.versions[svc] = append(vs, v)
	if len(f.splits[svc]) == 0 {
		f.splits[svc] = map[string]float64{id.(string): 1}
	}
}

// authorizations returns the distinct Authorization headers received.
func (f *fakeGoogle) authorizations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, a := range f.authz {
		if !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

func (f *fakeGoogle) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	f.authz = append(f.authz, r.Header.Get("Authorization"))
	echo := f.echo
	if f.echoPath != "" && !strings.Contains(r.URL.Path, f.echoPath) {
		echo = 0
	}
	if echo != 0 {
		var hdr []string
		for k, vs := range r.Header {
			hdr = append(hdr, k+": "+strings.Join(vs, ","))
		}
		msg := "you sent " + r.Method + " " + r.URL.String() + " with " + strings.Join(hdr, "; ") + " and body " + string(body)
		fakeErr(w, echo, "INVALID_ARGUMENT", msg, nil)
		return
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	parts := strings.Split(p, "/")
	switch {
	case strings.HasPrefix(p, "upload/storage/v1/b/"):
		name := r.URL.Query().Get("name")
		f.objects[name] = true
		fakeJSON(w, 200, map[string]any{"name": name})
	case strings.HasPrefix(p, "storage/v1/b/") && len(parts) == 4:
		fakeJSON(w, 200, map[string]any{"name": parts[3]})
	case strings.HasPrefix(p, "storage/v1/b/") && len(parts) == 5:
		fakeJSON(w, 200, map[string]any{"items": []any{}})
	case strings.HasPrefix(p, "storage/v1/b/") && len(parts) == 6:
		if !f.objects[parts[5]] {
			fakeErr(w, 404, "NOT_FOUND", "No such object", nil)
			return
		}
		fakeJSON(w, 200, map[string]any{"name": parts[5], "size": "0"})
	case len(parts) == 3 && parts[0] == "v1" && parts[1] == "apps" && strings.HasSuffix(parts[2], ":listRuntimes"):
		if f.runtimes == nil {
			fakeErr(w, 404, "NOT_FOUND", "no such method", nil)
			return
		}
		fakeJSON(w, 200, map[string]any{"runtimes": f.runtimes})
	case len(parts) == 3 && parts[0] == "v1" && parts[1] == "apps":
		fakeJSON(w, 200, map[string]any{"id": parts[2], "codeBucket": "staging." + parts[2] + ".appspot.com", "servingStatus": "SERVING"})
	case len(parts) == 5 && parts[0] == "v1" && parts[3] == "operations":
		fakeJSON(w, 200, map[string]any{"name": p[len("v1/"):], "done": false, "metadata": map[string]any{
			"method": "google.appengine.v1.Versions.CreateVersion", "user": "alice@example.com", "insertTime": "2026-12-03T10:00:00Z"}})
	case len(parts) >= 5 && parts[3] == "services" && r.Method != "GET" && f.busy != 0:
		if f.busy > 0 {
			f.busy--
		}
		svc := strings.Join(parts[1:5], "/")
		fakeErr(w, 409, "ABORTED", "Cannot operate on "+svc+" because an operation is already in progress for "+svc+" by holder-op.", nil)
	case len(parts) == 6 && parts[5] == "versions" && r.Method == "POST":
		if f.deny != "" {
			fakeErr(w, 403, "PERMISSION_DENIED", "The caller does not have permission", []any{map[string]any{
				"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED",
				"metadata": map[string]any{"permission": f.deny, "resource": "projects/-/serviceAccounts/" + parts[2] + "@appspot.gserviceaccount.com"}}})
			return
		}
		var v map[string]any
		json.Unmarshal(body, &v)
		f.addVersion(strings.Join(parts[1:5], "/"), v)
		fakeOp(w, parts[2], v)
	case len(parts) == 4 && parts[3] == "services":
		var svcs []any
		prefix := strings.Join(parts[1:3], "/") + "/services/"
		for _, k := range slices.Sorted(maps.Keys(f.versions)) {
			if strings.HasPrefix(k, prefix) {
				svcs = append(svcs, f.serviceJSON(k))
			}
		}
		fakeJSON(w, 200, map[string]any{"services": svcs})
	case len(parts) == 5 && parts[3] == "services" && r.Method == "PATCH":
		var in struct {
			Split struct {
				Allocations map[string]float64 `json:"allocations"`
				ShardBy     string             `json:"shardBy"`
			} `json:"split"`
		}
		json.Unmarshal(body, &in)
		svc := strings.Join(parts[1:5], "/")
		f.splits[svc] = in.Split.Allocations
		f.shardBy[svc] = in.Split.ShardBy
		fakeOp(w, parts[2], f.serviceJSON(svc))
	case len(parts) == 5 && parts[3] == "services":
		fakeJSON(w, 200, f.serviceJSON(strings.Join(parts[1:5], "/")))
	case len(parts) == 6 && parts[5] == "versions":
		var vs []map[string]any
		for _, v := range f.versions[strings.Join(parts[1:5], "/")] {
			vs = append(vs, basicView(v))
		}
		fakeJSON(w, 200, map[string]any{"versions": vs})
	case len(parts) == 7 && parts[5] == "versions":
		svc := strings.Join(parts[1:5], "/")
		for i, v := range f.versions[svc] {
			if v["id"] != parts[6] {
				continue
			}
			switch r.Method {
			case "DELETE":
				f.versions[svc] = append(f.versions[svc][:i:i], f.versions[svc][i+1:]...)
				fakeOp(w, parts[2], nil)
			case "PATCH":
				var in map[string]any
				json.Unmarshal(body, &in)
				v["servingStatus"] = in["servingStatus"]
				fakeOp(w, parts[2], basicView(v))
			default:
				if r.URL.Query().Get("view") == "FULL" {
					fakeJSON(w, 200, v)
				} else {
					fakeJSON(w, 200, basicView(v))
				}
			}
			return
		}
		fakeErr(w, 404, "NOT_FOUND", "no such version", nil)
	case len(parts) >= 3 && parts[0] == "v1" && parts[1] == "apps" && r.Method != "GET":
		fakeOp(w, parts[2], nil)
	default:
		fakeErr(w, 404, "NOT_FOUND", "not found", nil)
	}
}

// serviceJSON is the Service resource of svc ("apps/P/services/S").
func (f *fakeGoogle) serviceJSON(svc string) map[string]any {
	alloc := map[string]any{}
	for v, s := range f.splits[svc] {
		alloc[v] = s
	}
	by := f.shardBy[svc]
	if by == "" {
		by = "IP"
	}
	return map[string]any{"id": svc[strings.LastIndex(svc, "/")+1:], "name": svc, "split": map[string]any{"allocations": alloc, "shardBy": by}}
}

// basicView drops what the BASIC view of a version leaves out.
func basicView(v map[string]any) map[string]any {
	out := map[string]any{}
	for k, x := range v {
		if k != "deployment" && k != "handlers" {
			out[k] = x
		}
	}
	return out
}

// fakeOp answers a finished operation with response.
func fakeOp(w http.ResponseWriter, project string, response map[string]any) {
	if response == nil {
		response = map[string]any{}
	}
	fakeJSON(w, 200, map[string]any{"name": "apps/" + project + "/operations/op1", "done": true, "response": response})
}

func fakeErr(w http.ResponseWriter, status int, canonical, msg string, details []any) {
	e := map[string]any{"code": status, "message": msg, "status": canonical}
	if details != nil {
		e["details"] = details
	}
	fakeJSON(w, status, map[string]any{"error": e})
}

func fakeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
