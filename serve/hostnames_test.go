package serve_test

import (
	"net/http"
	"testing"
)

// deployStaticPrefix deploys a python27 version that serves each URL /X
// from the file PREFIX/X, with the given files.
func deployStaticPrefix(t *testing.T, f *fixture, service, version, prefix string, files map[string]string) {
	t.Helper()
	deploy(t, f.store, service, version, "runtime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /(.*)\n  static_files: "+
		prefix+"/\\1\n  upload: "+prefix+"/.*\n", files)
}

// routingFixture is the site fixture plus version v2 of the default
// service (no traffic) and version a1 of service api (all of its
// traffic), each answering /hello with "from v2" / "from api".
func routingFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	deployStaticPrefix(t, f, "default", "v2", "v2", map[string]string{"v2/hello": "from v2"})
	deployStaticPrefix(t, f, "api", "a1", "api", map[string]string{"api/hello": "from api"})
	if err := f.store.SetTraffic(t.Context(), "shop", "api", map[string]float64{"a1": 1}, false); err != nil {
		t.Fatal(err)
	}
	return f
}

// App Engine's host names end with the application id
// (SERVICE-dot-APP.appspot.com, VERSION-dot-SERVICE-dot-APP…): the
// trailing app is not read as a service.
func TestAppEngineHostNames(t *testing.T) {
	f := routingFixture(t)
	for host, body := range map[string]string{
		"api-dot-shop.appspot.com":          "from api",
		"a1-dot-api-dot-shop.appspot.com":   "from api",
		"v2-dot-shop.localhost:8080":        "from v2",
		"v2-dot-default-dot-shop.localhost": "from v2",
	} {
		if r := f.do(t, http.MethodGet, "http://"+host+"/hello"); r.body != body {
			t.Errorf("host %s: %d %q, want %q", host, r.status, r.body, body)
		}
	}
}
