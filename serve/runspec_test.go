package serve

import (
	"testing"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
)

// A python27 version's libraries: reach its instance, `latest` resolved to
// the SDK table's latest version, so the runner can pick that directory.
func TestRunSpecLibraries(t *testing.T) {
	cfg, problems := appconfig.ParseApp("app.yaml", []byte(`runtime: python27
api_version: 1
threadsafe: true
handlers:
- url: /.*
  script: main.app
libraries:
- name: jinja2
  version: latest
- name: webapp2
  version: "2.5.2"
`))
	for _, p := range problems {
		if !p.Warning {
			t.Fatalf("app.yaml: %v", p)
		}
	}
	r := newRunSpec("shop", backend.Version{Service: "default", ID: "v1"}, cfg)
	want := map[string]string{"jinja2": "2.6", "webapp2": "2.5.2"}
	if len(r.spec.Libraries) != len(want) {
		t.Errorf("Libraries = %v, want %v", r.spec.Libraries, want)
	}
	for k, v := range want {
		if r.spec.Libraries[k] != v {
			t.Errorf("Libraries[%s] = %q, want %q", k, r.spec.Libraries[k], v)
		}
	}
}
