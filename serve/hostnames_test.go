package serve_test

import (
	"net/http"
	"testing"
)

// App Engine's host names end with the application id
// (SERVICE-dot-APP.appspot.com, VERSION-dot-SERVICE-dot-APP…): the
// trailing app is not read as a service.
func TestAppEngineHostNames(t *testing.T) {
	f := newFixture(t)
	deploy(t, f.store, "api", "a1", "runtime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /(.*)\n  static_files: api/\\1\n  upload: api/.*\n", map[string]string{"api/hello": "from api"})
	deploy(t, f.store, "default", "v2", "runtime: python27\napi_version: 1\nthreadsafe: true\nhandlers:\n- url: /(.*)\n  static_files: v2/\\1\n  upload: v2/.*\n", map[string]string{"v2/hello": "from v2"})
	if err := f.store.SetTraffic(t.Context(), "shop", "api", map[string]float64{"a1": 1}, false); err != nil {
		t.Fatal(err)
	}
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
