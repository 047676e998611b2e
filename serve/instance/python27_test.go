package instance

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/testtree"
)

// python27For finds a Python 2.7 as the manager does (pyenv's versions,
// then PATH), or "".
func python27For(t *testing.T) string {
	t.Helper()
	m := &Manager{cfg: Config{Getenv: os.Getenv}}
	py, err := m.findPython27(t.Context())
	if err != nil {
		return ""
	}
	return py
}

// A python27 version gets, of the SDK's bundled libraries, the version
// app.yaml's libraries: names, else the newest that runs on Python 2.7 (a
// Python 3-only one is passed over); one with no version for 2.7 fails
// its import naming the library and what to install. The bundled
// services' names are placeholders at import time (a model class, a
// decorator), and a call into one while serving answers 502 naming it.
func TestPython27BundledLibrariesAndServices(t *testing.T) {
	py := python27For(t)
	if py == "" {
		t.Skip("no Python 2.7 in pyenv's versions or on PATH: the python27 runner needs one")
	}
	home := t.TempDir()
	lib := filepath.Join(home, "google_appengine", "lib")
	py3only := "def f(*, keyword_only): pass\n"
	testtree.Write(t, lib, map[string]string{
		// Today's gcloud SDK: one unversioned, Python 3-only jinja2 ...
		"jinja2/jinja2/__init__.py": py3only,
		// ... an older SDK's versioned ones.
		"jinja2-2.6/jinja2/__init__.py":            "__version__ = '2.6'\nfrom jinja2.utils import helper\n",
		"jinja2-2.6/jinja2/utils.py":               "def helper(): return 'utils of 2.6'\n",
		"webapp2-2.3/webapp2.py":                   "__version__ = '2.3'\n",
		"webapp2-2.5.2/webapp2.py":                 "__version__ = '2.5.2'\n",
		"webapp2-2.5.2/webapp2_extras/__init__.py": "",
		"webob-1.1.1/webob/__init__.py":            "__version__ = '1.1.1'\n",
		"webob-1.2.3/webob/__init__.py":            "__version__ = '1.2.3'\n",
		"webob/webob/__init__.py":                  py3only,
		"markupsafe/markupsafe/__init__.py":        py3only,
	})
	app := t.TempDir()
	testtree.Write(t, app, map[string]string{
		"main.py": `import jinja2
import webapp2
import webob
from jinja2.utils import helper
from google.appengine.api import memcache, users
from google.appengine.ext import ndb


class Greeting(ndb.Model):
    content = ndb.StringProperty(required=True)


@ndb.transactional
def save(g):
    g.put()


GUESTBOOK = ndb.Key('Guestbook', 'default')


def app(environ, start_response):
    path = environ['PATH_INFO']
    if path == '/ndb':
        Greeting.query(ancestor=GUESTBOOK).fetch(20)
    elif path == '/memcache':
        memcache.get('greeting')
    elif path == '/users':
        users.get_current_user()
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return ['jinja2 %s (%s), webapp2 %s, webob %s' % (jinja2.__version__, helper(), webapp2.__version__, webob.__version__)]
`,
		"markup.py": "import markupsafe\napp = None\n",
	})
	t.Setenv("HOME", home)
	t.Setenv("PATH", filepath.Dir(py)+string(os.PathListSeparator)+os.Getenv("PATH"))
	var mu sync.Mutex
	var orphans []string
	m, err := NewManager(Config{CacheDir: t.TempDir(), StartTimeout: time.Minute, Orphan: func(_ Key, l backend.AppLogLine) {
		mu.Lock()
		defer mu.Unlock()
		orphans = append(orphans, l.Message)
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	inst, err := m.Get(t.Context(), Spec{Project: "p", Key: Key{Service: "default", Version: "v1"}, Runtime: "python27", Dir: app,
		Libraries: map[string]string{"jinja2": "2.6", "webapp2": "2.3", "webob": "1.0"}})
	if err != nil {
		t.Fatal(err)
	}
	get := func(script, path string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+inst.Addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(ScriptHeader, script)
		client := &http.Client{Timeout: 30 * time.Second}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, strings.TrimSpace(string(body))
	}
	// jinja2 and webapp2 as app.yaml asks; webob, whose 1.0 the SDK lacks,
	// the newest that runs on 2.7, with a warning saying so.
	if code, body := get("main.app", "/"); code != 200 || body != "jinja2 2.6 (utils of 2.6), webapp2 2.3, webob 1.2.3" {
		t.Errorf("/: %d %q, want the app's answer with jinja2 2.6, webapp2 2.3, webob 1.2.3", code, body)
	}
	warning := "app.yaml's libraries: asks for webob 1.0; this SDK has no such version, so webob-1.2.3 runs (1.2.3)"
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		inst.p.flush(inst.router)
		mu.Lock()
		got := strings.Join(orphans, "\n")
		mu.Unlock()
		if strings.Contains(got, warning) {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("the instance's log lines %q lack %q", got, warning)
			break
		}
	}
	for _, svc := range []string{"ndb", "memcache", "users"} {
		code, body := get("main.app", "/"+svc)
		if code != http.StatusBadGateway || !strings.Contains(body, "called the bundled service "+svc+" (google.appengine.") {
			t.Errorf("/%s: %d %q, want 502 naming the service %s", svc, code, body, svc)
		}
	}
	code, body := get("markup.app", "/")
	want := "No markupsafe that runs on Python 2.7: the App Engine SDK's lib/markupsafe fails under it (SyntaxError: invalid syntax"
	if code != http.StatusBadGateway || !strings.Contains(body, want) || !strings.Contains(body, "python2.7 -m pip install markupsafe") {
		t.Errorf("markup.app: %d %q, want 502 saying %q and what to install", code, body, want)
	}
}

// The runner's argv names the SDK's lib directory and app.yaml's
// libraries, in a stable order.
func TestPython27CommandLine(t *testing.T) {
	py := python27For(t)
	if py == "" {
		t.Skip("no Python 2.7 in pyenv's versions or on PATH: the python27 command needs one")
	}
	home := t.TempDir()
	testtree.Write(t, home, map[string]string{"google_appengine/lib/webob/webob/__init__.py": ""})
	t.Setenv("HOME", home)
	t.Setenv("PATH", filepath.Dir(py)+string(os.PathListSeparator)+os.Getenv("PATH"))
	m, err := NewManager(Config{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	shell, err := m.python27(t.Context(), Spec{Key: Key{Service: "default", Version: "v1"}, Runtime: "python27",
		Libraries: map[string]string{"webapp2": "2.5.2", "jinja2": "2.6"}})
	if err != nil {
		t.Fatal(err)
	}
	want := " --sdk-lib '" + filepath.Join(home, "google_appengine", "lib") + "' --library 'jinja2=2.6' --library 'webapp2=2.5.2'"
	if !strings.HasPrefix(shell, "exec '") || !strings.HasSuffix(shell, want) {
		t.Errorf("shell %q, want it to end with %q", shell, want)
	}
}
