package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/appengine"
	"github.com/appcfg/appcfg/backend/datastore"
	"github.com/appcfg/appcfg/internal/auth"
	"github.com/appcfg/appcfg/internal/loopback"
)

// Names of the authentication flags, as appcfg.py spelled them.
const (
	flagAccessToken    = "oauth2_access_token"
	flagRefreshToken   = "oauth2_refresh_token"
	flagServiceAccount = "service_account_json"
	flagTokenFile      = "access_token_file"
	flagImpersonate    = "impersonate_service_account"
	flagNoLocalServer  = "noauth_local_webserver"
	flagCreateApp      = "create_app"
	flagKeepPrevious   = "keep_previous_version"
	flagTimeout        = "timeout"
)

// authFlags are the OAuth2 options of appcfg.py; they apply to every
// command that talks to Google.
func authFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: flagAccessToken, EnvVars: []string{"APPCFG_OAUTH2_ACCESS_TOKEN"}, Category: "auth",
			Usage: "use this OAuth2 access token as is (it is never printed)"},
		&cli.StringFlag{Name: flagRefreshToken, EnvVars: []string{"APPCFG_OAUTH2_REFRESH_TOKEN"}, Category: "auth",
			Usage: "get access tokens with this OAuth2 refresh token"},
		&cli.StringFlag{Name: flagServiceAccount, Category: "auth",
			Usage: "authenticate as the service account whose JSON key is in this file"},
		&cli.StringFlag{Name: flagTokenFile, EnvVars: []string{"APPCFG_ACCESS_TOKEN_FILE"}, Category: "auth",
			Usage: "use the OAuth2 access token in this `FILE` (read again when it changes; never refreshed by appcfg)"},
		&cli.StringFlag{Name: flagImpersonate, EnvVars: []string{"APPCFG_IMPERSONATE_SERVICE_ACCOUNT"}, Category: "auth",
			Usage: "act as this service `EMAIL` (or a comma-separated delegation chain ending with it), with tokens the IAM Credentials API issues for the other credentials"},
		&cli.BoolFlag{Name: flagNoLocalServer, Category: "auth",
			Usage: "log in by pasting the browser's address instead of a redirect to a local web server"},
		&cli.StringFlag{Name: flagCreateApp, EnvVars: []string{"APPCFG_CREATE_APP"}, Category: "App Engine", Usage: "create the project's App Engine application in `REGION` (like us-central) if it has none; the region cannot be changed later"},
		&cli.BoolFlag{Name: flagKeepPrevious, Category: "App Engine",
			Usage: "keep running the version a promote takes the traffic from (by default it is stopped unless it is automatic-scaling standard, which costs nothing idle)"},
		&cli.DurationFlag{Name: flagTimeout, EnvVars: []string{"APPCFG_TIMEOUT"}, Category: "App Engine", Value: 10 * time.Minute,
			Usage: "how long to wait, retrying with backoff, while another operation holds the service (\"operation already in progress\"); then exit 3"},
	}
}

// authSettings are the authentication flags and the terminal, read with
// the global flags (readGlobals) and handed to authHTTPClient by
// openBackend.
type authSettings struct {
	opts  auth.Options
	errw  io.Writer
	noisy bool
	// cacheFile is where the browser sign-in is cached: "" for the
	// default, "-" for nowhere (--no_cookies).
	cacheFile string
}

// readAuth reads the authentication flags and whether a person is at the
// terminal.
func readAuth(c *cli.Context) authSettings {
	s := authSettings{
		opts: auth.Options{
			AccessToken:        c.String(flagAccessToken),
			RefreshToken:       c.String(flagRefreshToken),
			ServiceAccountJSON: c.String(flagServiceAccount),
			AccessTokenFile:    expandHome(c.String(flagTokenFile)),
			// The IAM Credentials endpoint is overridden like the
			// backends' APPCFG_*_API ones (tests, private endpoints).
			ImpersonateServiceAccount: c.String(flagImpersonate),
			IAMCredentialsURL:         os.Getenv("APPCFG_IAMCREDENTIALS_API"),
			ClassifyError:             classifyTokenError,
			ClientID:                  c.String(flagClientID),
			ClientSecret:              c.String(flagClientSecret),
			NoLocalWebserver:          c.Bool(flagNoLocalServer),
			Prompt:                    c.App.ErrWriter,
			In:                        c.App.Reader,
		},
		errw:      c.App.ErrWriter,
		noisy:     c.Bool(flagNoisy),
		cacheFile: expandHome(c.String(flagCredFile)),
	}
	if c.Bool(flagNoCookies) {
		s.cacheFile = "-"
	}
	if f, ok := c.App.Reader.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		s.opts.Interactive = true
		s.opts.OpenBrowser = openBrowser
	}
	return s
}

// readAppengineSettings reads the App Engine backend's flags. They are
// read from the app's own flags: a command's flag of the same name
// (update_indexes --timeout, how long --wait waits) is another setting.
func readAppengineSettings(c *cli.Context) appengine.Settings {
	for _, p := range c.Lineage() {
		if p.App != nil { // the outermost is an empty holder of the Go context
			c = p
		}
	}
	set := appengineSettings(c.String(flagCreateApp), c.Bool(flagKeepPrevious), os.UserCacheDir)
	set.ConflictTimeout = c.Duration(flagTimeout)
	errw := c.App.ErrWriter
	set.Notify = func(msg string) { fmt.Fprintf(errw, "appcfg: waiting: %s\n", msg) }
	return set
}

// appengineSettings are the App Engine backend's choices from the flags.
// Resumable upload sessions are kept in the user cache dir; without one
// they are not kept, which only costs a resend after an interruption.
func appengineSettings(createApp string, keepPrevious bool, cacheDir func() (string, error)) appengine.Settings {
	s := appengine.Settings{CreateApp: createApp, KeepPrevious: keepPrevious}
	if dir, err := cacheDir(); err == nil && dir != "" {
		s.SessionDir = filepath.Join(dir, "appcfg", "upload-sessions")
	}
	return s
}

// expandHome resolves a leading ~/ the shell left alone (--flag=~/x).
func expandHome(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, rest)
		}
	}
	return p
}

func openBrowser(u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap it; the browser outlives nothing of ours
	return nil
}

// remoteLocation adds the APPCFG_*_API endpoint overrides to an appengine
// location that names none, so backends never read the environment.
func remoteLocation(location string, getenv func(string) string) string {
	scheme, rest, _ := strings.Cut(location, ":")
	if scheme != "appengine" || strings.Contains(rest, "?") {
		return location
	}
	q := url.Values{}
	ep := appengine.EndpointsFromEnv(getenv)
	for k, v := range map[string]string{"appengine": ep.AppEngine, "storage": ep.Storage, "logging": ep.Logging, "datastore": ep.Datastore} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(q) == 0 {
		return location
	}
	return location + "?" + q.Encode()
}

// allLoopback reports whether every endpoint of an appengine location is
// overridden to a loopback host (local fakes, which need no credentials).
func allLoopback(location string) bool {
	_, query, ok := strings.Cut(location, "?")
	if !ok {
		return false
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return false
	}
	for _, k := range []string{"appengine", "storage", "logging", "datastore"} {
		u, err := url.Parse(q.Get(k))
		if err != nil || u.Host == "" {
			return false
		}
		if !loopback.Host(u.Hostname()) {
			return false
		}
	}
	return true
}

// loopbackOnly reports whether every endpoint of a remote location is on
// this machine: an appengine location whose endpoints are all loopback
// fakes, or a datastore location whose endpoint is a loopback emulator.
func loopbackOnly(location string) bool {
	scheme, rest, _ := strings.Cut(location, ":")
	switch scheme {
	case "appengine":
		return allLoopback(location)
	case "datastore":
		// The location's own parser reads the endpoint (HOST:PORT as
		// DATASTORE_EMULATOR_HOST gives it, or a URL).
		cfg, err := datastore.ParseConfig(rest)
		if err != nil || cfg.Endpoint == datastore.DefaultEndpoint {
			return false
		}
		u, err := url.Parse(cfg.Endpoint)
		return err == nil && loopback.Host(u.Hostname())
	}
	return false
}

// authHTTPClient returns the client a remote backend uses. Credentials are
// looked up only here, for a remote location: local deploys never touch
// them, nor do locations whose endpoints are all loopback fakes or a
// loopback emulator unless the job configured one (loopbackOnly). For
// a datastore location a missing credential leaves the client nil; for
// appengine it is an error.
func authHTTPClient(ctx context.Context, s authSettings, location string) (*http.Client, error) {
	scheme, _, _ := strings.Cut(location, ":")
	if scheme == "local" {
		return nil, nil
	}
	if s.errw == nil {
		s.errw = io.Discard
	}
	// The pool keeps an idle connection for each upload at once (twice
	// the backend's 16), not http.DefaultTransport's 2.
	var base http.RoundTripper = auth.Transport(32)
	if s.noisy {
		base = &auth.LoggingTransport{Base: base, W: s.errw}
	}
	opts := s.opts
	flagsGiven := opts.AccessToken != "" || opts.RefreshToken != "" || opts.ServiceAccountJSON != "" ||
		opts.AccessTokenFile != "" || opts.ImpersonateServiceAccount != ""
	if !flagsGiven && os.Getenv("GOOGLE_APPLICATION_CREDENTIALS") == "" && loopbackOnly(location) {
		// Local fakes and emulators need no credentials, and searching
		// for them is not local: Application Default Credentials probe
		// the GCE metadata server (a DNS lookup and a connect to
		// 169.254.169.254, ~10 ms), a cached or gcloud login sends its
		// refresh to Google, and at a terminal a browser sign-in would
		// start. Google's client libraries skip credentials for an
		// emulator the same way. What the job configured still applies:
		// a credential flag, or GOOGLE_APPLICATION_CREDENTIALS (CI tests
		// of workload identity run against loopback fakes).
		if scheme == "appengine" {
			return &http.Client{Transport: base}, nil
		}
		return nil, nil
	}
	switch s.cacheFile {
	case "-":
	case "":
		if cache, err := auth.DefaultCacheFile(); err == nil {
			opts.CacheFile = cache
		}
	default:
		opts.CacheFile = s.cacheFile
	}
	hc, desc, err := auth.Client(ctx, opts, base)
	if err == nil {
		if s.noisy {
			fmt.Fprintf(s.errw, "authenticating with %s\n", desc)
		}
		return hc, nil
	}
	if flagsGiven {
		return nil, backend.Classify(err, backend.ErrDenied)
	}
	if scheme == "appengine" {
		return nil, backend.Classify(err, backend.ErrDenied)
	}
	return nil, nil
}

// classifyTokenError gives a failure to get a token its failure class (exit
// status): a credential that was refused is ErrDenied, an issuer that could
// not be reached ErrTransient.
func classifyTokenError(e *auth.TokenError) error {
	if e.Transient {
		return backend.Classify(e, backend.ErrTransient)
	}
	return backend.Classify(e, backend.ErrDenied)
}
