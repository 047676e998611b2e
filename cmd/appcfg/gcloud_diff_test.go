package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// gcloudDir holds the apps deployed side by side with gcloud and what gcloud
// sent for each (recorded by record.sh there).
const gcloudDir = "../../backend/appengine/testdata/gcloud"

// gcloudRecording is one recorded/CASE.json.
type gcloudRecording struct {
	Gcloud   string         `json:"gcloud"`
	Deployed string         `json:"deployed"` // the app.yaml, relative to the case
	Exit     int            `json:"exit"`
	Service  string         `json:"service"`
	Body     map[string]any `json:"body"`
	Uploaded []string       `json:"uploaded"`
	Error    string         `json:"error"`
}

// intendedDifferences are the cases where appcfg deliberately does not do
// what gcloud does (docs/appengine.md, "Differences from gcloud"), each
// with the check that appcfg does what it should instead.
var intendedDifferences = map[string]func(t *testing.T, code int, output string, fake *deployFake){
	// The flexible environment: gcloud builds an image with Cloud Build
	// and names it in versions.create; appcfg refuses before any upload.
	"flex": func(t *testing.T, code int, output string, fake *deployFake) {
		if code == 0 || !strings.Contains(output, "gcloud app deploy") || !strings.Contains(output, "flexible environment") {
			t.Errorf("exit %d, output:\n%s\nwant a refusal naming `gcloud app deploy`", code, output)
		}
		if len(fake.uploaded) != 0 || fake.body != nil {
			t.Errorf("the refused flexible deploy uploaded %d objects (versions.create sent: %v)", len(fake.uploaded), fake.body != nil)
		}
	},
}

// differenceOf names the intended difference a case falls under, or "".
func differenceOf(appYAML []byte) string {
	if regexp.MustCompile(`(?m)^env:\s*(flex|flexible)\s*$`).Match(appYAML) {
		return "flex"
	}
	return ""
}

// TestDeployBodiesEqualGcloud deploys each app of testdata/gcloud with
// `appcfg update --backend appengine://p` against a recording fake of the
// Admin API and Cloud Storage, and requires the versions.create body and
// the set of uploaded objects to equal what gcloud sent for the same app.
// The recordings make it run without gcloud.
func TestDeployBodiesEqualGcloud(t *testing.T) {
	recs, err := filepath.Glob(filepath.Join(gcloudDir, "recorded", "*.json"))
	if err != nil || len(recs) == 0 {
		t.Fatalf("no recordings in %s/recorded (%v): run record.sh there", gcloudDir, err)
	}
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "cache"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	for _, k := range []string{"GOOGLE_APPLICATION_CREDENTIALS", "APPCFG_OAUTH2_ACCESS_TOKEN", "APPCFG_OAUTH2_REFRESH_TOKEN", "APPCFG_BACKEND", "APPCFG_APPLICATION", "APPCFG_MODULE", "APPCFG_VERSION"} {
		t.Setenv(k, "")
	}
	var mu sync.Mutex // guards the counts, which the parallel cases add to
	var equal, compared, intended int
	var gcloudRefused []string
	count := func(n *int) {
		mu.Lock()
		*n++
		mu.Unlock()
	}
	// The cases run eight at a time, each appcfg in a process of its own:
	// a deploy mostly sleeps in the client's operation polling (the fake
	// finishes an operation on its second poll), so they are not bounded
	// by -parallel, which is the number of CPUs. Each has its own copy of
	// its app and its own fake.
	exe := appcfgExe(t)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, path := range recs {
		name := strings.TrimSuffix(filepath.Base(path), ".json")
		var rec gcloudRecording
		data, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(data, &rec)
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		appYAML, err := os.ReadFile(filepath.Join(gcloudDir, "apps", name, rec.Deployed))
		if err != nil {
			t.Fatal(err)
		}
		diff := differenceOf(appYAML)
		if rec.Body == nil && diff == "" {
			// gcloud itself refused the app: nothing to compare.
			gcloudRefused = append(gcloudRefused, name)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			t.Run(name, func(t *testing.T) {
				work := filepath.Join(t.TempDir(), name)
				if err := copyTree(filepath.Join(gcloudDir, "apps", name), work); err != nil {
					t.Fatal(err)
				}
				fake := newDeployFake(t)
				loc := "appengine://p?" + url.Values{"appengine": {fake.URL + "/"}, "storage": {fake.URL + "/"}, "logging": {fake.URL + "/"}, "datastore": {fake.URL + "/"}}.Encode()
				code, out := runAppcfgExe(t, exe, "update", "--backend", loc, "-A", "p", "-V", "v2", "--allow_deprecated_runtime",
					filepath.Join(work, filepath.Dir(rec.Deployed)))
				if diff != "" {
					count(&intended)
					intendedDifferences[diff](t, code, out, fake)
					return
				}
				count(&compared)
				if code != 0 {
					t.Fatalf("appcfg update exited %d:\n%s", code, out)
				}
				// A companion App Engine does not take (gcloud leaves it
				// alone unless named): a warning naming its replacement, and
				// the version is live (exit 0).
				if _, err := os.Stat(filepath.Join(work, filepath.Dir(rec.Deployed), "dos.yaml")); err == nil {
					if !regexp.MustCompile(`dos.yaml is not deployed: .*firewall`).MatchString(out) {
						t.Errorf("no warning naming dos.yaml's replacement:\n%s", out)
					}
				}
				problems := diffJSON("", normaliseBody(rec.Body), normaliseBody(fake.body))
				sort.Strings(fake.uploaded)
				if !reflect.DeepEqual(fake.uploaded, rec.Uploaded) {
					problems = append(problems, fmt.Sprintf("uploaded objects %v, gcloud uploaded %v", fake.uploaded, rec.Uploaded))
				}
				if fake.service != rec.Service {
					problems = append(problems, fmt.Sprintf("created the version in service %q, gcloud in %q", fake.service, rec.Service))
				}
				if len(problems) > 0 {
					t.Errorf("differs from gcloud %s:\n  %s", rec.Gcloud, strings.Join(problems, "\n  "))
					return
				}
				count(&equal)
			})
		}()
	}
	wg.Wait()
	t.Logf("deploy bodies equal to gcloud: %d/%d", equal, compared)
	fmt.Printf("deploy bodies equal to gcloud: %d/%d (and %d intended differences asserted; gcloud refused %d: %s)\n",
		equal, compared, intended, len(gcloudRefused), strings.Join(gcloudRefused, " "))
}

// runAppcfgExe runs exe (see appcfgExe) with args, the test's environment
// and no standard input, bounded to two minutes, and returns its exit
// status and its output and errors together.
func runAppcfgExe(t *testing.T, exe string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		t.Fatalf("running %s: %v", exe, err)
	}
	return 0, string(out)
}

// normaliseBody drops the bucket from each sourceUrl, the one part of the
// body that depends on the fake rather than on the tool.
func normaliseBody(b map[string]any) map[string]any {
	dep, _ := b["deployment"].(map[string]any)
	files, _ := dep["files"].(map[string]any)
	for _, f := range files {
		if fi, ok := f.(map[string]any); ok {
			if u, ok := fi["sourceUrl"].(string); ok {
				fi["sourceUrl"] = u[strings.LastIndexByte(u, '/')+1:]
			}
		}
	}
	return b
}

// diffJSON lists where got differs from want (both decoded JSON).
func diffJSON(at string, want, got any) []string {
	wm, wok := want.(map[string]any)
	gm, gok := got.(map[string]any)
	if wok && gok {
		var out []string
		keys := map[string]bool{}
		for k := range wm {
			keys[k] = true
		}
		for k := range gm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			w, inW := wm[k]
			g, inG := gm[k]
			switch {
			case !inG:
				out = append(out, fmt.Sprintf("%s.%s: missing, gcloud sent %s", at, k, jsonText(w)))
			case !inW:
				out = append(out, fmt.Sprintf("%s.%s: sent %s, gcloud did not send it", at, k, jsonText(g)))
			default:
				out = append(out, diffJSON(at+"."+k, w, g)...)
			}
		}
		return out
	}
	wl, wok := want.([]any)
	gl, gok := got.([]any)
	if wok && gok && len(wl) == len(gl) {
		var out []string
		for i := range wl {
			out = append(out, diffJSON(fmt.Sprintf("%s[%d]", at, i), wl[i], gl[i])...)
		}
		return out
	}
	if !reflect.DeepEqual(want, got) {
		return []string{fmt.Sprintf("%s: sent %s, gcloud sent %s", at, jsonText(got), jsonText(want))}
	}
	return nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// deployFake answers a deploy as the recording fake of record.sh
// (golden/capture.py) does: an application with bucket
// staging.p.appspot.com holding only the empty object, operations done on
// their second poll; it keeps the versions.create body and the names of the
// uploaded objects.
type deployFake struct {
	*httptest.Server
	mu       sync.Mutex
	body     map[string]any
	service  string
	uploaded []string
	polls    map[string]int
}

const (
	fakeBucket  = "staging.p.appspot.com"
	emptySHA1   = "da39a3ee5e6b4b0d3255bfef95601890afd80709"
	emptyObject = `{"name":"` + emptySHA1 + `","size":"0","timeCreated":"2026-11-26T00:00:00.000Z"}`
)

var (
	reVersions = regexp.MustCompile(`^/v1/apps/p/services/([\w-]+)/versions$`)
	reVersion  = regexp.MustCompile(`^/v1/apps/p/services/([\w-]+)/versions/([\w-]+)$`)
	reService  = regexp.MustCompile(`^/v1/apps/p/services/([\w-]+)$`)
	reOp       = regexp.MustCompile(`^/v1/apps/p/operations/(\w+)$`)
)

func newDeployFake(t *testing.T) *deployFake {
	f := &deployFake{polls: map[string]int{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *deployFake) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p := r.URL.Path
	reply := func(code int, v string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		io.WriteString(w, v)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	newOp := func() {
		op := fmt.Sprintf("op%d", len(f.polls)+1)
		f.polls[op] = 0
		reply(200, `{"name":"apps/p/operations/`+op+`","done":false}`)
	}
	switch {
	case p == "/v1/apps/p":
		reply(200, `{"id":"p","name":"apps/p","codeBucket":"`+fakeBucket+`","servingStatus":"SERVING","locationId":"us-central"}`)
	case p == "/v1/apps/p/services" && r.Method == "GET":
		reply(200, `{"services":[{"id":"default","name":"apps/p/services/default","split":{"allocations":{"old":1.0}}}]}`)
	case p == "/storage/v1/b/"+fakeBucket:
		reply(200, `{"name":"`+fakeBucket+`"}`)
	case p == "/storage/v1/b/"+fakeBucket+"/o":
		// The one object, when the listing's name range (what appcfg
		// sends: startOffset inclusive, endOffset exclusive) holds it, as
		// Cloud Storage answers; a range that misses it leaves appcfg to
		// find it by name (below) or to upload the empty file gcloud did
		// not (syn-basic's requirements.txt).
		items := ""
		if q := r.URL.Query(); emptySHA1 >= q.Get("startOffset") && (q.Get("endOffset") == "" || emptySHA1 < q.Get("endOffset")) {
			items = emptyObject
		}
		reply(200, `{"items":[`+items+`]}`)
	case strings.HasPrefix(p, "/storage/v1/b/"+fakeBucket+"/o/"):
		if strings.TrimPrefix(p, "/storage/v1/b/"+fakeBucket+"/o/") == emptySHA1 {
			reply(200, emptyObject)
		} else {
			reply(404, `{"error":{"code":404,"message":"No such object"}}`)
		}
	case strings.HasPrefix(p, "/upload/storage/v1/b/"+fakeBucket+"/o") && r.Method == "POST":
		name := r.URL.Query().Get("name")
		f.uploaded = append(f.uploaded, name)
		reply(200, fmt.Sprintf(`{"name":%q,"bucket":%q,"size":"%d"}`, name, fakeBucket, mediaSize(r.Header.Get("Content-Type"), body)))
	case reVersions.MatchString(p) && r.Method == "POST":
		f.service = reVersions.FindStringSubmatch(p)[1]
		f.body = map[string]any{}
		json.Unmarshal(body, &f.body)
		newOp()
	case r.Method == "POST" || r.Method == "PATCH" || r.Method == "DELETE":
		newOp()
	case reOp.MatchString(p):
		op := reOp.FindStringSubmatch(p)[1]
		f.polls[op]++
		reply(200, fmt.Sprintf(`{"name":"apps/p/operations/%s","done":%v,"response":{"id":"v2"}}`, op, f.polls[op] >= 2))
	case reVersions.MatchString(p):
		s := reVersions.FindStringSubmatch(p)[1]
		reply(200, fmt.Sprintf(`{"versions":[{"id":"old","name":"apps/p/services/%[1]s/versions/old","servingStatus":"SERVING","env":"standard"},`+
			`{"id":"v2","name":"apps/p/services/%[1]s/versions/v2","servingStatus":"SERVING","env":"standard"}]}`, s))
	case reVersion.MatchString(p):
		m := reVersion.FindStringSubmatch(p)
		reply(200, fmt.Sprintf(`{"id":%q,"name":"apps/p/services/%s/versions/%s","servingStatus":"SERVING","env":"standard"}`, m[2], m[1], m[2]))
	case reService.MatchString(p):
		s := reService.FindStringSubmatch(p)[1]
		reply(200, fmt.Sprintf(`{"id":%q,"name":"apps/p/services/%s","split":{"allocations":{"old":1.0}}}`, s, s))
	default:
		reply(404, `{"error":{"code":404,"message":"not faked: `+p+`"}}`)
	}
}

// mediaSize is the size of the content an upload carries: the media part
// of a multipart upload (gcloud's), the whole body of a media one (appcfg's).
func mediaSize(contentType string, body []byte) int {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		return len(body)
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	size := 0
	for i := 0; ; i++ {
		part, err := mr.NextPart()
		if err != nil {
			return size
		}
		n, _ := io.Copy(io.Discard, part)
		if i == 1 {
			size = int(n)
		}
	}
}
