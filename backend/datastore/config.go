package datastore

import (
	"fmt"
	"github.com/appcfg/appcfg/internal/lazyre"
	"net/url"
	"strings"
	"time"

	"github.com/appcfg/appcfg/internal/loopback"
)

// DefaultEndpoint is the production Datastore API root.
const DefaultEndpoint = "https://datastore.googleapis.com"

// Config is a parsed datastore location.
type Config struct {
	// Project is the Google Cloud project the location names; "" lets
	// each call's app argument name it.
	Project string
	// Database is the Datastore database id; "" is the default database.
	Database string
	// Endpoint is the API root, without a trailing slash: DefaultEndpoint,
	// or an emulator such as http://127.0.0.1:8081.
	Endpoint string
	// Retry bounds the retries of failed calls.
	Retry Retry
}

// Retry is the retry policy for calls that failed for a reason that may
// pass (network errors, 429, 5xx, ABORTED).
type Retry struct {
	// MaxAttempts is how many times a call is sent at most, first try
	// included.
	MaxAttempts int
	// BaseDelay is the longest wait before the second attempt; each later
	// attempt doubles it, up to MaxDelay. The actual wait is a random
	// fraction of it ("full jitter"), so that many clients failing at once
	// do not retry in step.
	BaseDelay time.Duration
	MaxDelay  time.Duration
	// AttemptTimeout bounds one attempt, so that a connection the network
	// silently dropped is retried instead of hanging the call.
	AttemptTimeout time.Duration
}

// DefaultRetry follows the Datastore client libraries: backoff from 100 ms,
// a minute per attempt.
func DefaultRetry() Retry {
	return Retry{MaxAttempts: 8, BaseDelay: 100 * time.Millisecond, MaxDelay: 30 * time.Second, AttemptTimeout: 60 * time.Second}
}

// projectRE matches project ids, including legacy domain-scoped ones
// ("example.com:proj"); partitionIdRE matches namespace and database ids as
// the API documents them.
var (
	projectRE     = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9.\-_:]{0,99}$`)
	partitionIDRE = lazyre.New(`^[A-Za-z0-9.\-_]{0,100}$`)
)

// ParseConfig parses what follows "datastore:" in a location:
//
//	//PROJECT                         https://datastore.googleapis.com
//	//PROJECT?endpoint=HOST:PORT      an emulator (plain http, loopback only)
//	//PROJECT?endpoint=URL            any API root (http only on loopback)
//	//PROJECT?database=ID             a named database
//	PROJECT, or "" / "//"             the same; no project means each call's
//	                                  app names it
func ParseConfig(rest string) (Config, error) {
	loc := "datastore:" + rest
	// Parsed by hand rather than as a URL: a legacy domain-scoped project
	// ("example.com:proj") is not a valid URL host.
	project, query, _ := strings.Cut(strings.TrimPrefix(rest, "//"), "?")
	if strings.ContainsAny(project, "/@#") {
		return Config{}, fmt.Errorf("datastore location %q: only a project and the options endpoint= and database= may follow datastore://", loc)
	}
	if _, port, ok := strings.Cut(project, ":"); ok && port != "" && strings.Trim(port, "0123456789") == "" {
		return Config{}, fmt.Errorf("datastore location %q names a host:port where the project belongs; write datastore://PROJECT?endpoint=%s", loc, project)
	}
	if project != "" && !projectRE.MatchString(project) {
		return Config{}, fmt.Errorf("datastore location %q: %q is not a project id", loc, project)
	}
	cfg := Config{Project: project, Endpoint: DefaultEndpoint, Retry: DefaultRetry()}
	opts, err := url.ParseQuery(query)
	if err != nil {
		return Config{}, fmt.Errorf("datastore location %q: %w", loc, err)
	}
	for k, vs := range opts {
		v := vs[len(vs)-1]
		switch k {
		case "endpoint":
			ep, err := parseEndpoint(v)
			if err != nil {
				return Config{}, fmt.Errorf("datastore location %q: %w", loc, err)
			}
			cfg.Endpoint = ep
		case "database":
			if !partitionIDRE.MatchString(v) || v == "(default)" {
				return Config{}, fmt.Errorf("datastore location %q: %q is not a database id (letters, digits, '.', '-', '_'; leave it out for the default database)", loc, v)
			}
			cfg.Database = v
		default:
			return Config{}, fmt.Errorf("datastore location %q: unknown option %q; the options are endpoint= and database=", loc, k)
		}
	}
	return cfg, nil
}

// parseEndpoint accepts an API root URL, or HOST:PORT as the emulators'
// DATASTORE_EMULATOR_HOST gives it (plain http). Plain http is refused for
// any host that is not loopback: the data and the credentials would cross
// the network unencrypted.
func parseEndpoint(s string) (string, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("endpoint %q is neither HOST:PORT nor an http(s) URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("endpoint %q: give only scheme, host, port and path", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback.Host(u.Hostname()) {
			return "", fmt.Errorf("endpoint %q uses plain http to a host that is not loopback; use https, or run the emulator on 127.0.0.1", s)
		}
	default:
		return "", fmt.Errorf("endpoint %q: the scheme must be http or https", s)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// projectFor returns the project a call for app uses. A legacy app id's
// partition prefix ("s~app", "e~app") is not part of the project id. When
// the location names a project, an app naming another one is refused rather
// than written to the wrong project.
func (c Config) projectFor(app string) (string, error) {
	if i := strings.Index(app, "~"); i >= 0 {
		app = app[i+1:]
	}
	switch {
	case app == "" && c.Project == "":
		return "", fmt.Errorf("no project: name one in the location (datastore://PROJECT) or with -A")
	case app == "":
		return c.Project, nil
	case c.Project != "" && app != c.Project:
		return "", fmt.Errorf("the backend location names project %q but the command targets app %q; make them match, or leave the project out of the location", c.Project, app)
	}
	if !projectRE.MatchString(app) {
		return "", fmt.Errorf("%q is not a project id", app)
	}
	return app, nil
}
