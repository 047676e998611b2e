package appengine

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func BenchmarkZZProf(b *testing.B) {
	work := b.TempDir()
	shm, _ := os.MkdirTemp("/dev/shm", "appcfg-bench-gcs-")
	defer os.RemoveAll(shm)
	f := newFakeCloudOn(b, shm)
	f.opPolls = 0
	ours := filepath.Join(work, "ours")
	writeBenchApp(b, ours, 2000)
	loc := fmt.Sprintf("appengine://p?appengine=%s/&storage=%s/&logging=%s/&datastore=%s/", f.admin.URL, f.storage.URL, f.admin.URL, f.admin.URL)
	env := append(os.Environ(), "HOME="+work, "XDG_CONFIG_HOME="+filepath.Join(work, "config"), "XDG_CACHE_HOME="+filepath.Join(work, "cache"), "XDG_DATA_HOME="+filepath.Join(work, "data"))
	for _, v := range []string{"v1", "v2"} {
		cmd := exec.Command(os.Getenv("APPCFG_BIN"), "update", ours, "-A", "p", "-V", v, "--quiet", "--backend", loc)
		cmd.Env = append(env, "ZZ_CPUPROFILE=/tmp/gae/prof/"+v+".prof")
		start := time.Now()
		out, err := cmd.CombinedOutput()
		b.Logf("%s %s cpu %s %v %s", v, time.Since(start), cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime(), err, out)
	}
}
