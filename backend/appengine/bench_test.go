package appengine

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkDeployVsGcloud deploys one 2,000-file python312 app to the
// in-process fakes twice (first deploy, then unchanged redeploy) with the
// appcfg binary through this backend, and the same with the installed
// gcloud through api_endpoint_overrides (google-apis.md §8), and reports the
// times and the ratios. One run: bench/appengine_deploy.sh.
func BenchmarkDeployVsGcloud(b *testing.B) {
	gcloud, err := exec.LookPath("gcloud")
	if err != nil {
		b.Skip("gcloud is not installed; nothing to compare with")
	}
	work := b.TempDir()
	// One fake-gcs-server serves both tools, so its storage is the same
	// for both by construction. APPCFG_BENCH_GCS picks it:
	//   tmpfs (default): its file backend on /dev/shm. Each insert is a
	//     few syscalls under the fake's global lock (~0.5 ms).
	//   disk: the same files under the temp dir; each insert fsyncs
	//     under that lock (~4 ms here), so the fake serialises every
	//     upload of both tools, which real Cloud Storage does not.
	//   memory: its memory backend, whose insert scans the bucket with a
	//     Sprintf per object (quadratic: ~3 ms an insert at 2,000).
	mode := cmp.Or(os.Getenv("APPCFG_BENCH_GCS"), "tmpfs")
	root := ""
	switch mode {
	case "memory":
	case "disk":
		root = filepath.Join(work, "gcs")
	case "tmpfs":
		shm, err := os.MkdirTemp("/dev/shm", "appcfg-bench-gcs-")
		if err != nil {
			b.Skipf("APPCFG_BENCH_GCS=tmpfs needs /dev/shm (%v): use disk or memory", err)
		}
		b.Cleanup(func() { os.RemoveAll(shm) })
		root = shm
	default:
		b.Fatalf("APPCFG_BENCH_GCS=%q: use tmpfs, disk or memory", mode)
	}
	f := newFakeCloudOn(b, root)
	f.opPolls = 0 // operations done at once, for both tools
	appcfg := filepath.Join(work, "appcfg")
	if out, err := exec.Command("go", "build", "-o", appcfg, "../../cmd/appcfg").CombinedOutput(); err != nil {
		b.Fatalf("building appcfg: %v\n%s", err, out)
	}
	ours, theirs := filepath.Join(work, "ours"), filepath.Join(work, "gcloud")
	for _, dir := range []string{ours, theirs} {
		writeBenchApp(b, dir, 2000)
	}
	env := append(os.Environ(), "HOME="+work, "XDG_CONFIG_HOME="+filepath.Join(work, "config"),
		"XDG_CACHE_HOME="+filepath.Join(work, "cache"), "XDG_DATA_HOME="+filepath.Join(work, "data"))
	loc := fmt.Sprintf("appengine://p?appengine=%s/&storage=%s/&logging=%s/&datastore=%s/", f.admin.URL, f.storage.URL, f.admin.URL, f.admin.URL)
	run := func(name string, cmd *exec.Cmd) time.Duration {
		cmd.Env = env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		d := time.Since(start)
		if err != nil {
			b.Fatalf("%s: %v\n%s", name, err, out)
		}
		return d
	}
	appcfgDeploy := func(version string) time.Duration {
		return run("appcfg update "+version, exec.Command(appcfg, "update", ours, "-A", "p", "-V", version, "--quiet", "--backend", loc))
	}
	cfg := filepath.Join(work, "gcloud-config")
	env = append(env, "CLOUDSDK_CONFIG="+cfg)
	// Another project, so another bucket: gcloud must upload everything too.
	for _, kv := range [][2]string{{"core/project", "q"}, {"auth/disable_credentials", "true"}, {"core/check_gce_metadata", "false"},
		{"component_manager/disable_update_check", "true"}, {"core/disable_usage_reporting", "true"},
		{"api_endpoint_overrides/appengine", f.admin.URL + "/"}, {"api_endpoint_overrides/storage", f.storage.URL + "/storage/v1/"}} {
		run("gcloud config set", exec.Command(gcloud, "config", "set", kv[0], kv[1]))
	}
	gcloudDeploy := func(version string) time.Duration {
		cmd := exec.Command(gcloud, "app", "deploy", "app.yaml", "--version", version, "--quiet")
		cmd.Dir = theirs
		return run("gcloud app deploy "+version, cmd)
	}
	// rclone copying the same files into a bucket of the same fake is the
	// transfer floor: no hashing, no manifest, no version.
	rclone, _ := exec.LookPath("rclone")
	rcloneCopy := func() time.Duration {
		if rclone == "" {
			return 0
		}
		remote := ":gcs:rclone-bench/app"
		flags := []string{"--gcs-endpoint", f.storage.URL + "/storage/v1/", "--gcs-anonymous", "--config", "/dev/null", "-q"}
		run("rclone mkdir", exec.Command(rclone, append([]string{"mkdir", ":gcs:rclone-bench", "--gcs-project-number", "1"}, flags...)...))
		return run("rclone copy", exec.Command(rclone, append([]string{"copy", ours, remote}, flags...)...))
	}
	b.ResetTimer()
	ourFirst, ourAgain := appcfgDeploy("v1"), appcfgDeploy("v2")
	theirFirst, theirAgain := gcloudDeploy("g1"), gcloudDeploy("g2")
	floor := rcloneCopy()
	b.StopTimer()
	if floor > 0 {
		b.ReportMetric(floor.Seconds(), "rclone-first-s")
		b.ReportMetric(ourFirst.Seconds()/floor.Seconds(), "first-vs-rclone")
	}
	b.ReportMetric(ourFirst.Seconds(), "appcfg-first-s")
	b.ReportMetric(ourAgain.Seconds(), "appcfg-redeploy-s")
	b.ReportMetric(theirFirst.Seconds(), "gcloud-first-s")
	b.ReportMetric(theirAgain.Seconds(), "gcloud-redeploy-s")
	b.ReportMetric(theirFirst.Seconds()/ourFirst.Seconds(), "first-ratio")
	b.ReportMetric(theirAgain.Seconds()/ourAgain.Seconds(), "redeploy-ratio")
	b.Logf("fake-gcs-server storage %q; 2,000 files: first deploy appcfg %s, gcloud %s (%.1f×); unchanged redeploy appcfg %s, gcloud %s (%.1f×)",
		mode, ourFirst.Round(time.Millisecond), theirFirst.Round(time.Millisecond), theirFirst.Seconds()/ourFirst.Seconds(),
		ourAgain.Round(time.Millisecond), theirAgain.Round(time.Millisecond), theirAgain.Seconds()/ourAgain.Seconds())
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
