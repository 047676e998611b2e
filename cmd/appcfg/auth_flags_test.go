package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/backend/appengine"
	"github.com/appcfg/appcfg/internal/auth"
)

func TestRemoteLocation(t *testing.T) {
	env := map[string]string{"APPCFG_APPENGINE_API": "http://127.0.0.1:1/", "APPCFG_STORAGE_API": "http://127.0.0.1:2/"}
	getenv := func(k string) string { return env[k] }
	if got := remoteLocation("local:/x", getenv); got != "local:/x" {
		t.Errorf("local location changed to %q", got)
	}
	got := remoteLocation("appengine://p", getenv)
	if want := "appengine://p?appengine=http%3A%2F%2F127.0.0.1%3A1%2F&storage=http%3A%2F%2F127.0.0.1%3A2%2F"; got != want {
		t.Errorf("remoteLocation = %q, want %q", got, want)
	}
	if got := remoteLocation("appengine://p?logging=https://l/", getenv); got != "appengine://p?logging=https://l/" {
		t.Errorf("explicit overrides replaced: %q", got)
	}
	if allLoopback(got) || !allLoopback("appengine:p?appengine=http://127.0.0.1:1/&storage=http://localhost:2/&logging=http://[::1]:3/&datastore=http://127.0.0.1:4/") {
		t.Error("allLoopback is wrong")
	}
}

// TestAuthClientNoisyNeverPrintsToken: with --noisy each request is
// logged, without the token the flag gave.
func TestAuthClientNoisyNeverPrintsToken(t *testing.T) {
	var sawAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sawAuth = r.Header.Get("Authorization") }))
	defer srv.Close()
	var errw bytes.Buffer
	s := authSettings{opts: auth.Options{AccessToken: "ya29.flag-token"}, errw: &errw, noisy: true}
	ctx := context.Background()
	hc, err := authHTTPClient(ctx, s, "appengine://p")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(srv.URL + "/v1/apps/p")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if sawAuth != "Bearer ya29.flag-token" {
		t.Errorf("the server saw Authorization %q", sawAuth)
	}
	if out := errw.String(); !strings.Contains(out, "GET "+srv.URL+"/v1/apps/p") || strings.Contains(out, "flag-token") {
		t.Errorf("noisy output %q: want the request, never the token", out)
	}
	if hc, err := authHTTPClient(ctx, s, "local:/tmp/x"); hc != nil || err != nil {
		t.Errorf("a local location got a client (%v, %v)", hc, err)
	}
}

// TestAuthFlagsAppengineSettings: the flags become the backend's settings, and the
// upload sessions live in the user cache dir when there is one.
func TestAuthFlagsAppengineSettings(t *testing.T) {
	s := appengineSettings("us-central", true, func() (string, error) { return "/cache", nil })
	if s.CreateApp != "us-central" || !s.KeepPrevious || s.SessionDir != filepath.Join("/cache", "appcfg", "upload-sessions") {
		t.Errorf("settings %+v", s)
	}
	s = appengineSettings("", false, func() (string, error) { return "", errors.New("no home") })
	if s.SessionDir != "" || s.CreateApp != "" || s.KeepPrevious {
		t.Errorf("without a cache dir: %+v, want no session dir", s)
	}
}

// TestAppengineSettingsFromAppFlags: the backend's settings come from the
// app's flags; a command's own flag of the same name (update_indexes
// --timeout) does not change them.
func TestAppengineSettingsFromAppFlags(t *testing.T) {
	var got appengine.Settings
	app := &cli.App{Name: "appcfg", Flags: authFlags(), Writer: io.Discard, ErrWriter: io.Discard,
		Commands: []*cli.Command{{Name: "update_indexes", Flags: []cli.Flag{&cli.DurationFlag{Name: "timeout"}},
			Action: func(c *cli.Context) error { got = readAppengineSettings(c); return nil }}}}
	if err := app.Run([]string{"appcfg", "--timeout", "3m", "--keep_previous_version", "update_indexes", "--timeout", "1s"}); err != nil {
		t.Fatal(err)
	}
	if got.ConflictTimeout != 3*time.Minute || !got.KeepPrevious || got.Notify == nil {
		t.Errorf("settings %+v, want the app's --timeout 3m and --keep_previous_version", got)
	}
}

// TestLoopbackLocationsLookForNoCredentials: deploying to loopback fakes
// or a loopback emulator does not search for Google credentials. Before,
// Application Default Credentials were searched first: on a machine with a
// metadata server (here GCE_METADATA_HOST, a counting server; on others a
// probe of 169.254.169.254) its token was fetched and sent to the fakes,
// and a cached login was refreshed at Google. A credential the job
// configured (a flag, GOOGLE_APPLICATION_CREDENTIALS) still applies.
func TestLoopbackLocationsLookForNoCredentials(t *testing.T) {
	metadataRequests := 0
	metadata := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		metadataRequests++
		w.Header().Set("Metadata-Flavor", "Google")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"ya29.from-metadata","token_type":"Bearer","expires_in":3600}`)
	}))
	defer metadata.Close()
	var sawAuth []string
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sawAuth = append(sawAuth, r.Header.Get("Authorization"))
	}))
	defer fake.Close()
	dir := t.TempDir()
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", "")
	t.Setenv("HOME", dir)
	t.Setenv("CLOUDSDK_CONFIG", dir)
	t.Setenv("GCE_METADATA_HOST", strings.TrimPrefix(metadata.URL, "http://"))

	get := func(hc *http.Client) string {
		t.Helper()
		resp, err := hc.Get(fake.URL + "/v1/apps/p")
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return sawAuth[len(sawAuth)-1]
	}
	s := authSettings{cacheFile: "-"}
	ctx := context.Background()
	ae := "appengine://p?appengine=" + fake.URL + "&storage=" + fake.URL + "&logging=" + fake.URL + "&datastore=" + fake.URL
	hc, err := authHTTPClient(ctx, s, ae)
	if err != nil || hc == nil {
		t.Fatalf("loopback appengine location: client %v, error %v", hc, err)
	}
	if got := get(hc); got != "" || metadataRequests != 0 {
		t.Errorf("loopback fakes saw Authorization %q after %d metadata requests; want none", got, metadataRequests)
	}
	if hc, err := authHTTPClient(ctx, s, "datastore://p?endpoint="+strings.TrimPrefix(fake.URL, "http://")); hc != nil || err != nil || metadataRequests != 0 {
		t.Errorf("loopback emulator: client %v, error %v, %d metadata requests; want none", hc, err, metadataRequests)
	}

	// What the job configured still applies.
	flagged := authSettings{opts: auth.Options{AccessToken: "ya29.flag"}, cacheFile: "-"}
	if hc, err = authHTTPClient(ctx, flagged, ae); err != nil {
		t.Fatal(err)
	}
	if got := get(hc); got != "Bearer ya29.flag" {
		t.Errorf("with --oauth2_access_token the fake saw %q", got)
	}
	if !loopbackOnly("datastore://p?endpoint=127.0.0.1:8081") || !loopbackOnly("datastore://p?endpoint=http://[::1]:1") ||
		loopbackOnly("datastore://p?endpoint=10.0.0.1:8081") || loopbackOnly("datastore://p") || loopbackOnly("local:/x") ||
		loopbackOnly("appengine://p?appengine="+fake.URL) {
		t.Error("loopbackOnly is wrong")
	}
}
