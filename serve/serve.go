package serve

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/serve/instance"
)

// Config is what a Server serves and where it records.
type Config struct {
	App      string
	Versions backend.Versions
	Contents backend.Contents
	// Logs records every request; nil records nothing.
	Logs backend.LogWriter
	// Spool, when set (with Logs), takes each request's log before the
	// response, in one append, and is folded into the store off the
	// request path; Logs writes a log only when the spool refuses it. The
	// Server owns it: Close closes it.
	Spool backend.LogSpool
	// BatchSize bounds how many logs one write holds (default 500);
	// FlushEvery is how long a failed write waits to be tried again
	// (default 250ms).
	BatchSize  int
	FlushEvery time.Duration
	// OnError hears about failures no request can report, such as a log
	// batch that could not be written (it is kept and retried).
	OnError func(error)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Addr is the host[:port] serve was started with, for the absolute
	// URLs the server builds (secure: always): a client's Host header is
	// not trusted for them.
	Addr string
	// TrustProxy believes X-Forwarded-Proto, X-Forwarded-Host and
	// X-Forwarded-For, which a reverse proxy in front sets and any direct
	// client could forge.
	TrustProxy bool
	// Timeouts bound each connection; zero fields take the defaults.
	Timeouts Timeouts
	// EnforceSecure applies handlers' secure: settings (redirects between
	// http and https). Off, as in the SDK's dev server, a plain-http local
	// host serves secure: always pages as they are; serve turns it on when
	// it speaks https (--https) or sits behind a trusted proxy.
	EnforceSecure bool

	// Instances, when set, runs the versions' code: requests for script
	// handlers, and every URL no static handler takes, go to an instance of
	// the version (package instance). Files lays versions out for them and
	// is then required. Nil: script handlers answer 502.
	Instances *instance.Config
	Files     backend.Materializer
	// WatchEvery is how often Watch looks for stopped, redeployed and idle
	// versions (default 1s).
	WatchEvery time.Duration
	// Configs, when set, gives dispatch.yaml's rules, which pick the
	// service of a request to the application's own host names.
	Configs backend.ConfigStore
}

// Timeouts bound how long a client may hold a connection.
type Timeouts struct {
	ReadHeader time.Duration // the request line and headers (default 30s)
	Read       time.Duration // the whole request, body included (default 60s)
	Write      time.Duration // from the end of the headers to the end of the response (default 5m)
	Idle       time.Duration // a keep-alive connection between requests (default 2m)
}

// Defaults: a request gets App Engine's 60 s deadline to arrive; the write
// bound lets a 32 MiB static file reach a client at ~110 KiB/s.
var defaultTimeouts = Timeouts{ReadHeader: 30 * time.Second, Read: 60 * time.Second, Write: 5 * time.Minute, Idle: 2 * time.Minute}

// MaxRequestBody is App Engine's limit on a request's size, 32 MiB.
const MaxRequestBody = 32 << 20

// Server is an http.Handler serving one application's deployed versions.
type Server struct {
	cfg Config
	rec *recorder

	mu    sync.Mutex
	sites map[string]*site // by service + "\x00" + version

	// checked holds the digests of blobs whose content this server has
	// verified (see verified).
	checked sync.Map

	inst      *instance.Manager // nil: no code runs
	transport *http.Transport
	buffers   bufferPool
	rules     dispatchCache
	listed    versionList
}

// versionList is the version list read last, kept while the store's stamp
// (backend.VersionsStamper) says no version changed: every request is
// routed by it, and a query per request cost more than the proxying.
type versionList struct {
	mu    sync.Mutex
	stamp string
	vs    []backend.Version // shared by the requests routed by it: read-only
}

// versions lists the application's versions, as the store has them now.
func (s *Server) versions(ctx context.Context) ([]backend.Version, error) {
	st, ok := s.cfg.Versions.(backend.VersionsStamper)
	if !ok {
		return s.cfg.Versions.ListVersions(ctx, s.cfg.App, "")
	}
	// The stamp is read before the list, so a list is never kept under a
	// stamp older than itself.
	stamp := st.VersionsStamp()
	c := &s.listed
	if stamp != "" {
		c.mu.Lock()
		vs, hit := c.vs, c.stamp == stamp
		c.mu.Unlock()
		if hit {
			return vs, nil
		}
	}
	vs, err := s.cfg.Versions.ListVersions(ctx, s.cfg.App, "")
	if err == nil && stamp != "" {
		c.mu.Lock()
		c.stamp, c.vs = stamp, vs
		c.mu.Unlock()
	}
	return vs, err
}

// New returns a server; Close it to drain the request logs.
func New(cfg Config) (*Server, error) {
	if cfg.App == "" || cfg.Versions == nil || cfg.Contents == nil {
		return nil, errors.New("serve: an application, its versions and its contents are required")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OnError == nil {
		cfg.OnError = func(error) {}
	}
	if cfg.WatchEvery <= 0 {
		cfg.WatchEvery = time.Second
	}
	cfg.Timeouts = cfg.Timeouts.withDefaults()
	s := &Server{cfg: cfg, sites: map[string]*site{}, transport: newTransport()}
	if cfg.Instances != nil {
		if cfg.Files == nil {
			return nil, errors.New("serve: running instances needs a store that lays versions out as files")
		}
		ic := *cfg.Instances
		ic.OnStart = s.onStart
		if ic.Now == nil {
			ic.Now = cfg.Now
		}
		m, err := instance.NewManager(ic)
		if err != nil {
			return nil, err
		}
		s.inst = m
	}
	if cfg.Logs != nil {
		s.rec = newRecorder(cfg)
	}
	return s, nil
}

func (t Timeouts) withDefaults() Timeouts {
	pick := func(d, def time.Duration) time.Duration {
		if d > 0 {
			return d
		}
		return def
	}
	return Timeouts{ReadHeader: pick(t.ReadHeader, defaultTimeouts.ReadHeader), Read: pick(t.Read, defaultTimeouts.Read),
		Write: pick(t.Write, defaultTimeouts.Write), Idle: pick(t.Idle, defaultTimeouts.Idle)}
}

// HTTPServer returns an http.Server serving s with its timeouts, so that
// a client dribbling a body or idling on a keep-alive is cut off.
func (s *Server) HTTPServer() *http.Server {
	t := s.cfg.Timeouts
	return &http.Server{Handler: s, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read,
		WriteTimeout: t.Write, IdleTimeout: t.Idle}
}

// Close stops the instances (SIGTERM, then SIGKILL after their grace
// period), then waits for every recorded request to be written, or for ctx
// to end. The Server must receive no request after Close.
func (s *Server) Close(ctx context.Context) error {
	if s.inst != nil {
		s.inst.Close()
	}
	s.transport.CloseIdleConnections()
	if s.rec == nil {
		return nil
	}
	return s.rec.close(ctx)
}

// Recorded returns how many requests have been put on record: written to
// the log store, or spooled (Config.Spool).
func (s *Server) Recorded() int {
	if s.rec == nil {
		return 0
	}
	return s.rec.written()
}

// exchange is one request being served: what the log will say.
type exchange struct {
	w       http.ResponseWriter
	r       *http.Request
	status  int
	bytes   int64
	site    *site
	service string
	appLogs []backend.AppLogLine
	now     func() time.Time
	// platform: the request comes from the host itself (a start request,
	// a cron run), so the App Engine headers it carries are kept.
	platform bool
	logID    string
	script   string // the script handler's module.app, for a python27 instance
}

// Unwrap lets http.ResponseController (and the proxy's flushes) reach the
// connection's writer.
func (x *exchange) Unwrap() http.ResponseWriter { return x.w }

func (x *exchange) Header() http.Header { return x.w.Header() }

func (x *exchange) WriteHeader(code int) {
	if x.status == 0 {
		x.status = code
	}
	x.w.WriteHeader(code)
}

func (x *exchange) Write(p []byte) (int, error) {
	if x.status == 0 {
		x.status = http.StatusOK
	}
	n, err := x.w.Write(p)
	x.bytes += int64(n)
	return n, err
}

// logf adds an app log line: the host's notes on what it did, as App
// Engine's front end adds its own lines (a missing static file, say).
func (x *exchange) logf(level backend.Severity, format string, args ...any) {
	x.appLogs = append(x.appLogs, backend.AppLogLine{Time: x.now(), Level: level, Message: fmt.Sprintf(format, args...)})
}

// ServeHTTP routes, serves and records one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	crash.Point("serve.handler")
	s.serveHTTP(w, r, false)
}

// ServePlatform serves a request the host itself makes, as App Engine's
// cron service and task queues do: routed, served and recorded as any
// other, but the X-Appengine-* headers it carries (X-Appengine-Cron: true)
// reach the app instead of being removed as a client's would be. r's Host
// picks the version (VERSION-dot-SERVICE-dot-APP) or, with dispatch.yaml,
// the service.
func (s *Server) ServePlatform(w http.ResponseWriter, r *http.Request) {
	s.serveHTTP(w, r, true)
}

func (s *Server) newExchange(w http.ResponseWriter, r *http.Request, platform bool) *exchange {
	return &exchange{w: w, r: r, now: s.cfg.Now, service: "default", platform: platform, logID: newLogID()}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request, platform bool) {
	start := s.cfg.Now()
	x := s.newExchange(w, r, platform)
	if r.ContentLength > MaxRequestBody {
		x.logf(backend.Info, "Request body of %d bytes refused: App Engine's limit is %d.", r.ContentLength, MaxRequestBody)
		s.plainError(x, http.StatusRequestEntityTooLarge, tooLarge)
	} else {
		r.Body = http.MaxBytesReader(x, r.Body, MaxRequestBody)
		s.serve(x)
	}
	s.finish(x, start)
}

// finish completes a response and records its log.
func (s *Server) finish(x *exchange, start time.Time) {
	r := x.r
	if x.status == 0 {
		x.WriteHeader(http.StatusOK)
	}
	if s.rec == nil {
		return
	}
	l := backend.RequestLog{
		Time: start, IP: s.clientIP(r), Method: r.Method, Resource: r.URL.RequestURI(),
		HTTPVersion: r.Proto, Status: x.status, Bytes: x.bytes, Referrer: r.Referer(),
		UserAgent: r.UserAgent(), Host: r.Host, Latency: s.cfg.Now().Sub(start),
		App: s.cfg.App, Service: x.service, AppLogs: x.appLogs,
	}
	if x.site != nil {
		l.Version = x.site.version
	}
	// Before the handler returns, so before the response completes: a
	// client that got its answer finds its request in the log.
	s.rec.record(r.Context(), l)
}

const tooLarge = "The request is larger than 32 MiB, App Engine's limit on a request."

// clientIP is the client's address: the connection's, or behind a trusted
// proxy the first address of X-Forwarded-For (the client the proxy heard),
// so the log and the traffic split see clients, not the proxy.
func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustProxy {
		first, _, _ := strings.Cut(r.Header.Get("X-Forwarded-For"), ",")
		if ip := strings.TrimSpace(first); net.ParseIP(ip) != nil {
			return ip
		}
	}
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

func (s *Server) serve(x *exchange) {
	site, status, msg := s.route(x)
	if site == nil {
		x.logf(backend.Warning, "%s", msg)
		s.fail(x, status, msg)
		return
	}
	x.site = site
	if x.r.URL.Path == loginPath {
		s.login(x)
		return
	}
	if site.status == backend.Stopped {
		if s.inst != nil {
			s.inst.Stop(instance.Key{Service: site.service, Version: site.version}, "the version was stopped")
		}
		msg := fmt.Sprintf("Version %s of service %s is stopped; start it with appcfg start_module_version.", site.version, site.service)
		x.logf(backend.Warning, "%s", msg)
		s.fail(x, http.StatusServiceUnavailable, msg)
		return
	}
	s.dispatch(x)
}

// route picks the version that serves the request: VERSION-dot-SERVICE or
// SERVICE (or VERSION of the default service) as the host name's first
// label, with or without App Engine's -dot-APP after them, else the
// default service; then the traffic split. On failure it returns the
// status and message to answer.
func (s *Server) route(x *exchange) (*site, int, string) {
	ctx := x.r.Context()
	vs, err := s.versions(ctx)
	if err != nil {
		s.cfg.OnError(fmt.Errorf("listing versions of %s: %w", s.cfg.App, err))
		return nil, http.StatusInternalServerError, "The local host could not read the deployed versions: " + err.Error()
	}
	if len(vs) == 0 {
		return nil, http.StatusNotFound, fmt.Sprintf("The application %s has no deployed version: deploy one with appcfg update.", s.cfg.App)
	}
	service, version := s.hostTarget(x.r.Host, vs)
	if service == "default" && version == "" {
		if d := s.dispatchService(ctx, x.r.Host, x.r.URL.Path); d != "" {
			service = d
		}
	}
	x.service = service
	var v *backend.Version
	if version != "" {
		for i := range vs {
			if vs[i].Service == service && vs[i].ID == version {
				v = &vs[i]
			}
		}
		if v == nil {
			return nil, http.StatusNotFound, fmt.Sprintf("There is no version %s of service %s.", version, service)
		}
	} else if v = pickByTraffic(vs, service, s.clientIP(x.r)); v == nil {
		return nil, http.StatusNotFound, fmt.Sprintf("No version of service %s receives traffic: route some with appcfg set_default_version.", service)
	}
	site, err := s.site(ctx, *v)
	if err != nil {
		s.cfg.OnError(err)
		return nil, http.StatusInternalServerError, "The local host could not load the version: " + err.Error()
	}
	return site, 0, ""
}

// hostTarget reads the service and version a host name asks for; version
// "" means by traffic.
func (s *Server) hostTarget(host string, vs []backend.Version) (service, version string) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	label, _, _ := strings.Cut(host, ".")
	parts := strings.Split(strings.ToLower(label), "-dot-")
	if n := len(parts); n >= 2 && parts[n-1] == strings.ToLower(s.cfg.App) {
		// App Engine's names end with the application: SERVICE-dot-APP,
		// VERSION-dot-SERVICE-dot-APP.
		parts = parts[:n-1]
	}
	has := func(service, version string) bool {
		for _, v := range vs {
			if v.Service == service && (version == "" || v.ID == version) {
				return true
			}
		}
		return false
	}
	switch {
	case len(parts) >= 2:
		return parts[1], parts[0]
	case has(parts[0], ""):
		return parts[0], ""
	case has("default", parts[0]):
		return "default", parts[0]
	}
	return "default", ""
}

// pickByTraffic chooses among the service's versions with traffic, by a
// hash of the client address, so one client keeps seeing one version (App
// Engine's split by IP).
func pickByTraffic(vs []backend.Version, service, ip string) *backend.Version {
	var cands []*backend.Version
	total := 0.0
	for i := range vs {
		if vs[i].Service == service && vs[i].Traffic > 0 {
			cands = append(cands, &vs[i])
			total += vs[i].Traffic
		}
	}
	if len(cands) == 0 {
		return nil
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].ID < cands[j].ID })
	h := fnv.New32a()
	h.Write([]byte(ip))
	point := float64(h.Sum32()) / (1 << 32) * total
	for _, c := range cands {
		if point < c.Traffic {
			return c
		}
		point -= c.Traffic
	}
	return cands[len(cands)-1]
}

// site returns the compiled version, loading it when it is new or was
// redeployed since.
func (s *Server) site(ctx context.Context, v backend.Version) (*site, error) {
	key := v.Service + "\x00" + v.ID
	s.mu.Lock()
	cached := s.sites[key]
	s.mu.Unlock()
	if cached != nil && cached.created.Equal(v.Created) {
		if cached.status != v.ServingStatus {
			c := *cached
			c.status = v.ServingStatus
			cached = &c
		}
		return cached, nil
	}
	loaded, err := loadSite(ctx, s.cfg.Contents, s.cfg.App, v)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.sites[key] = loaded
	s.mu.Unlock()
	return loaded, nil
}

// newLogID is a request log id for X-Appengine-Request-Log-Id.
func newLogID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
