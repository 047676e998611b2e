package serve_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/serve/instance"
)

// BenchmarkProxy sends a hello-world request to the test app's instance
// through serve (request logs on, to the local store) and, for scale,
// straight to the instance: the proxy's cost per request is the
// difference. bench/serve.sh measures the same with the real binary.
func BenchmarkProxy(b *testing.B) {
	var addr string
	started := regexp.MustCompile(`started on (127\.0\.0\.1:\d+) `)
	f := instanceFixtureWith(b, "", instance.Config{Notify: func(msg string) {
		if m := started.FindStringSubmatch(msg); m != nil {
			addr = m[1]
		}
	}})
	hs := httptest.NewServer(f.srv)
	b.Cleanup(hs.Close)
	c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	b.Cleanup(c.CloseIdleConnections)
	get(b, c, hs.URL+"/") // starts the instance
	if addr == "" {
		b.Fatal("serve named no instance address")
	}
	direct := "http://" + addr + "/"
	b.Run("direct", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			get(b, c, direct)
		}
	})
	b.Run("serve", func(b *testing.B) {
		defer cpuPerOp(b)()
		for b.Loop() {
			get(b, c, hs.URL+"/")
		}
	})
	b.Run("serve-parallel", func(b *testing.B) {
		defer cpuPerOp(b)()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				get(b, c, hs.URL+"/")
			}
		})
	})
}

// Proxying a response borrows its copy buffer from a pool: allocating one
// per request (32 KiB) was most of a request's garbage (51 KB a request in
// BenchmarkProxy, 19 KB with the pool, client included).
func TestProxyCopyBufferIsPooled(t *testing.T) {
	if raceEnabled {
		// The race detector makes sync.Pool drop items at random, so
		// allocations say nothing about pooling there.
		t.Skip("allocation counts are meaningless under -race")
	}
	f := instanceFixture(t, "")
	hs := httptest.NewServer(f.srv)
	t.Cleanup(hs.Close)
	c := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	for range 5 { // the instance started, the connections open
		get(t, c, hs.URL+"/")
	}
	const n = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		get(t, c, hs.URL+"/")
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per >= 32<<10 {
		t.Errorf("a proxied request allocated %d bytes, want under 32 KiB (is the copy buffer pooled?)", per)
	}
}

func get(b testing.TB, c *http.Client, u string) {
	resp, err := c.Get(u)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "hello") {
		b.Fatalf("%s: %d %q", u, resp.StatusCode, body)
	}
}
