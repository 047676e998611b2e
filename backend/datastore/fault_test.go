//go:build unix

package datastore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/datastore"
	"github.com/appcfg/appcfg/bulkload"
)

// faultProxy stands between the client and the emulator and, chosen by a
// seeded random source, answers 500 or 503 itself, drops the connection
// before forwarding, forwards and then drops the reply (the commit is
// applied but the client never hears of it), or delays the request.
type faultProxy struct {
	target string
	client *http.Client

	mu     sync.Mutex
	rng    *rand.Rand
	faults map[string]int
	n      int

	commits      atomic.Int64 // commits the emulator applied
	maxMutations atomic.Int64 // the largest commit seen
}

func newFaultProxy(t *testing.T, target string, seed uint64) (*faultProxy, string) {
	t.Helper()
	p := &faultProxy{
		target: "http://" + target,
		client: &http.Client{Timeout: 2 * time.Minute},
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		faults: map[string]int{},
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return p, strings.TrimPrefix(srv.URL, "http://")
}

func (p *faultProxy) pick() (string, time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// The first requests get each fault once, so that every kind is
	// exercised whatever the random draws; then chance decides.
	first := []string{"drop-after", "500", "503", "drop-before", "delay"}
	p.n++
	r := p.rng.Float64()
	var f string
	switch {
	case p.n <= len(first):
		f = first[p.n-1]
	case r < 0.07:
		f = "500"
	case r < 0.11:
		f = "503"
	case r < 0.16:
		f = "drop-before"
	case r < 0.22:
		f = "drop-after"
	case r < 0.32:
		f = "delay"
	default:
		f = "pass"
	}
	p.faults[f]++
	return f, time.Duration(20+p.rng.IntN(300)) * time.Millisecond
}

func (p *faultProxy) counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := make(map[string]int, len(p.faults))
	for k, v := range p.faults {
		c[k] = v
	}
	return c
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	isCommit := strings.HasSuffix(r.URL.Path, ":commit")
	if isCommit {
		var c struct{ Mutations []json.RawMessage }
		if json.Unmarshal(body, &c) == nil {
			for {
				old := p.maxMutations.Load()
				if int64(len(c.Mutations)) <= old || p.maxMutations.CompareAndSwap(old, int64(len(c.Mutations))) {
					break
				}
			}
		}
	}
	fault, delay := p.pick()
	switch fault {
	case "500":
		http.Error(w, `{"error":{"code":500,"message":"injected","status":"INTERNAL"}}`, 500)
		return
	case "503":
		http.Error(w, `{"error":{"code":503,"message":"injected","status":"UNAVAILABLE"}}`, 503)
		return
	case "drop-before":
		drop(w)
		return
	case "delay":
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	req, _ := http.NewRequestWithContext(r.Context(), r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	resp, err := p.client.Do(req)
	if err != nil {
		drop(w)
		return
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		drop(w)
		return
	}
	if isCommit && resp.StatusCode == 200 {
		p.commits.Add(1)
	}
	if fault == "drop-after" {
		drop(w)
		return
	}
	w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
	w.WriteHeader(resp.StatusCode)
	w.Write(out)
}

// drop closes the client's connection without an answer.
func drop(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			c.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// The child process of TestFaultyNetworkKilledClientResumes: an
// upload_data run through the proxy, killed by the parent mid-run.
const childEnv = "APPCFG_DATASTORE_FAULT_CHILD"

func faultOptions(dir, app string) bulkload.Options {
	return bulkload.Options{
		App: app, Kind: "Row", Filename: filepath.Join(dir, "rows.csv"),
		BatchSize: 100, NumThreads: 2, DBFilename: filepath.Join(dir, "progress.db"),
		// The signature names a fixed location: the resumed run is the
		// same load even though it reaches the proxy again.
		Backend: "datastore://" + app,
	}
}

func TestFaultChild(t *testing.T) {
	spec := os.Getenv(childEnv)
	if spec == "" {
		t.Skip("the child of TestFaultyNetworkKilledClientResumes; it runs only when that test starts it")
	}
	dir, rest, _ := strings.Cut(spec, "|")
	proxy, app, _ := strings.Cut(rest, "|")
	b := openBackend(t, proxy)
	o := faultOptions(dir, app)
	cfg, err := bulkload.LoadConfig(filepath.Join(dir, "bulkloader.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	o.Config = cfg
	// The parent kills this process; finishing first is a failure there.
	if _, err := bulkload.Upload(context.Background(), b, o); err != nil {
		t.Fatal(err)
	}
}

// TestFaultyNetworkKilledClientResumes uploads 5,000 CSV rows through a
// proxy that fails, drops and delays random requests, kills the uploading
// process (SIGKILL) after some commits, resumes with the same command, and
// then checks that every row is stored exactly once and equal.
func TestFaultyNetworkKilledClientResumes(t *testing.T) {
	t.Parallel() // the emulator is shared; each test has its own project
	host := datastore.StartEmulator(t)
	proxy, proxyAddr := newFaultProxy(t, host, 20261126)
	dir := t.TempDir()
	app := datastore.EmulatorApp("fault-test")
	rows := genRows(5000)
	writeCSV(t, filepath.Join(dir, "rows.csv"), rows)
	cfg := writeConfig(t, dir)

	// Run 1: a child process, killed once the emulator applied 10 commits.
	var out bytes.Buffer
	cmd := exec.Command(os.Args[0], "-test.run=^TestFaultChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+dir+"|"+proxyAddr+"|"+app)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(5 * time.Minute)
wait:
	for proxy.commits.Load() < 10 {
		select {
		case err := <-exited:
			t.Fatalf("the client finished (%v) before it could be killed:\n%s", err, out.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("the client made no progress in 5 minutes:\n%s", out.String())
		case <-time.After(20 * time.Millisecond):
			continue wait
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	killedAt := proxy.commits.Load()
	t.Logf("killed the client after %d commits", killedAt)

	// Run 2: the same command again, in this process, through the same
	// faulty proxy.
	b := openBackend(t, proxyAddr)
	o := faultOptions(dir, app)
	o.Config = cfg
	sum, err := bulkload.Upload(t.Context(), b, o)
	if err != nil {
		t.Fatalf("resumed upload: %v (summary %+v)", err, sum)
	}
	t.Logf("resume: %d rows loaded by the killed run, %d now; faults injected %v; largest commit %d mutations",
		sum.Previously, sum.Loaded, proxy.counts(), proxy.maxMutations.Load())
	if sum.Previously == 0 || sum.Previously+sum.Loaded != len(rows) || sum.Failed != 0 {
		t.Errorf("resume summary %+v: want the killed run's rows skipped and the rest (of %d) loaded", sum, len(rows))
	}
	if m := proxy.maxMutations.Load(); m > backend.MaxEntityBatch {
		t.Errorf("a commit carried %d mutations, more than %d", m, backend.MaxEntityBatch)
	}
	for _, f := range []string{"500", "503", "drop-before", "drop-after", "delay"} {
		if proxy.counts()[f] == 0 {
			t.Errorf("the proxy never injected %s: the test did not exercise it", f)
		}
	}

	// Check directly at the emulator, not through the proxy.
	direct := openBackend(t, host)
	got := datastore.DownloadAll(t, direct, app, "", "Row", 700)
	checkRows(t, got, rows)
}
