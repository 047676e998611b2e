package appengine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// fakeCloud is an in-process stand-in for Google: the App Engine Admin API,
// the Datastore Admin API and Cloud Logging written here, and the real
// fake-gcs-server for Cloud Storage. Every request is checked against the
// discovery documents; a violation fails the test.
type fakeCloud struct {
	t         testing.TB
	admin     *httptest.Server // Admin API, Datastore Admin and Logging
	storage   *httptest.Server // fake-gcs-server behind storageHook
	gcs       *fakestorage.Server
	docs      map[string]*discovery
	opPolls   int // not-done polls before an operation is done
	tokenOK   func(string) bool
	storageMW func(w http.ResponseWriter, r *http.Request) bool
	// emulator is the Datastore emulator's base URL: data-plane calls
	// (v1/projects/P:commit …) are checked, then forwarded there.
	emulator string

	mu        sync.Mutex
	apps      map[string]*fakeApp
	ops       map[string]*fakeOp
	indexes   map[string]map[string]map[string]any // project → id → index
	nextID    int
	logs      map[string][]map[string]any // project → LogEntry JSON
	emptyPage bool                        // answer a first empty page with a token
	noApps    bool                        // apps exist only once apps.create made them
	calls     []string                    // "METHOD path" of every API call
	fail      map[string][]fakeFailure    // "METHOD path-regex" → failures to answer first
	// busy holds a service ("P/S") for the next n calls that change it,
	// which answer 409 ABORTED naming the holding operation; n < 0
	// holds it for ever.
	busy map[string]int
}

// fakeFailure is an injected error answer: status with a canonical status,
// a message and details ("UNAVAILABLE", "injected failure" by default).
type fakeFailure struct {
	status    int
	canonical string
	message   string
	details   []any
}

type fakeApp struct {
	bucket   string
	location string // locationId given to apps.create
	services map[string]*fakeService
	dispatch []any
}

type fakeService struct {
	shardBy  string
	split    map[string]float64
	versions map[string]map[string]any
}

type fakeOp struct {
	polls int
	op    map[string]any
}

func newFakeCloud(t testing.TB) *fakeCloud { return newFakeCloudOn(t, "") }

// newFakeCloudOn keeps fake-gcs-server's objects in storageRoot ("" for
// memory, whose inserts cost a scan of the bucket: slow for thousands).
func newFakeCloudOn(t testing.TB, storageRoot string) *fakeCloud {
	t.Helper()
	gcs, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true, Writer: io.Discard, StorageRoot: storageRoot})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeCloud{t: t, gcs: gcs, opPolls: 1,
		docs:    map[string]*discovery{"appengine": loadDiscovery(t, "appengine"), "datastore": loadDiscovery(t, "datastore"), "logging": loadDiscovery(t, "logging")},
		apps:    map[string]*fakeApp{},
		ops:     map[string]*fakeOp{},
		indexes: map[string]map[string]map[string]any{},
		logs:    map[string][]map[string]any{},
		fail:    map[string][]fakeFailure{},
		busy:    map[string]int{},
	}
	f.admin = httptest.NewServer(http.HandlerFunc(f.serveAPI))
	gh := gcs.HTTPHandler()
	f.storage = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.authorised(w, r) {
			return
		}
		f.record(r)
		if ff := f.injected(r); ff != nil {
			ff.write(w)
			return
		}
		if f.storageMW != nil && f.storageMW(w, r) {
			return
		}
		gh.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { f.admin.Close(); f.storage.Close(); gcs.Stop() })
	return f
}

// endpoints points a backend at the fake.
func (f *fakeCloud) endpoints() Endpoints {
	return Endpoints{AppEngine: f.admin.URL, Storage: f.storage.URL, Logging: f.admin.URL, Datastore: f.admin.URL}
}

func (f *fakeCloud) record(r *http.Request) {
	f.mu.Lock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	f.mu.Unlock()
}

// failNext makes the next requests matching method and path regexp answer
// the given statuses, in order.
func (f *fakeCloud) failNext(method, pathRE string, statuses ...int) {
	for _, st := range statuses {
		f.failNextWith(method, pathRE, fakeFailure{status: st})
	}
}

// failNextWith queues one failure of the given shape.
func (f *fakeCloud) failNextWith(method, pathRE string, ff fakeFailure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method+" "+pathRE] = append(f.fail[method+" "+pathRE], ff)
}

func (f *fakeCloud) injected(r *http.Request) *fakeFailure {
	f.mu.Lock()
	defer f.mu.Unlock()
	for k, ffs := range f.fail {
		m, re, _ := strings.Cut(k, " ")
		if m == r.Method && len(ffs) > 0 && regexp.MustCompile(re).MatchString(r.URL.Path) {
			f.fail[k] = ffs[1:]
			return &ffs[0]
		}
	}
	return nil
}

func (ff *fakeFailure) write(w http.ResponseWriter) {
	canonical, msg := ff.canonical, ff.message
	if canonical == "" {
		canonical = "UNAVAILABLE"
	}
	if msg == "" {
		msg = "injected failure"
	}
	e := map[string]any{"code": ff.status, "message": msg, "status": canonical}
	if ff.details != nil {
		e["details"] = ff.details
	}
	writeJSON(w, ff.status, map[string]any{"error": e})
}

func (f *fakeCloud) authorised(w http.ResponseWriter, r *http.Request) bool {
	if f.tokenOK == nil {
		return true
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !f.tokenOK(tok) {
		writeErr(w, http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, canonical, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "message": msg, "status": canonical}})
}

// app returns a project's application, creating it (with its code bucket
// in fake-gcs-server) on first use, as a provisioned project has one.
func (f *fakeCloud) app(project string) *fakeApp {
	a := f.apps[project]
	if a == nil {
		a = &fakeApp{bucket: "staging." + project + ".appspot.com", services: map[string]*fakeService{}}
		f.gcs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: a.bucket})
		f.apps[project] = a
	}
	return a
}

// newOp registers an operation done after f.opPolls polls.
func (f *fakeCloud) newOp(prefix string, metadata, response map[string]any, opErr map[string]any) map[string]any {
	f.nextID++
	name := fmt.Sprintf("%s/operations/op-%d", prefix, f.nextID)
	op := map[string]any{"name": name, "done": false}
	if metadata != nil {
		op["metadata"] = metadata
	}
	done := map[string]any{"name": name, "done": true}
	if metadata != nil {
		done["metadata"] = metadata
	}
	if opErr != nil {
		done["error"] = opErr
	} else if response != nil {
		done["response"] = response
	}
	f.ops[name] = &fakeOp{polls: f.opPolls, op: done}
	if f.opPolls == 0 {
		return done
	}
	return op
}

var (
	reApp       = regexp.MustCompile(`^v1/apps/([^/]+)$`)
	reServices  = regexp.MustCompile(`^v1/apps/([^/]+)/services$`)
	reService   = regexp.MustCompile(`^v1/apps/([^/]+)/services/([^/]+)$`)
	reVersions  = regexp.MustCompile(`^v1/apps/([^/]+)/services/([^/]+)/versions$`)
	reVersion   = regexp.MustCompile(`^v1/apps/([^/]+)/services/([^/]+)/versions/([^/]+)$`)
	reAppOp     = regexp.MustCompile(`^v1/(apps/[^/]+/operations/[^/]+)$`)
	reIndexes   = regexp.MustCompile(`^v1/projects/([^/]+)/indexes$`)
	reIndex     = regexp.MustCompile(`^v1/projects/([^/]+)/indexes/([^/]+)$`)
	reProjectOp = regexp.MustCompile(`^v1/(projects/[^/]+/operations/[^/]+)$`)
	reSourceURL = regexp.MustCompile(`^https://storage\.googleapis\.com/([^/]+)/([0-9a-f]{40})$`)
)

func (f *fakeCloud) serveAPI(w http.ResponseWriter, r *http.Request) {
	if !f.authorised(w, r) {
		return
	}
	f.record(r)
	body, _ := io.ReadAll(r.Body)
	path := strings.TrimPrefix(r.URL.Path, "/")
	doc := f.docs["appengine"]
	switch {
	case strings.HasPrefix(path, "v1/projects/"):
		doc = f.docs["datastore"]
	case strings.HasPrefix(path, "v2/"):
		doc = f.docs["logging"]
	}
	m, probs := doc.checkRequest(r.Method, path, r.URL.Query(), body)
	for _, p := range probs {
		f.t.Errorf("request violates the discovery document: %s", p)
	}
	if m == nil {
		writeErr(w, http.StatusNotFound, "NOT_FOUND", "no such method")
		return
	}
	if ff := f.injected(r); ff != nil {
		ff.write(w)
		return
	}
	if strings.HasPrefix(m.ID, "datastore.projects.") && strings.Contains(path, ":") {
		f.forward(w, r, path, body)
		return
	}
	var in map[string]any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			writeErr(w, http.StatusBadRequest, "INVALID_ARGUMENT", err.Error())
			return
		}
	}
	f.mu.Lock()
	status, out := f.dispatch(m.ID, r, path, in)
	f.mu.Unlock()
	writeJSON(w, status, out)
}

// forward sends a Datastore data-plane call to the emulator.
func (f *fakeCloud) forward(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	if f.emulator == "" {
		writeErr(w, http.StatusNotImplemented, "UNIMPLEMENTED", "no Datastore emulator behind this fake")
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, f.emulator+"/"+path, bytes.NewReader(body))
	if err != nil {
		writeErr(w, 500, "INTERNAL", err.Error())
		return
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		writeErr(w, http.StatusServiceUnavailable, "UNAVAILABLE", err.Error())
		return
	}
	defer resp.Body.Close()
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func apiErr(status int, canonical, msg string) (int, any) {
	return status, map[string]any{"error": map[string]any{"code": status, "message": msg, "status": canonical}}
}

// page slices items by pageSize/pageToken (the token is the offset).
func page[T any](items []T, q url.Values) ([]T, string) {
	start, _ := strconv.Atoi(q.Get("pageToken"))
	size, _ := strconv.Atoi(q.Get("pageSize"))
	if size <= 0 {
		size = 50
	}
	if start > len(items) {
		start = len(items)
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next
}

// holdService makes the next n calls changing the service answer that an
// operation (started by user) is in progress on it; n < 0 for ever.
func (f *fakeCloud) holdService(project, service string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.busy[project+"/"+service] = n
}

// held answers a change of a held service, as the Admin API does, with
// the holding operation (readable with operations.get) in the message.
func (f *fakeCloud) held(method, path string) (int, any, bool) {
	switch method {
	case "appengine.apps.services.patch", "appengine.apps.services.versions.create",
		"appengine.apps.services.versions.patch", "appengine.apps.services.versions.delete":
	default:
		return 0, nil, false
	}
	m := regexp.MustCompile(`^v1/apps/([^/]+)/services/([^/]+)`).FindStringSubmatch(path)
	key := m[1] + "/" + m[2]
	n := f.busy[key]
	if n == 0 {
		return 0, nil, false
	}
	if n > 0 {
		f.busy[key] = n - 1
	}
	name := "apps/" + m[1] + "/operations/holder-" + m[2]
	if f.ops[name] == nil {
		f.ops[name] = &fakeOp{polls: 1 << 30, op: map[string]any{"name": name, "done": false, "metadata": map[string]any{
			"@type": "type.googleapis.com/google.appengine.v1.OperationMetadataV1", "method": "google.appengine.v1.Versions.CreateVersion",
			"user": "alice@example.com", "insertTime": "2026-12-03T10:00:00Z", "target": "apps/" + m[1] + "/services/" + m[2]}}}
	}
	target := "apps/" + m[1] + "/services/" + m[2]
	st, body := apiErr(409, "ABORTED", "Cannot operate on "+target+" because an operation is already in progress for "+target+" by holder-"+m[2]+".")
	return st, body, true
}

func (f *fakeCloud) dispatch(method string, r *http.Request, path string, in map[string]any) (int, any) {
	q := r.URL.Query()
	if st, body, ok := f.held(method, path); ok {
		return st, body
	}
	switch method {
	case "appengine.apps.create":
		id, _ := in["id"].(string)
		loc, _ := in["locationId"].(string)
		if id == "" || loc == "" {
			return apiErr(400, "INVALID_ARGUMENT", "id and locationId are required")
		}
		if f.apps[id] != nil {
			return apiErr(409, "ALREADY_EXISTS", "app "+id+" already exists")
		}
		f.app(id).location = loc
		return 200, f.newOp("apps/"+id, nil, map[string]any{"id": id, "locationId": loc}, nil)
	case "appengine.apps.listRuntimes":
		if q.Get("environment") != "STANDARD" {
			return apiErr(400, "INVALID_ARGUMENT", "environment must be STANDARD")
		}
		return 200, map[string]any{"runtimes": []any{
			map[string]any{"name": "python27", "stage": "DEPRECATED", "environment": "STANDARD",
				"endOfSupportDate": map[string]any{"year": 2024, "month": 1, "day": 30},
				"deprecationDate":  map[string]any{"year": 2026, "month": 1, "day": 31}},
			map[string]any{"name": "python313", "stage": "GA", "environment": "STANDARD"},
		}}
	case "appengine.apps.repair":
		p := strings.TrimSuffix(strings.TrimPrefix(path, "v1/apps/"), ":repair")
		a := f.apps[p]
		if a == nil {
			return apiErr(404, "NOT_FOUND", "no app "+p)
		}
		if a.bucket == "" {
			a.bucket = "staging." + p + ".appspot.com"
			f.gcs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: a.bucket})
		}
		return 200, f.newOp("apps/"+p, nil, map[string]any{"id": p, "codeBucket": a.bucket}, nil)
	case "appengine.apps.get":
		p := reApp.FindStringSubmatch(path)[1]
		if f.noApps && f.apps[p] == nil {
			return apiErr(404, "NOT_FOUND", "App does not exist.")
		}
		a := f.app(p)
		out := map[string]any{"id": p, "name": "apps/" + p, "codeBucket": a.bucket, "servingStatus": "SERVING", "defaultHostname": p + ".appspot.com"}
		if len(a.dispatch) > 0 {
			out["dispatchRules"] = a.dispatch
		}
		return 200, out
	case "appengine.apps.patch":
		p := reApp.FindStringSubmatch(path)[1]
		if q.Get("updateMask") != "dispatchRules" {
			return apiErr(400, "INVALID_ARGUMENT", "unsupported updateMask")
		}
		rules, _ := in["dispatchRules"].([]any)
		f.app(p).dispatch = rules
		return 200, f.newOp("apps/"+p, nil, map[string]any{"id": p}, nil)
	case "appengine.apps.services.list":
		p := reServices.FindStringSubmatch(path)[1]
		a := f.app(p)
		ids := sortedKeys(a.services)
		var svcs []any
		for _, id := range ids {
			svcs = append(svcs, f.serviceJSON(p, id, a.services[id]))
		}
		pg, next := page(svcs, q)
		return 200, map[string]any{"services": pg, "nextPageToken": next}
	case "appengine.apps.services.get", "appengine.apps.services.patch":
		m := reService.FindStringSubmatch(path)
		a := f.app(m[1])
		s := a.services[m[2]]
		if s == nil {
			return apiErr(404, "NOT_FOUND", "Unable to retrieve service "+m[2])
		}
		if method == "appengine.apps.services.get" {
			return 200, f.serviceJSON(m[1], m[2], s)
		}
		if q.Get("updateMask") != "split" {
			return apiErr(400, "INVALID_ARGUMENT", "updateMask must be split")
		}
		split, _ := in["split"].(map[string]any)
		alloc, _ := split["allocations"].(map[string]any)
		sum := 0.0
		next := map[string]float64{}
		for v, x := range alloc {
			share, _ := x.(float64)
			if s.versions[v] == nil {
				return apiErr(400, "INVALID_ARGUMENT", "version "+v+" does not exist")
			}
			sum += share
			next[v] = share
		}
		if len(next) == 0 || math.Abs(sum-1) > 1e-9 {
			return apiErr(400, "INVALID_ARGUMENT", "allocations must sum to 1")
		}
		s.split = next
		s.shardBy, _ = split["shardBy"].(string)
		f.nextID++ // a distinct, increasing insertTime for the history
		meta := map[string]any{"@type": "type.googleapis.com/google.appengine.v1.OperationMetadataV1",
			"method": "google.appengine.v1.Services.UpdateService", "target": "apps/" + m[1] + "/services/" + m[2],
			"insertTime": time.Date(2026, 12, 1, 0, 0, f.nextID, 0, time.UTC).Format(time.RFC3339), "user": "deployer@example.com"}
		return 200, f.newOp("apps/"+m[1], meta, f.serviceJSON(m[1], m[2], s), nil)
	case "appengine.apps.services.versions.create":
		m := reVersions.FindStringSubmatch(path)
		return f.createVersion(m[1], m[2], in)
	case "appengine.apps.services.versions.list":
		m := reVersions.FindStringSubmatch(path)
		s := f.app(m[1]).services[m[2]]
		if s == nil {
			return apiErr(404, "NOT_FOUND", "Unable to retrieve service "+m[2])
		}
		var vs []any
		for _, id := range sortedKeys(s.versions) {
			vs = append(vs, view(s.versions[id], q.Get("view")))
		}
		pg, next := page(vs, q)
		return 200, map[string]any{"versions": pg, "nextPageToken": next}
	case "appengine.apps.services.versions.get", "appengine.apps.services.versions.patch", "appengine.apps.services.versions.delete":
		m := reVersion.FindStringSubmatch(path)
		s := f.app(m[1]).services[m[2]]
		var v map[string]any
		if s != nil {
			v = s.versions[m[3]]
		}
		if v == nil {
			return apiErr(404, "NOT_FOUND", "Version not found: "+m[3])
		}
		switch method {
		case "appengine.apps.services.versions.get":
			return 200, view(v, q.Get("view"))
		case "appengine.apps.services.versions.patch":
			if q.Get("updateMask") != "servingStatus" {
				return apiErr(400, "INVALID_ARGUMENT", "unsupported updateMask")
			}
			v["servingStatus"] = in["servingStatus"]
			return 200, f.newOp("apps/"+m[1], nil, view(v, ""), nil)
		}
		if s.split[m[3]] > 0 {
			return apiErr(400, "FAILED_PRECONDITION", "Cannot delete a version with a non-zero traffic allocation.")
		}
		delete(s.versions, m[3])
		return 200, f.newOp("apps/"+m[1], nil, nil, nil)
	case "appengine.apps.operations.list":
		// Done operations; with filter done:false (gcloud's --pending)
		// the ones still running instead.
		prefix := strings.TrimPrefix(path, "v1/") + "/"
		pending := false
		switch q.Get("filter") {
		case "":
		case "done:false":
			pending = true
		default:
			return apiErr(400, "INVALID_ARGUMENT", "unsupported filter "+q.Get("filter"))
		}
		var ops []any
		for _, name := range sortedKeys(f.ops) {
			op := f.ops[name]
			switch {
			case !strings.HasPrefix(name, prefix):
			case !pending && op.polls == 0:
				ops = append(ops, op.op)
			case pending && op.polls > 0:
				out := map[string]any{"name": name, "done": false}
				if md := op.op["metadata"]; md != nil {
					out["metadata"] = md
				}
				ops = append(ops, out)
			}
		}
		// Newest first, as the API lists them.
		for i, j := 0, len(ops)-1; i < j; i, j = i+1, j-1 {
			ops[i], ops[j] = ops[j], ops[i]
		}
		pg, next := page(ops, q)
		return 200, map[string]any{"operations": pg, "nextPageToken": next}
	case "appengine.apps.operations.get":
		return f.pollOp(reAppOp.FindStringSubmatch(path)[1])
	case "datastore.projects.operations.get":
		return f.pollOp(reProjectOp.FindStringSubmatch(path)[1])
	case "datastore.projects.indexes.list":
		p := reIndexes.FindStringSubmatch(path)[1]
		ixs := f.indexes[p]
		var list []any
		for _, id := range sortedKeys(ixs) {
			ix := ixs[id]
			list = append(list, copyMap(ix))
			// Builds and deletions progress between two lists.
			switch ix["state"] {
			case "CREATING":
				ix["state"] = "READY"
			case "DELETING":
				delete(ixs, id)
			}
		}
		pg, next := page(list, q)
		return 200, map[string]any{"indexes": pg, "nextPageToken": next}
	case "datastore.projects.indexes.create":
		p := reIndexes.FindStringSubmatch(path)[1]
		props, _ := in["properties"].([]any)
		if in["kind"] == nil || in["ancestor"] == nil || in["ancestor"] == "ANCESTOR_MODE_UNSPECIFIED" {
			return apiErr(400, "INVALID_ARGUMENT", "kind and ancestor are required")
		}
		if len(props) < 2 && in["ancestor"] == "NONE" {
			return apiErr(400, "INVALID_ARGUMENT", "single-property indexes are built in")
		}
		if f.indexes[p] == nil {
			f.indexes[p] = map[string]map[string]any{}
		}
		key, _ := json.Marshal([]any{in["kind"], in["ancestor"], in["properties"]})
		for _, ix := range f.indexes[p] {
			k, _ := json.Marshal([]any{ix["kind"], ix["ancestor"], ix["properties"]})
			if string(k) == string(key) && ix["state"] != "DELETING" {
				return apiErr(409, "ALREADY_EXISTS", "index already exists")
			}
		}
		f.nextID++
		id := fmt.Sprintf("CICAgI%04d", f.nextID)
		ix := copyMap(in)
		ix["projectId"], ix["indexId"], ix["state"] = p, id, "CREATING"
		f.indexes[p][id] = ix
		meta := map[string]any{"@type": "type.googleapis.com/google.datastore.admin.v1.IndexOperationMetadata",
			"indexId": id, "common": map[string]any{"operationType": "CREATE_INDEX", "state": "PROCESSING"}}
		return 200, f.newOp("projects/"+p, meta, ix, nil)
	case "datastore.projects.indexes.delete":
		m := reIndex.FindStringSubmatch(path)
		ix := f.indexes[m[1]][m[2]]
		if ix == nil {
			return apiErr(404, "NOT_FOUND", "index not found")
		}
		ix["state"] = "DELETING"
		meta := map[string]any{"@type": "type.googleapis.com/google.datastore.admin.v1.IndexOperationMetadata",
			"indexId": m[2], "common": map[string]any{"operationType": "DELETE_INDEX", "state": "PROCESSING"}}
		return 200, f.newOp("projects/"+m[1], meta, nil, nil)
	case "logging.entries.list":
		return f.listEntries(in)
	}
	return apiErr(501, "UNIMPLEMENTED", method+" is not faked")
}

func (f *fakeCloud) pollOp(name string) (int, any) {
	op := f.ops[name]
	if op == nil {
		return apiErr(404, "NOT_FOUND", "no operation "+name)
	}
	if op.polls > 0 {
		op.polls--
		out := map[string]any{"name": name, "done": false}
		if md := op.op["metadata"]; md != nil {
			out["metadata"] = md
		}
		return 200, out
	}
	return 200, op.op
}

func (f *fakeCloud) serviceJSON(project, id string, s *fakeService) map[string]any {
	alloc := map[string]any{}
	for v, x := range s.split {
		alloc[v] = x
	}
	by := s.shardBy
	if by == "" {
		by = "IP"
	}
	return map[string]any{"id": id, "name": "apps/" + project + "/services/" + id,
		"split": map[string]any{"allocations": alloc, "shardBy": by}}
}

// createVersion checks the manifest against the bucket, as the real API
// does when it fetches the files, and stores the version.
func (f *fakeCloud) createVersion(project, service string, in map[string]any) (int, any) {
	a := f.app(project)
	id, _ := in["id"].(string)
	if id == "" {
		return apiErr(400, "INVALID_ARGUMENT", "version id required")
	}
	dep, _ := in["deployment"].(map[string]any)
	files, _ := dep["files"].(map[string]any)
	objs, _, err := f.gcs.ListObjectsWithOptions(a.bucket, fakestorage.ListOptions{})
	if err != nil {
		return apiErr(500, "INTERNAL", err.Error())
	}
	sizes := make(map[string]int64, len(objs))
	for _, o := range objs {
		sizes[o.Name] = o.Size
	}
	var disk int64
	for path, fi := range files {
		m, _ := fi.(map[string]any)
		src, _ := m["sourceUrl"].(string)
		sm := reSourceURL.FindStringSubmatch(src)
		if sm == nil || sm[1] != a.bucket || m["sha1Sum"] != sm[2] {
			return apiErr(400, "INVALID_ARGUMENT", fmt.Sprintf("file %s: bad sourceUrl %q or sha1Sum", path, src))
		}
		size, ok := sizes[sm[2]]
		if !ok {
			return 200, f.newOp("apps/"+project, nil, nil, map[string]any{"code": 9, "message": "file " + path + " is missing from the staging bucket"})
		}
		disk += size
	}
	s := a.services[service]
	if s == nil {
		// The first version of a service receives its traffic.
		s = &fakeService{split: map[string]float64{id: 1}, versions: map[string]map[string]any{}}
		a.services[service] = s
	}
	v := copyMap(in)
	v["name"] = "apps/" + project + "/services/" + service + "/versions/" + id
	v["servingStatus"] = "SERVING"
	v["createTime"] = time.Now().UTC().Format(time.RFC3339Nano)
	v["createdBy"] = "deployer@example.com"
	v["diskUsageBytes"] = strconv.FormatInt(disk, 10)
	// versionUrl as the Admin API forms it: the default service's name is
	// left out of the host name.
	host := project + ".uc.r.appspot.com"
	if service != "default" {
		host = service + "-dot-" + host
	}
	s.versions[id] = v
	meta := map[string]any{"@type": "type.googleapis.com/google.appengine.v1.OperationMetadataV1", "method": "google.appengine.v1.Versions.CreateVersion"}
	// The stored version stays what was sent (the golden tests read it);
	// the answer adds what the server fills in.
	created := view(v, "")
	created["versionUrl"] = "https://" + id + "-dot-" + host
	return 200, f.newOp("apps/"+project, meta, created, nil)
}

// view drops the fields the BASIC view leaves out.
func view(v map[string]any, view string) map[string]any {
	out := copyMap(v)
	if view != "FULL" {
		delete(out, "deployment")
		delete(out, "handlers")
		delete(out, "libraries")
	}
	return out
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// listEntries evaluates the filter our client emits (a conjunction of
// comparisons, with OR groups) over the project's entries.
func (f *fakeCloud) listEntries(in map[string]any) (int, any) {
	names, _ := in["resourceNames"].([]any)
	if len(names) != 1 {
		return apiErr(400, "INVALID_ARGUMENT", "want one resource name")
	}
	project := strings.TrimPrefix(names[0].(string), "projects/")
	filter, _ := in["filter"].(string)
	expr, err := parseFilter(filter)
	if err != nil {
		return apiErr(400, "INVALID_ARGUMENT", "bad filter: "+err.Error())
	}
	var match []map[string]any
	for _, e := range f.logs[project] {
		if expr.eval(e) {
			match = append(match, e)
		}
	}
	desc := in["orderBy"] == "timestamp desc"
	sort.SliceStable(match, func(i, j int) bool {
		a, b := match[i], match[j]
		ta, _ := time.Parse(time.RFC3339Nano, a["timestamp"].(string))
		tb, _ := time.Parse(time.RFC3339Nano, b["timestamp"].(string))
		if !ta.Equal(tb) {
			return ta.Before(tb) != desc
		}
		return (a["insertId"].(string) < b["insertId"].(string)) != desc
	})
	q := url.Values{}
	if tok, _ := in["pageToken"].(string); tok != "" {
		if tok == "empty" {
			tok = ""
		}
		q.Set("pageToken", tok)
	} else if f.emptyPage {
		// The search ran out of time before finding anything.
		return 200, map[string]any{"nextPageToken": "empty"}
	}
	if n, ok := in["pageSize"].(float64); ok {
		q.Set("pageSize", strconv.Itoa(int(n)))
	}
	pg, next := page(match, q)
	return 200, map[string]any{"entries": pg, "nextPageToken": next}
}

// A tiny Logging query evaluator: AND of terms, a term being a comparison
// or a parenthesised OR of AND-groups.
type filterExpr struct {
	and []filterExpr // all must hold
	or  []filterExpr // one must hold
	cmp *[3]string   // field, op, value
}

func (x filterExpr) eval(e map[string]any) bool {
	switch {
	case x.cmp != nil:
		return compare(lookup(e, x.cmp[0]), x.cmp[1], x.cmp[2], x.cmp[0])
	case x.or != nil:
		for _, s := range x.or {
			if s.eval(e) {
				return true
			}
		}
		return false
	}
	for _, s := range x.and {
		if !s.eval(e) {
			return false
		}
	}
	return true
}

func lookup(e map[string]any, field string) string {
	var cur any = e
	for _, p := range strings.Split(field, ".") {
		m, _ := cur.(map[string]any)
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

func compare(got, op, want, field string) bool {
	c := strings.Compare(got, want)
	if field == "timestamp" {
		g, _ := time.Parse(time.RFC3339Nano, got)
		w, _ := time.Parse(time.RFC3339Nano, want)
		c = g.Compare(w)
	}
	switch op {
	case "=":
		return c == 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	}
	return false
}

var termRE = regexp.MustCompile(`^([a-zA-Z_.]+)(>=|<=|=|>|<)"((?:[^"\\]|\\.)*)"`)

func parseFilter(s string) (filterExpr, error) {
	x, rest, err := parseAnd(strings.TrimSpace(s))
	if err != nil {
		return x, err
	}
	if strings.TrimSpace(rest) != "" {
		return x, fmt.Errorf("trailing %q", rest)
	}
	return x, nil
}

func parseAnd(s string) (filterExpr, string, error) {
	var x filterExpr
	for {
		t, rest, err := parseOr(s)
		if err != nil {
			return x, rest, err
		}
		x.and = append(x.and, t)
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, "AND ") {
			return x, rest, nil
		}
		s = strings.TrimSpace(rest[4:])
	}
}

func parseOr(s string) (filterExpr, string, error) {
	var alts []filterExpr
	for {
		t, rest, err := parsePrimary(s)
		if err != nil {
			return t, rest, err
		}
		alts = append(alts, t)
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, "OR ") {
			if len(alts) == 1 {
				return alts[0], rest, nil
			}
			return filterExpr{or: alts}, rest, nil
		}
		s = strings.TrimSpace(rest[3:])
	}
}

func parsePrimary(s string) (filterExpr, string, error) {
	if strings.HasPrefix(s, "(") {
		x, rest, err := parseAnd(strings.TrimSpace(s[1:]))
		if err != nil {
			return x, rest, err
		}
		if !strings.HasPrefix(rest, ")") {
			return x, rest, fmt.Errorf("missing ) at %q", rest)
		}
		return x, rest[1:], nil
	}
	m := termRE.FindStringSubmatch(s)
	if m == nil {
		return filterExpr{}, s, fmt.Errorf("cannot parse %q", s)
	}
	val, err := strconv.Unquote(`"` + m[3] + `"`)
	if err != nil {
		return filterExpr{}, s, err
	}
	return filterExpr{cmp: &[3]string{m[1], m[2], val}}, s[len(m[0]):], nil
}
