package appengine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/datastore"
)

// Options configure a Backend.
type Options struct {
	// Project is the default project (application id) for calls whose app
	// argument is empty.
	Project string
	// HTTPClient authorises requests (required).
	HTTPClient *http.Client
	// Endpoints override the API base URLs.
	Endpoints Endpoints
	// Concurrency is the most uploads at once; 0 for 16, as gcloud.
	Concurrency int
	// PollInitial and PollInterval pace operation polling (0: 1 s then
	// 5 s, as gcloud); OperationTimeout bounds it (0: one hour).
	PollInitial, PollInterval, OperationTimeout time.Duration
	// RetryAttempts and RetryBase tune retries of idempotent calls (0: 5
	// tries from 500 ms).
	RetryAttempts int
	RetryBase     time.Duration
	// Now is the clock, for the staging TTL (nil: time.Now).
	Now func() time.Time
}

// Backend is the App Engine backend. It implements backend.Backend,
// Versions, IndexManager, LogReader and ConfigStore (dispatch only).
type Backend struct {
	location string
	project  string
	hc       *http.Client
	ep       Endpoints
	retry    retryPolicy
	poll     [2]time.Duration
	opTime   time.Duration
	now      func() time.Time
	uploads  *limiter
	// ds is the Datastore data-plane backend, composed for entities.
	ds *datastore.Backend

	mu      sync.Mutex
	buckets map[string]*bucketInfo // by project
}

// New returns a backend for the options.
func New(o Options) (*Backend, error) {
	if o.HTTPClient == nil {
		return nil, errors.New("the App Engine backend needs an authorised HTTP client (credentials)")
	}
	ep, err := o.Endpoints.resolve()
	if err != nil {
		return nil, err
	}
	b := &Backend{
		project: o.Project,
		hc:      o.HTTPClient,
		ep:      ep,
		retry:   retryPolicy{attempts: 5, base: 500 * time.Millisecond, max: 30 * time.Second},
		poll:    [2]time.Duration{time.Second, 5 * time.Second},
		opTime:  time.Hour,
		now:     time.Now,
		buckets: map[string]*bucketInfo{},
	}
	if o.RetryAttempts > 0 {
		b.retry.attempts = o.RetryAttempts
	}
	if o.RetryBase > 0 {
		b.retry.base = o.RetryBase
	}
	if o.PollInitial > 0 {
		b.poll[0] = o.PollInitial
	}
	if o.PollInterval > 0 {
		b.poll[1] = o.PollInterval
	}
	if o.OperationTimeout > 0 {
		b.opTime = o.OperationTimeout
	}
	if o.Now != nil {
		b.now = o.Now
	}
	n := o.Concurrency
	if n <= 0 {
		n = 16
	}
	b.uploads = newLimiter(n)
	b.location = "appengine://" + o.Project
	// Entities go through backend/datastore, on the same client and the
	// same Datastore endpoint as the index admin calls.
	b.ds, err = datastore.New(b.location, datastore.Config{Endpoint: strings.TrimSuffix(ep.Datastore, "/")}, b.hc)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// PutEntities implements backend.Entities (Datastore API v1, through
// backend/datastore).
func (b *Backend) PutEntities(ctx context.Context, app string, ents []backend.Entity) ([]backend.Key, error) {
	project, err := b.projectOf(app)
	if err != nil {
		return nil, err
	}
	return b.ds.PutEntities(ctx, project, ents)
}

// QueryEntities implements backend.Entities.
func (b *Backend) QueryEntities(ctx context.Context, app string, q backend.EntityQuery, cursor string, limit int) ([]backend.Entity, string, error) {
	project, err := b.projectOf(app)
	if err != nil {
		return nil, "", err
	}
	return b.ds.QueryEntities(ctx, project, q, cursor, limit)
}

// Kinds implements backend.Entities.
func (b *Backend) Kinds(ctx context.Context, app, namespace string) ([]string, error) {
	project, err := b.projectOf(app)
	if err != nil {
		return nil, err
	}
	return b.ds.Kinds(ctx, project, namespace)
}

// Location implements backend.Backend.
func (b *Backend) Location() string { return b.location }

// Properties implements backend.Backend.
func (b *Backend) Properties() backend.Properties {
	return backend.Properties{Connections: b.uploads.max}
}

// Close implements backend.Backend.
func (b *Backend) Close() error {
	b.hc.CloseIdleConnections()
	return nil
}

// projectOf returns the project a call is about.
func (b *Backend) projectOf(app string) (string, error) {
	p := app
	if p == "" {
		p = b.project
	}
	if p == "" {
		return "", errors.New("no project given: use appengine://PROJECT or pass -A PROJECT")
	}
	// Project ids are [a-z][-a-z0-9]*, optionally "domain:" prefixed.
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == ':' || r == '.') {
			return "", fmt.Errorf("%q is not a Google Cloud project id", p)
		}
	}
	return p, nil
}

func (b *Backend) adminURL(format string, args ...any) string {
	return b.ep.AppEngine + "v1/" + escapedf(format, args...)
}

// escapedf formats a path with each argument path-escaped.
func escapedf(format string, args ...any) string {
	esc := make([]any, len(args))
	for i, a := range args {
		esc[i] = url.PathEscape(fmt.Sprint(a))
	}
	return fmt.Sprintf(format, esc...)
}

// Factory opens appengine: locations.
type Factory struct{}

// NewFactory returns the factory for the "appengine" scheme.
func NewFactory() Factory { return Factory{} }

// Scheme implements backend.Factory.
func (Factory) Scheme() string { return "appengine" }

// Open implements backend.Factory. Locations: appengine (project from -A),
// appengine:PROJECT or appengine://PROJECT, optionally followed by
// ?appengine=URL&storage=URL&logging=URL&datastore=URL overriding the API
// endpoints (as gcloud's api_endpoint_overrides).
func (Factory) Open(ctx context.Context, location, rest string, env backend.Env) (backend.Backend, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rest, query, _ := strings.Cut(rest, "?")
	project := strings.TrimPrefix(rest, "//")
	project = strings.TrimSuffix(project, "/")
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, fmt.Errorf("the endpoint overrides after ? are not a query string: %w", err)
	}
	var ep Endpoints
	for k := range q {
		switch k {
		case "appengine":
			ep.AppEngine = q.Get(k)
		case "storage":
			ep.Storage = q.Get(k)
		case "logging":
			ep.Logging = q.Get(k)
		case "datastore":
			ep.Datastore = q.Get(k)
		default:
			return nil, fmt.Errorf("unknown endpoint override %q: use appengine, storage, logging or datastore", k)
		}
	}
	b, err := New(Options{Project: project, HTTPClient: env.HTTPClient, Endpoints: ep})
	if err != nil {
		return nil, err
	}
	b.location = location
	return b, nil
}

// Compile-time checks of the capabilities.
var (
	_ backend.Backend      = (*Backend)(nil)
	_ backend.Versions     = (*Backend)(nil)
	_ backend.IndexManager = (*Backend)(nil)
	_ backend.LogReader    = (*Backend)(nil)
	_ backend.ConfigStore  = (*Backend)(nil)
	_ backend.Entities     = (*Backend)(nil)
)
