//go:build linux

package appengine

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
)

// BenchmarkDeployVsGcloud deploys one python312 app (2,000 files of 1-4 KiB
// by default) to the in-process fakes with the appcfg binary through this
// backend (first deploy, then unchanged redeploy), with the installed gcloud
// through api_endpoint_overrides (google-apis.md §8), with `rclone copy`
// when installed, and with the minimal uploader below, in interleaved
// rounds, and reports the medians and their ratios. Each round has fresh
// fakes, so every first deploy finds an empty bucket. Run it with
// bench/appengine_deploy.sh; the environment it reads:
//
//	APPCFG_BENCH_ROUNDS  rounds (default 1)
//	APPCFG_BENCH_FILES   files in the app (default 2000)
//	APPCFG_BENCH_STEP    the bound of one step, a Go duration (default 3m)
//	APPCFG_BENCH_BIN     the appcfg binary (default: built from this tree)
//	APPCFG_BENCH_GCS     fake-gcs-server's storage: tmpfs, disk or memory
//	APPCFG_BENCH_GCS_DIR the tmpfs directory to use (default: one made here)
//
// Every step is bounded and run in its own process group, which dies with
// the benchmark (SIGKILL on the parent's death) and is killed when the step
// outlives its bound or SIGINT/SIGTERM arrives, so no gcloud or rclone
// outlives a run.
func BenchmarkDeployVsGcloud(b *testing.B) {
	gcloud, err := exec.LookPath("gcloud")
	if err != nil {
		b.Skip("gcloud is not installed; nothing to compare with")
	}
	rclone, _ := exec.LookPath("rclone")
	rounds := benchEnvInt(b, "APPCFG_BENCH_ROUNDS", 1)
	files := benchEnvInt(b, "APPCFG_BENCH_FILES", 2000)
	step := 3 * time.Minute
	if s := os.Getenv("APPCFG_BENCH_STEP"); s != "" {
		if step, err = time.ParseDuration(s); err != nil || step <= 0 {
			b.Fatalf("APPCFG_BENCH_STEP=%q: want a positive Go duration such as 3m", s)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	work := b.TempDir()
	appcfg := os.Getenv("APPCFG_BENCH_BIN")
	if appcfg == "" {
		appcfg = filepath.Join(work, "appcfg")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", appcfg, "../../cmd/appcfg").CombinedOutput(); err != nil {
			b.Fatalf("building appcfg: %v\n%s", err, out)
		}
	}
	// The same bytes in two directories: gcloud writes a .gcloudignore
	// into its own.
	ours, theirs := filepath.Join(work, "ours"), filepath.Join(work, "gcloud")
	for _, dir := range []string{ours, theirs} {
		writeBenchApp(b, dir, files)
	}
	var paths []string
	if err := filepath.WalkDir(ours, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return err
	}); err != nil {
		b.Fatal(err)
	}

	tools := []string{"appcfg", "gcloud", "floor"}
	if rclone != "" {
		tools = append(tools, "rclone")
	} else {
		b.Log("rclone is not installed (apt-get install rclone): its column is left out")
	}
	res := map[string][]benchResult{}
	b.ResetTimer()
	for r := range rounds {
		root := benchGCSRoot(b, work, r)
		f := newFakeCloudOn(b, root)
		f.opPolls = 0 // operations done at once, for every tool
		// Fresh settings and caches each round: each first deploy is a
		// first (appcfg's stat cache, gcloud's configuration).
		home := filepath.Join(work, fmt.Sprintf("home%d", r))
		env := append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, "config"),
			"XDG_CACHE_HOME="+filepath.Join(home, "cache"), "XDG_DATA_HOME="+filepath.Join(home, "data"),
			"CLOUDSDK_CONFIG="+filepath.Join(home, "gcloud"))
		s := &benchStep{ctx: ctx, f: f, env: env, bound: step}
		must := func(r benchResult, err error) benchResult {
			if err != nil {
				b.Fatal(err)
			}
			return r
		}
		loc := fmt.Sprintf("appengine://p?appengine=%s/&storage=%s/&logging=%s/&datastore=%s/", f.admin.URL, f.storage.URL, f.admin.URL, f.admin.URL)
		// gcloud's properties through its environment variables
		// (CLOUDSDK_SECTION_PROPERTY): another project, so another bucket
		// (it must upload everything too), the fakes' endpoints, and
		// nothing that would leave loopback. One unmeasured call lets it
		// set up its configuration directory.
		gcloudEnv := []string{"CLOUDSDK_CORE_PROJECT=q", "CLOUDSDK_AUTH_DISABLE_CREDENTIALS=true", "CLOUDSDK_CORE_CHECK_GCE_METADATA=false",
			"CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK=true", "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING=true",
			"CLOUDSDK_API_ENDPOINT_OVERRIDES_APPENGINE=" + f.admin.URL + "/", "CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE=" + f.storage.URL + "/storage/v1/"}
		must(s.cmd("gcloud config list", "", gcloudEnv, gcloud, "config", "list"))
		rcloneFlags := []string{"--gcs-endpoint", f.storage.URL + "/storage/v1/", "--gcs-anonymous", "--gcs-project-number", "1", "--config", "/dev/null", "-q"}
		if rclone != "" {
			must(s.cmd("rclone mkdir", "", nil, rclone, append([]string{"mkdir", ":gcs:rclone-bench"}, rcloneFlags...)...))
		}
		// Rotate the order each round, so no tool always goes first
		// (or always after the same one).
		order := append(slices.Clone(tools[r%len(tools):]), tools[:r%len(tools)]...)
		for _, tool := range order {
			switch tool {
			case "appcfg":
				for _, v := range []string{"v1", "v2"} {
					name := map[string]string{"v1": "appcfg-first", "v2": "appcfg-unchanged"}[v]
					res[name] = append(res[name], must(s.cmd(name, "", nil, appcfg, "update", ours, "-A", "p", "-V", v, "--quiet", "--backend", loc)))
				}
			case "gcloud":
				for _, v := range []string{"g1", "g2"} {
					name := map[string]string{"g1": "gcloud-first", "g2": "gcloud-unchanged"}[v]
					res[name] = append(res[name], must(s.cmd(name, theirs, gcloudEnv, gcloud, "app", "deploy", "app.yaml", "--version", v, "--quiet")))
				}
			case "rclone":
				// rclone copying the same files into a bucket of the
				// same fake: no hashing, no manifest, no version.
				res["rclone"] = append(res["rclone"], must(s.cmd("rclone", "", nil, rclone, append([]string{"copy", ours, ":gcs:rclone-bench/app"}, rcloneFlags...)...)))
			case "floor":
				res["floor"] = append(res["floor"], must(s.floor(paths)))
			}
		}
		// Closed again by its cleanup, harmlessly; its storage goes now.
		f.admin.Close()
		f.storage.Close()
		if root != "" {
			os.RemoveAll(root)
		}
		line := fmt.Sprintf("round %d/%d (load %s):", r+1, rounds, loadAvg())
		for _, name := range benchColumns {
			if rs := res[name]; len(rs) > r {
				line += " " + rs[r].String(name)
			}
		}
		b.Log(line)
	}
	b.StopTimer()

	med := func(name string) float64 {
		return median(res[name], func(x benchResult) float64 { return x.wall.Seconds() })
	}
	ratio := func(num, den string) float64 {
		var rs []float64
		for i := range res[num] {
			rs = append(rs, res[num][i].wall.Seconds()/res[den][i].wall.Seconds())
		}
		return median(rs, func(x float64) float64 { return x })
	}
	for _, name := range benchColumns {
		if len(res[name]) > 0 {
			b.ReportMetric(med(name), name+"-s")
		}
	}
	first, again := ratio("gcloud-first", "appcfg-first"), ratio("gcloud-unchanged", "appcfg-unchanged")
	b.ReportMetric(first, "gcloud/appcfg-first")
	b.ReportMetric(again, "gcloud/appcfg-unchanged")
	b.ReportMetric(ratio("appcfg-first", "floor"), "appcfg/floor-first")
	sum := fmt.Sprintf("medians of %d rounds, %d files (load now %s):\n"+
		"  first deploy:       appcfg %6.2fs  gcloud %6.2fs  gcloud/appcfg %5.1fx (goal >= 15x)\n"+
		"  unchanged redeploy: appcfg %6.2fs  gcloud %6.2fs  gcloud/appcfg %5.1fx (goal >= 15x)\n"+
		"  floor (16 plain uploads at a time, in-process) %.2fs: appcfg first / floor %.2fx",
		rounds, files, loadAvg(), med("appcfg-first"), med("gcloud-first"), first,
		med("appcfg-unchanged"), med("gcloud-unchanged"), again, med("floor"), ratio("appcfg-first", "floor"))
	if len(res["rclone"]) > 0 {
		b.ReportMetric(ratio("appcfg-first", "rclone"), "appcfg/rclone-first")
		sum += fmt.Sprintf("\n  rclone copy %.2fs: appcfg first / rclone %.2fx (goal <= 1.3x)", med("rclone"), ratio("appcfg-first", "rclone"))
	}
	b.Log(sum)
}

// benchColumns are the measurements, in the order they are printed.
var benchColumns = []string{"appcfg-first", "appcfg-unchanged", "gcloud-first", "gcloud-unchanged", "rclone", "floor"}

// benchResult is one step: its wall time, the CPU time of its process
// (user+system, with its children), the CPU time the fakes spent meanwhile
// (this process's), and the requests the fakes answered.
type benchResult struct {
	wall, cpu, fakeCPU time.Duration
	requests           int
}

func (r benchResult) String(name string) string {
	if r.cpu > 0 {
		return fmt.Sprintf("%s %.2fs (cpu %.2fs, fakes %.2fs, %d requests);", name, r.wall.Seconds(), r.cpu.Seconds(), r.fakeCPU.Seconds(), r.requests)
	}
	return fmt.Sprintf("%s %.2fs (fakes and uploader %.2fs, %d requests);", name, r.wall.Seconds(), r.fakeCPU.Seconds(), r.requests)
}

// benchStep runs the steps of one round against its fakes.
type benchStep struct {
	ctx   context.Context
	f     *fakeCloud
	env   []string
	bound time.Duration
}

// measure runs fn and returns what it cost; the fakes' request log is
// emptied before, so it counts fn's requests alone.
func (s *benchStep) measure(fn func() time.Duration) benchResult {
	s.f.mu.Lock()
	s.f.calls = nil
	s.f.mu.Unlock()
	before := selfCPU()
	start := time.Now()
	cpu := fn()
	r := benchResult{wall: time.Since(start), cpu: cpu, fakeCPU: selfCPU() - before}
	s.f.mu.Lock()
	r.requests = len(s.f.calls)
	s.f.mu.Unlock()
	return r
}

// cmd runs one command in dir with the round's environment and extra,
// bounded by s.bound, in its own process group.
func (s *benchStep) cmd(name, dir string, extra []string, bin string, args ...string) (benchResult, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.bound)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir, cmd.Env = dir, append(slices.Clone(s.env), extra...)
	// Pdeathsig: killed with this process, even by a panic or SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	var err error
	r := s.measure(func() time.Duration {
		err = cmd.Run()
		if cmd.ProcessState == nil {
			return 0
		}
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	})
	// Whatever the group left behind goes too.
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	switch {
	case s.ctx.Err() != nil:
		return r, fmt.Errorf("%s: interrupted", name)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return r, fmt.Errorf("%s: still running after %s (load %s), killed; a loaded machine needs a longer bound (STEP= of bench/appengine_deploy.sh, APPCFG_BENCH_STEP)\n%s", name, s.bound, loadAvg(), tail(out.Bytes()))
	case err != nil:
		return r, fmt.Errorf("%s: %v\n%s", name, err, tail(out.Bytes()))
	}
	return r, nil
}

// TestBenchStepBound: a step that outlives its bound is stopped with the
// processes it started (a run once outlived its bound by minutes, and a
// killed run left gcloud running), and says which step and why.
func TestBenchStepBound(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	s := &benchStep{ctx: context.Background(), f: newFakeCloud(t), env: os.Environ(), bound: 300 * time.Millisecond}
	start := time.Now()
	_, err := s.cmd("sleeper", "", nil, "sh", "-c", "sleep 60 & echo $! >"+pidFile+"; wait")
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the step took %s, bound 300ms", took)
	}
	if err == nil || !strings.Contains(err.Error(), "sleeper: still running after 300ms") {
		t.Errorf("err = %v, want the step named and its bound", err)
	}
	data, rerr := os.ReadFile(pidFile)
	if rerr != nil {
		t.Fatal(rerr)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	// The orphaned sleep is reaped by init once killed: a few seconds
	// at most.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the step's child %d outlived it", pid)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	s.ctx = ctx
	s.bound = time.Minute
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := s.cmd("interrupted", "", nil, "sleep", "60"); err == nil || !strings.Contains(err.Error(), "interrupted") {
		t.Errorf("err = %v, want interrupted", err)
	}
}

// floor uploads the files into a bucket of the same fake as plainly as the
// JSON API allows: uploadType=media named by SHA-1, 16 at a time (gcloud's
// and appcfg's parallelism) on reused connections, no listing, no retries,
// no manifest. It is the transfer floor of this fake; rclone is not one
// here, as its per-file client cost is many times the fake's.
func (s *benchStep) floor(paths []string) (benchResult, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.bound)
	defer cancel()
	const bucket = "floor-bench"
	s.f.gcs.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: bucket})
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var (
		mu       sync.Mutex
		firstErr error
	)
	r := s.measure(func() time.Duration {
		next := make(chan string)
		var wg sync.WaitGroup
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := range next {
					err := floorUpload(ctx, hc, s.f.storage.URL, bucket, p)
					if err != nil {
						mu.Lock()
						firstErr = cmp.Or(firstErr, err)
						mu.Unlock()
						cancel()
					}
				}
			}()
		}
	feed:
		for _, p := range paths {
			select {
			case next <- p:
			case <-ctx.Done():
				break feed
			}
		}
		close(next)
		wg.Wait()
		return 0
	})
	switch {
	case s.ctx.Err() != nil:
		return r, errors.New("floor: interrupted")
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return r, fmt.Errorf("floor: still running after %s (load %s)", s.bound, loadAvg())
	case firstErr != nil:
		return r, fmt.Errorf("floor: %w", firstErr)
	}
	return r, nil
}

func floorUpload(ctx context.Context, hc *http.Client, base, bucket, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	sum := sha1.Sum(data)
	u := base + "/upload/storage/v1/b/" + bucket + "/o?uploadType=media&name=" + hex.EncodeToString(sum[:])
	req, err := http.NewRequestWithContext(ctx, "POST", u, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("uploading %s: %s", path, resp.Status)
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return err
}

// benchGCSRoot returns fake-gcs-server's storage directory for round r
// ("" for its memory backend), picked by APPCFG_BENCH_GCS:
//
//	tmpfs (default): its file backend on /dev/shm (or APPCFG_BENCH_GCS_DIR).
//	  Each insert is a few syscalls under the fake's global lock (~0.5 ms).
//	disk: the same files under the temp dir; each insert fsyncs under that
//	  lock (~4 ms here), so the fake serialises every upload of every tool,
//	  which real Cloud Storage does not.
//	memory: its memory backend, whose insert scans the bucket with a
//	  Sprintf per object (quadratic: ~3 ms an insert at 2,000).
//
// One fake serves every tool of a round, so the storage is the same for
// all by construction.
func benchGCSRoot(b *testing.B, work string, r int) string {
	switch mode := cmp.Or(os.Getenv("APPCFG_BENCH_GCS"), "tmpfs"); mode {
	case "memory":
		return ""
	case "disk":
		return filepath.Join(work, fmt.Sprintf("gcs%d", r))
	case "tmpfs":
		parent := cmp.Or(os.Getenv("APPCFG_BENCH_GCS_DIR"), "/dev/shm")
		dir, err := os.MkdirTemp(parent, "appcfg-bench-gcs-")
		if err != nil {
			b.Skipf("APPCFG_BENCH_GCS=tmpfs needs %s (%v): use disk or memory", parent, err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	default:
		b.Fatalf("APPCFG_BENCH_GCS=%q: use tmpfs, disk or memory", mode)
		return ""
	}
}

func benchEnvInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive whole number", name, s)
	}
	return n
}

// selfCPU is this process's CPU time so far: the fakes (and the floor's
// uploader) run in it.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAvg is the one-minute load average, to print beside the figures.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(data) + " ?")[0]
}

// tail is the end of a command's output, enough to see why it failed.
func tail(out []byte) []byte {
	if len(out) > 4000 {
		return append([]byte("…"), out[len(out)-4000:]...)
	}
	return out
}

// median of the values f picks from xs.
func median[T any](xs []T, f func(T) float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	vs := make([]float64, len(xs))
	for i, x := range xs {
		vs[i] = f(x)
	}
	slices.Sort(vs)
	if n := len(vs); n%2 == 0 {
		return (vs[n/2-1] + vs[n/2]) / 2
	}
	return vs[len(vs)/2]
}

// writeBenchApp writes a python312 app of n files of 1-4 KiB, the same
// bytes on every call.
func writeBenchApp(b *testing.B, dir string, n int) {
	rng := rand.New(rand.NewPCG(1, 2))
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	must(os.MkdirAll(dir, 0o755))
	must(os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("runtime: python312\nentrypoint: gunicorn -b :$PORT main:app\nhandlers:\n- url: /static\n  static_dir: static\n- url: /.*\n  script: auto\n"), 0o644))
	for i := range n - 1 {
		p := filepath.Join(dir, fmt.Sprintf("pkg%02d", i%40), fmt.Sprintf("mod%04d.py", i))
		if i%4 == 0 {
			p = filepath.Join(dir, "static", fmt.Sprintf("s%02d", i%20), fmt.Sprintf("asset%04d.css", i))
		}
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		var sb strings.Builder
		for sb.Len() < 1024+rng.IntN(3072) {
			fmt.Fprintf(&sb, "# line %d of file %d: %x\n", sb.Len(), i, rng.Uint64())
		}
		must(os.WriteFile(p, []byte(sb.String()), 0o644))
	}
}
