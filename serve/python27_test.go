package serve_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/serve"
	"github.com/appcfg/appcfg/serve/instance"
)

const py27YAML = `runtime: python27
api_version: 1
threadsafe: true
handlers:
- url: /static
  static_dir: static
- url: /.*
  script: main.app
`

const py27Main = `import logging
from google.appengine.api import memcache


def app(environ, start_response):
    if environ['PATH_INFO'] == '/cache':
        memcache.get('greeting')
    logging.warning('python27 serving %s', environ['PATH_INFO'])
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return ['hello from python27, country ' + environ.get('HTTP_X_APPENGINE_COUNTRY', '?')]
`

func py27Fixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	deploy(t, f.store, "default", "p27", py27YAML, map[string]string{"main.py": py27Main, "static/a.txt": "A"})
	if err := f.store.SetTraffic(t.Context(), "shop", "default", map[string]float64{"p27": 1}, false); err != nil {
		t.Fatal(err)
	}
	f.srv = f.server(t, serve.Config{Files: f.store, Instances: &instance.Config{CacheDir: t.TempDir(), StartTimeout: 30 * time.Second}})
	return f
}

// hasPython27 reports whether a Python 2.7 is where the instance manager
// looks (pyenv's versions, PATH).
func hasPython27() bool {
	cands, _ := filepath.Glob(filepath.Join(os.Getenv("HOME"), ".pyenv", "versions", "2.7*", "bin", "python2.7"))
	if p, err := exec.LookPath("python2.7"); err == nil {
		cands = append(cands, p)
	}
	for _, c := range cands {
		if exec.Command(c, "-c", "import sys; sys.exit(sys.version_info[:2] != (2, 7))").Run() == nil {
			return true
		}
	}
	return false
}

// A python27 version runs its WSGI app under a local Python 2.7; a call
// into a bundled service answers 502 naming it.
func TestPython27RunsWSGIApp(t *testing.T) {
	if !hasPython27() {
		t.Skip("no Python 2.7 in ~/.pyenv/versions or on PATH: the python27 runner needs one")
	}
	f := py27Fixture(t)
	f.errorsExpected = true
	if r := f.do(t, http.MethodGet, "http://localhost/hello"); r.status != 200 || r.body != "hello from python27, country ZZ" {
		t.Errorf("/hello: %d %q, want the app's answer", r.status, r.body)
	}
	if r := f.do(t, http.MethodGet, "http://localhost/static/a.txt"); r.body != "A" {
		t.Errorf("static: %d %q", r.status, r.body)
	}
	r := f.do(t, http.MethodGet, "http://localhost/cache")
	if r.status != http.StatusBadGateway || !strings.Contains(r.body, "bundled service memcache") {
		t.Errorf("/cache: %d %q, want 502 naming memcache", r.status, r.body)
	}
}

// Without Python 2.7 a python27 script answers 502 saying so.
func TestPython27WithoutInterpreter(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("HOME", empty)
	t.Setenv("PATH", empty)
	t.Setenv("PYENV_ROOT", "")
	f := py27Fixture(t)
	f.errorsExpected = true
	r := f.do(t, http.MethodGet, "http://localhost/hello")
	if r.status != http.StatusBadGateway || !strings.Contains(r.body, "needs a local Python 2.7") {
		t.Errorf("/hello without Python 2.7: %d %q", r.status, r.body)
	}
}
