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
	"github.com/appcfg/appcfg/internal/crash"
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
	// PollInitial and PollInterval pace operation polling: the first
	// pause, doubled at each poll up to the second (0: 100 ms and 5 s);
	// OperationTimeout bounds it (0: one hour).
	PollInitial, PollInterval, OperationTimeout time.Duration
	// RetryAttempts and RetryBase tune retries of idempotent calls (0: 5
	// tries from 500 ms).
	RetryAttempts int
	RetryBase     time.Duration
	// Now is the clock, for the staging TTL (nil: time.Now).
	Now func() time.Time
	// CreateApp is the region (locationId, like us-central) in which to
	// create the project's App Engine application when it has none;
	// "" reports the missing application instead.
	CreateApp string
	// KeepPrevious keeps the version a promote takes all traffic from
	// running; by default it is stopped when it is not automatic-scaling
	// standard (it would bill idle instances), as gcloud's
	// --stop-previous-version.
	KeepPrevious bool
	// SessionDir keeps the resumable upload sessions of large files, so
	// an interrupted deploy resumes them in the next run ("": none).
	SessionDir string
	// ConflictTimeout bounds the wait for another operation holding a
	// service to end (0: 10 minutes); Notify is told about each wait
	// (nil: nothing is told).
	ConflictTimeout time.Duration
	Notify          func(msg string)
}

// Backend is the App Engine backend. It implements backend.Backend,
// Versions, IndexManager, LogReader, ConfigStore (dispatch only) and
// Prefetcher.
type Backend struct {
	location string
	project  string
	hc       *http.Client
	ep       Endpoints
	retry    retryPolicy
	poll     [2]time.Duration
	opTime   time.Duration
	// conflictTimeout and onNotify: see Options.ConflictTimeout, Notify.
	conflictTimeout time.Duration
	onNotify        func(string)
	now             func() time.Time
	uploads         *limiter
	// createApp, keepPrevious and sessions: see Options.
	createApp    string
	keepPrevious bool
	sessions     string
	// ds is the Datastore data-plane backend, composed for entities.
	ds *datastore.Backend

	mu      sync.Mutex
	buckets map[string]*bucketInfo // by project
	// pending is the background listing Prefetch started, by project,
	// until MissingBlobs takes it; stops cancels every one Close finds
	// still running, and closed refuses new ones after Close.
	pending     map[string]*listing
	stops       []context.CancelFunc
	closed      bool
	prefetching sync.WaitGroup
	// absent holds the versions ("project/service/version") LiveAsIs
	// found missing, until SameVersion, later in the same deploy, takes
	// the answer instead of asking again.
	absent map[string]bool
	// created holds, by "project/service", the version CreateVersion
	// made and the service as read just after, until the promote that
	// follows (setSplit) takes it instead of reading the service again.
	created map[string]createdVersion
	// noServices says, by project, whether the last list of its
	// services this backend read was empty (IngestsFor).
	noServices map[string]bool
}

// listing is a bucket listing under way or done.
type listing struct {
	done    chan struct{}
	present map[string]bool
	err     error
	// head is closed once the first page is read (or the listing
	// failed before it: then empty stays false); empty says that page
	// held no object and no next page (IngestsFor).
	head  chan struct{}
	empty bool
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
		poll:    [2]time.Duration{100 * time.Millisecond, 5 * time.Second},
		opTime:  time.Hour,

		conflictTimeout: defaultConflictTimeout,
		onNotify:        o.Notify,
		now:             time.Now,
		buckets:         map[string]*bucketInfo{},

		createApp:    o.CreateApp,
		keepPrevious: o.KeepPrevious,
		sessions:     o.SessionDir,
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
	if o.ConflictTimeout > 0 {
		b.conflictTimeout = o.ConflictTimeout
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

// AllocateIDs implements backend.IDAllocator (Datastore's allocateIds).
func (b *Backend) AllocateIDs(ctx context.Context, app string, key backend.Key, n int) ([]backend.Key, error) {
	project, err := b.projectOf(app)
	if err != nil {
		return nil, err
	}
	return b.ds.AllocateIDs(ctx, project, key, n)
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
	return backend.Properties{Connections: b.uploads.max, MaxVersions: backend.MaxVersionsPerApp}
}

// Close implements backend.Backend. It stops a background listing still
// under way and waits for it, so nothing outlives the backend.
func (b *Backend) Close() error {
	b.mu.Lock()
	b.closed = true
	for _, stop := range b.stops {
		stop()
	}
	b.stops = nil
	b.mu.Unlock()
	b.prefetching.Wait()
	b.hc.CloseIdleConnections()
	return nil
}

// Prefetch implements backend.Prefetcher: it reads and lists app's code
// bucket in the background, so that listing (16 requests, seconds for a
// big bucket) overlaps the caller's hashing of the files instead of
// following it. An app the location forbids is left for MissingBlobs to
// report; a listing already under way for the project is not repeated.
func (b *Backend) Prefetch(ctx context.Context, app string) {
	project, err := b.projectOf(app)
	if err != nil || project == "" {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.pending[project] != nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	b.stops = append(b.stops, cancel)
	l := &listing{done: make(chan struct{}), head: make(chan struct{})}
	if b.pending == nil {
		b.pending = map[string]*listing{}
	}
	b.pending[project] = l
	b.prefetching.Add(1)
	go func() {
		defer b.prefetching.Done()
		defer close(l.done)
		var headOnce sync.Once
		closeHead := func(empty bool) { headOnce.Do(func() { l.empty = empty; close(l.head) }) }
		defer closeHead(false)
		defer crash.Recover(&l.err)
		l.present, l.err = b.listBeside(ctx, project, closeHead)
	}()
}

// listBeside lists the project's code bucket for Prefetch as soon as its
// name is known, while its lifecycle is read (one round trip before the
// listing's first page on every deploy, not beside it, was the lifecycle
// read's); the objects' freshness is judged once the lifecycle is known.
// A failure to read the bucket is the listing's.
func (b *Backend) listBeside(ctx context.Context, project string, head func(empty bool)) (map[string]bool, error) {
	bi := b.bucketEntry(project)
	loaded := make(chan struct{})
	var loadErr error
	go func() {
		defer close(loaded)
		defer crash.Recover(&loadErr)
		_, loadErr = b.loadedBucket(ctx, project, bi)
	}()
	select {
	case <-bi.named:
	case <-loaded:
		if loadErr != nil {
			return nil, loadErr
		}
	}
	present, err := b.listBucket(ctx, bi, head, loaded)
	<-loaded
	if loadErr != nil {
		return nil, loadErr
	}
	return present, err
}

// takeListing returns the background listing of project once it is done,
// and forgets it: it is used once, by the deploy's check of what is
// missing. ok is false when there is none or it failed (the caller lists
// afresh, and meets the error itself if it persists).
func (b *Backend) takeListing(ctx context.Context, project string) (present map[string]bool, ok bool, err error) {
	b.mu.Lock()
	l := b.pending[project]
	delete(b.pending, project)
	b.mu.Unlock()
	if l == nil {
		return nil, false, nil
	}
	select {
	case <-l.done:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if l.err != nil {
		var ce *crash.Error
		if errors.As(l.err, &ce) {
			return nil, false, l.err // a bug, not a failure listing afresh may cure
		}
		return nil, false, nil
	}
	return l.present, true, nil
}

// projectOf returns the project a call is about: the location's, which a
// call may repeat but never contradict (a deploy meant for the project the
// user named must not land in another), else the call's app.
func (b *Backend) projectOf(app string) (string, error) {
	p := app
	switch {
	case b.project != "" && app != "" && app != b.project:
		return "", fmt.Errorf("the backend location names project %q but the command targets app %q; make them match, or leave the project out of the location", b.project, app)
	case p == "":
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

// Settings are the choices the command line makes for this backend beyond
// its location (see the fields of Options of the same names). The factory
// is built with them, as restic hands each backend its own options
// struct: they are typed, and nothing travels in a context.
type Settings struct {
	CreateApp    string
	KeepPrevious bool
	SessionDir   string
	// ConflictTimeout and Notify: see Options.
	ConflictTimeout time.Duration
	Notify          func(msg string)
}

// Factory opens appengine: locations with its Settings.
type Factory struct {
	settings Settings
}

// NewFactory returns the factory for the "appengine" scheme; every backend
// it opens gets s.
func NewFactory(s Settings) Factory { return Factory{settings: s} }

// Scheme implements backend.Factory.
func (Factory) Scheme() string { return "appengine" }

// Open implements backend.Factory. Locations: appengine (project from -A),
// appengine:PROJECT or appengine://PROJECT, optionally followed by
// ?appengine=URL&storage=URL&logging=URL&datastore=URL overriding the API
// endpoints (as gcloud's api_endpoint_overrides) and create_app=REGION.
// The factory's Settings give the other choices.
func (f Factory) Open(ctx context.Context, location, rest string, env backend.Env) (backend.Backend, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	project, q, err := parseLocation(rest)
	if err != nil {
		return nil, err
	}
	set := f.settings
	var ep Endpoints
	for k := range q {
		switch k {
		case "create_app":
			set.CreateApp = q.Get(k)
		case "appengine":
			ep.AppEngine = q.Get(k)
		case "storage":
			ep.Storage = q.Get(k)
		case "logging":
			ep.Logging = q.Get(k)
		case "datastore":
			ep.Datastore = q.Get(k)
		default:
			return nil, fmt.Errorf("unknown location parameter %q: use appengine, storage, logging, datastore or create_app", k)
		}
	}
	b, err := New(Options{Project: project, HTTPClient: env.HTTPClient, Endpoints: ep,
		CreateApp: set.CreateApp, KeepPrevious: set.KeepPrevious, SessionDir: set.SessionDir,
		ConflictTimeout: set.ConflictTimeout, Notify: set.Notify})
	if err != nil {
		return nil, err
	}
	b.location = location
	return b, nil
}

// LocationProject implements backend.ProjectLocator: the project of
// appengine://PROJECT, "" for a bare appengine.
func (Factory) LocationProject(rest string) (string, error) {
	project, _, err := parseLocation(rest)
	return project, err
}

// parseLocation splits what follows "appengine:" into the project and the
// parameters after "?".
func parseLocation(rest string) (project string, q url.Values, err error) {
	rest, query, _ := strings.Cut(rest, "?")
	project = strings.TrimSuffix(strings.TrimPrefix(rest, "//"), "/")
	if q, err = url.ParseQuery(query); err != nil {
		return "", nil, fmt.Errorf("the endpoint overrides after ? are not a query string: %w", err)
	}
	return project, q, nil
}

// Compile-time checks of the capabilities.
var (
	_ backend.Backend      = (*Backend)(nil)
	_ backend.Deployer     = (*Backend)(nil)
	_ backend.Versions     = (*Backend)(nil)
	_ backend.IndexManager = (*Backend)(nil)
	_ backend.LogReader    = (*Backend)(nil)
	_ backend.ConfigStore  = (*Backend)(nil)
	_ backend.Entities     = (*Backend)(nil)
	_ backend.Prefetcher   = (*Backend)(nil)

	_ backend.ProjectLocator = Factory{}
)
