package appconfig

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/internal/corpus"
)

func errorsOf(ps []Problem) []Problem {
	var out []Problem
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

func TestParseAppYAML11(t *testing.T) {
	app, ps := ParseApp("app.yaml", []byte("runtime: python27\nversion: 012\nthreadsafe: yes\nservice: 'web'\nhandlers:\n- url: /.*\n  script: main.app\n"))
	if errs := errorsOf(ps); len(errs) != 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
	if app.Version != "10" {
		t.Errorf("version 012 = %q, want \"10\" (YAML 1.1 octal)", app.Version)
	}
	if app.Threadsafe == nil || !*app.Threadsafe {
		t.Errorf("threadsafe yes = %v, want true", app.Threadsafe)
	}
	if app.ServiceName() != "web" {
		t.Errorf("ServiceName = %q, want web", app.ServiceName())
	}
	if len(ps) != 1 || !ps[0].Warning || ps[0].Line != 2 {
		t.Errorf("want one warning about the coerced version at line 2, got %v", ps)
	}
	if h := app.Handlers[0]; h.Secure != "optional" || h.Login != "optional" || h.Position != (Pos{Line: 6, Column: 3}) {
		t.Errorf("handler defaults/position = %q %q %v", h.Secure, h.Login, h.Position)
	}
}

func TestParseAppProblems(t *testing.T) {
	cases := []struct {
		name, yaml string
		line, col  int
		msg        string
	}{
		{"unknown key", "runtime: go\nfoo: 1\n", 2, 1, "Unexpected attribute 'foo' for object of type AppInfoExternal."},
		{"bad app id", "application: Foo_Bar\nruntime: go\n", 1, 14, "Value 'Foo_Bar' for application does not match"},
		{"empty app id", "application: ''\nruntime: go\n", 1, 14, "Value '' for application does not match"},
		{"no runtime", "service: x\n", 1, 1, `You must specify a "runtime" field`},
		{"missing threadsafe", "runtime: python27\n", 1, 1, "threadsafe must be present"},
		{"bad login", "runtime: go\nhandlers:\n- url: /\n  script: _go_app\n  login: sometimes\n", 5, 10, "Value 'sometimes' for login not in"},
		{"no handler type", "runtime: go\nhandlers:\n- url: /\n", 3, 3, "Unknown url handler type."},
		{"bad url", "runtime: go\nhandlers:\n- url: ^/x$\n  script: _go_app\n", 3, 8, "Value '^/x$' for url does not match"},
		{"libraries on go", "runtime: go\nlibraries:\n- name: yaml\n  version: latest\n", 2, 1, `libraries entries are only supported by the "python27" runtime`},
		{"library missing version", "runtime: python27\nthreadsafe: true\nlibraries:\n- name: yaml\n", 4, 3, "Missing required value [version]."},
		{"duplicate library", "runtime: python27\nthreadsafe: true\nlibraries:\n- name: yaml\n  version: latest\n- name: yaml\n  version: '3.10'\n", 6, 9, "Duplicate library entry for yaml"},
		{"two scalings", "runtime: go\nmanual_scaling:\n  instances: 1\nbasic_scaling:\n  max_instances: 2\n", 4, 1, "There may be only one of"},
		{"manual instances", "runtime: go\nmanual_scaling:\n  instances: 0\n", 3, 14, "Value '0' for instances does not match"},
		{"basic required", "runtime: go\nbasic_scaling:\n  idle_timeout: 10m\n", 3, 3, "Missing required value [max_instances]."},
		{"auto latency", "runtime: go\nautomatic_scaling:\n  min_pending_latency: 1.5ms\n", 3, 24, "does not match expression"},
		{"version dot", "runtime: go\nversion: a-dot-b\n", 2, 10, `cannot contain the string "-dot-"`},
		{"service and module", "runtime: go\nservice: a\nmodule: b\n", 3, 1, "Only one of the two fields [service]"},
		{"application and project", "runtime: go\napplication: a\nproject: b\n", 3, 1, `Specify one of "application: name" or "project: name"`},
		{"bad env var", "runtime: go\nenv_variables:\n  1X: y\n", 3, 3, "for key in EnvironmentVariables does not match"},
		{"request header", "runtime: go\nhandlers:\n- url: /s\n  static_dir: s\n  http_headers:\n    Host: x\n", 6, 5, "'Host' can only be used in HTTP requests"},
		{"position in app.yaml", "runtime: go\nhandlers:\n- url: /\n  script: _go_app\n  position: head\n", 5, 3, "The position attribute was specified"},
		{"bad builtin value", "runtime: go\nbuiltins:\n- remote_api: maybe\n", 3, 1, "Value 'maybe' for remote_api not in"},
		{"duplicate builtin", "runtime: go\nbuiltins:\n- remote_api: on\n- remote_api: off\n", 3, 1, "Builtin remote_api was specified more than once"},
		{"bad skip_files", "runtime: go\nskip_files:\n- ^(foo\n", 3, 3, "does not compile"},
		{"list of mappings", "- a: 1\n", 1, 3, "should be a mapping"},
		{"empty", "# nothing\n", 1, 1, "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, ps := ParseApp("app.yaml", []byte(tc.yaml))
			for _, p := range errorsOf(ps) {
				if strings.Contains(p.Message, tc.msg) {
					if p.Line != tc.line || p.Column != tc.col {
						t.Errorf("%q at %d:%d, want %d:%d", p.Message, p.Line, p.Column, tc.line, tc.col)
					}
					return
				}
			}
			t.Errorf("no error containing %q; got %v", tc.msg, ps)
		})
	}
}

func TestParseAppAcceptsSDKForms(t *testing.T) {
	for _, y := range []string{
		"runtime: go\napplication: s~my-app\n",
		"runtime: go\napplication: example.com:my-app\n",
		"runtime: go\nhandlers:\n- url: (/x/.*)\n  script: _go_app\n",
		"runtime: go\nhandlers:\n- url: .*\n  script: _go_app\n",
		"runtime: go\nhandlers:\n- url: /a\n  api_endpoint: yes\n  script: x\napi_config:\n  url: /_ah/spi/.*\n  script: x\n",
		"runtime: go\nskip_files: ^(?!keep).*\\.bak$\n",
		"runtime: go\ndefault_expiration: 1d 6h 5m 30\n",
		"env: flex\n",
		"vm: true\n",
		"runtime: python27\nthreadsafe: false\nhandlers:\n- url: /.*\n  script: main.py\n",
		"runtime: go\nmanual_scaling:\n  instances: 5\n",
		"runtime: python27\nthreadsafe: true\nlibraries:\n- name: webapp2\n  version: \"2.5.2\"\n- name: jinja2\n  version: latest\n",
	} {
		if _, ps := ParseApp("app.yaml", []byte(y)); len(errorsOf(ps)) != 0 {
			t.Errorf("%q: unexpected errors %v", y, ps)
		}
	}
}

func TestLoadAppIncludes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("app.yaml", "runtime: python27\nthreadsafe: true\nbuiltins:\n- deferred: on\nincludes:\n- lib\n- extra.yaml\n"+
		"env_variables:\n  A: app\n  B: app\nhandlers:\n- url: /.*\n  script: main.app\n")
	write("lib/include.yaml", "handlers:\n- url: /tail\n  script: tail.app\n  position: tail\n- url: /head\n  script: head.app\n"+
		"env_variables:\n  B: include\nskip_files:\n- ^lib/tests/.*\nincludes:\n- ../extra.yaml\n")
	write("extra.yaml", "handlers:\n- url: /extra\n  script: extra.app\n")
	app, ps := LoadApp(filepath.Join(dir, "app.yaml"))
	if errs := errorsOf(ps); len(errs) != 0 {
		t.Fatalf("unexpected errors %v", errs)
	}
	var urls []string
	for _, h := range app.Handlers {
		urls = append(urls, h.URL)
	}
	want := "/_ah/queue/deferred /head /extra /.* /tail"
	if got := strings.Join(urls, " "); got != want {
		t.Errorf("handlers = %s, want %s", got, want)
	}
	if app.EnvVariables["A"] != "app" || app.EnvVariables["B"] != "include" {
		t.Errorf("env_variables = %v: the include should win on B", app.EnvVariables)
	}
	if len(app.SkipFiles) != 2 || app.SkipFiles[0] != DefaultSkipFiles || app.SkipFiles[1] != "^lib/tests/.*" {
		t.Errorf("skip_files = %q, want the default ORed with the include's", app.SkipFiles)
	}
	if len(app.SkipFilesPos) != len(app.SkipFiles) {
		t.Errorf("SkipFilesPos has %d entries for %d patterns", len(app.SkipFilesPos), len(app.SkipFiles))
	}

	write("cgi.yaml", "runtime: python27\nthreadsafe: true\nincludes:\n- cgiinc.yaml\nhandlers:\n- url: /.*\n  script: main.app\n")
	write("cgiinc.yaml", "handlers:\n- url: /old\n  script: old/main.py\n")
	_, ps = LoadApp(filepath.Join(dir, "cgi.yaml"))
	if errs := errorsOf(ps); len(errs) != 1 || !strings.HasPrefix(errs[0].Message, "Threadsafe cannot be enabled with CGI handler: old/main.py") ||
		errs[0].File != filepath.Join(dir, "cgiinc.yaml") || errs[0].Line != 3 {
		t.Errorf("want the merged CGI error in cgiinc.yaml:3, got %v", errs)
	}

	write("bad.yaml", "runtime: python27\nthreadsafe: true\nbuiltins:\n- mapreduce: on\nincludes:\n- nowhere.yaml\n")
	_, ps = LoadApp(filepath.Join(dir, "bad.yaml"))
	var msgs []string
	for _, p := range errorsOf(ps) {
		msgs = append(msgs, p.Message)
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, "mapreduce is not the name of a valid builtin.") ||
		!strings.Contains(all, "File nowhere.yaml listed in includes directive of") {
		t.Errorf("want invalid builtin and missing include, got %q", all)
	}

	write("flex.yaml", "env: flex\nruntime: python\n")
	app, ps = LoadApp(filepath.Join(dir, "flex.yaml"))
	if len(errorsOf(ps)) != 0 || len(app.Handlers) != 1 || app.Handlers[0].Script != "PLACEHOLDER" {
		t.Errorf("flex app without handlers should get the SDK's placeholder; got %v %v", app, ps)
	}
}

func TestIsSecondGen(t *testing.T) {
	for rt, want := range map[string]bool{
		"python27": false, "python37": true, "python3": true, "go": false, "go111": true, "go121": true,
		"java8": false, "java11": true, "java17": true, "nodejs": true, "nodejs20": true, "php55": false,
		"php72": true, "php81": true, "ruby": false, "custom": false,
	} {
		if got := (&App{Runtime: rt}).IsSecondGen(); got != want {
			t.Errorf("IsSecondGen(%s) = %v, want %v", rt, got, want)
		}
	}
	flex := "flex"
	if (&App{Runtime: "python37", Env: flex}).IsSecondGen() {
		t.Error("a flex app is not a second-generation standard app")
	}
}

// TestLoadAppCorpusColumns compares the merged model with what the SDK
// recorded for each valid corpus app: handler count, threadsafe, service,
// runtime and the effective skip_files.
func TestLoadAppCorpusColumns(t *testing.T) {
	entries := corpus.Entries(t)
	n := 0
	for _, e := range entries {
		if e.Kind != "app" || e.Verdict != "ok" {
			continue
		}
		n++
		app, ps := LoadApp(e.Path)
		if app == nil || len(errorsOf(ps)) != 0 {
			t.Errorf("%s: unexpected errors %v", e.ID, ps)
			continue
		}
		if got := strconv.Itoa(len(app.Handlers)); got != e.Fields["handlers"] {
			t.Errorf("%s: %s handlers, SDK %s", e.ID, got, e.Fields["handlers"])
		}
		ts := ""
		if app.Threadsafe != nil {
			ts = strconv.FormatBool(*app.Threadsafe)
		}
		if ts != e.Fields["threadsafe"] {
			t.Errorf("%s: threadsafe %q, SDK %q", e.ID, ts, e.Fields["threadsafe"])
		}
		if app.Runtime != e.Fields["runtime"] {
			t.Errorf("%s: runtime %q, SDK %q", e.ID, app.Runtime, e.Fields["runtime"])
		}
		if app.Service != e.Fields["service"] {
			t.Errorf("%s: service %q, SDK %q", e.ID, app.Service, e.Fields["service"])
		}
		skip := DefaultSkipFiles
		if app.SkipFiles != nil {
			skip = strings.Join(app.SkipFiles, " | ")
		}
		if skip != e.Fields["skip_files"] {
			t.Errorf("%s: skip_files %q, SDK %q", e.ID, skip, e.Fields["skip_files"])
		}
	}
	if n < 200 {
		t.Errorf("only %d valid app entries found", n)
	}
}
