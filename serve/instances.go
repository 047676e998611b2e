package serve

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/serve/instance"
)

// runSpec is what a site's instances run, without the layout directory
// (known once the version is materialized).
type runSpec struct {
	spec instance.Spec
	// code says whether the local host can run the version's code, and
	// why not when it cannot.
	code    bool
	whyNot  string
	runtime string
	// catchAll: URLs no handler takes go to the instance too (second
	// generation); python27 instances take their script handlers only.
	catchAll bool

	mu     sync.Mutex
	layout string // materialized directory, once known
}

// newRunSpec reads what running a version needs from its app.yaml.
func newRunSpec(app string, v backend.Version, cfg *appconfig.App) *runSpec {
	rt := firstNonEmpty(cfg.Runtime, v.Runtime)
	r := &runSpec{runtime: rt, spec: instance.Spec{
		Project: app, Key: instance.Key{Service: v.Service, Version: v.ID}, Runtime: rt,
		Entrypoint: cfg.Entrypoint, Main: cfg.Main, Env: cfg.EnvVariables, BuildEnv: cfg.BuildEnvVariables,
		InstanceClass: cfg.InstanceClass,
	}}
	for _, l := range cfg.Libraries {
		if r.spec.Libraries == nil {
			r.spec.Libraries = map[string]string{}
		}
		version := l.Version
		if sl, ok := appconfig.LookupLibrary(l.Name); ok && version == "latest" {
			version = sl.Latest
		}
		r.spec.Libraries[l.Name] = version
	}
	for _, s := range cfg.InboundServices {
		if s == "warmup" {
			r.spec.Warmup = true
		}
	}
	switch {
	case cfg.ManualScaling != nil:
		r.spec.Scaling = instance.Manual
	case cfg.BasicScaling != nil:
		r.spec.Scaling = instance.Basic
		if d, err := time.ParseDuration(cfg.BasicScaling.IdleTimeout); err == nil {
			r.spec.IdleTimeout = d
		}
	}
	switch {
	case cfg.IsSecondGen() || strings.HasPrefix(rt, "ruby"):
		r.code, r.catchAll = true, true
	case rt == "python27":
		r.code = true
	default:
		r.whyNot = fmt.Sprintf("the local host runs the code of second-generation runtimes only, not %s", rt)
	}
	return r
}

// runsCode reports whether requests no static handler takes go to the
// version's instance.
func (s *Server) runsCode(st *site) bool { return s.inst != nil && st.run.code }

// appEngineHeader reports whether an inbound header is one App Engine
// sets itself, which a client may not send: every X-Google-* name and the
// X-Appengine-* names, compared without case.
func appEngineHeader(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "x-google-") || strings.HasPrefix(n, "x-appengine-") || strings.EqualFold(name, instance.ScriptHeader)
}

// proxy sends the request to the version's instance, starting it when
// none runs, with App Engine's request headers, and adds the lines the
// instance wrote meanwhile to the request's log. A request that could not
// even connect (the instance just died) goes to a new instance, once, when
// it has no body to replay.
func (s *Server) proxy(x *exchange) {
	trace := traceContext(x.r.Header.Get("X-Cloud-Trace-Context"))
	for attempt := 0; ; attempt++ {
		inst, err := s.instanceFor(x.r.Context(), x.site)
		if err != nil {
			s.instanceError(x, err)
			return
		}
		retry := attempt == 0 && (x.r.Body == nil || x.r.Body == http.NoBody || x.r.ContentLength == 0)
		if !s.proxyTo(x, inst, trace, retry) {
			return
		}
		s.inst.Refused(inst)
	}
}

// proxyTo sends the request to inst. It reports true, having answered
// nothing, when mayRetry and the instance refused the connection.
func (s *Server) proxyTo(x *exchange, inst *instance.Instance, trace string, mayRetry bool) (refused bool) {
	req := inst.Begin(strings.SplitN(trace, "/", 2)[0])
	defer func() {
		x.appLogs = append(x.appLogs, inst.End(req, s.cfg.Now())...)
	}()
	rp := &httputil.ReverseProxy{
		Transport:  s.transport,
		BufferPool: &s.buffers,
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL.Scheme = "http"
			pr.Out.URL.Host = inst.Addr
			pr.Out.Host = x.r.Host
			s.appEngineHeaders(x, pr.Out.Header, trace)
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var op *net.OpError
			if mayRetry && errors.As(err, &op) && op.Op == "dial" {
				refused = true
				return
			}
			if errors.Is(err, context.Canceled) {
				return
			}
			// An instance that died with the request is known dead before
			// the client hears of it, so its next request starts another.
			inst.WaitExit(500 * time.Millisecond)
			x.logf(backend.Error, "The instance %s did not answer: %v", inst.ID, err)
			s.plainError(x, http.StatusBadGateway, fmt.Sprintf("The instance of version %s of service %s did not answer the request (%v); it may have crashed: see serve's output and request_logs --include_all.",
				inst.Spec.Version, inst.Spec.Service, err))
		},
	}
	rp.ServeHTTP(x, x.r)
	return refused
}

// appEngineHeaders replaces whatever App Engine's own headers the client
// sent with the host's values (a platform request, cron's, keeps those it
// set), as App Engine's front end does.
func (s *Server) appEngineHeaders(x *exchange, h http.Header, trace string) {
	if !x.platform {
		for name := range h {
			if appEngineHeader(name) {
				delete(h, name)
			}
		}
	}
	ip := s.clientIP(x.r)
	set := func(k, v string) {
		if h.Get(k) == "" {
			h.Set(k, v)
		}
	}
	set("X-Appengine-Country", "ZZ")
	set("X-Appengine-Region", "?")
	set("X-Appengine-City", "?")
	set("X-Appengine-Citylatlong", "0.000000,0.000000")
	set("X-Appengine-User-Ip", ip)
	set("X-Appengine-Default-Version-Hostname", firstNonEmpty(s.cfg.Addr, x.r.Host))
	set("X-Appengine-Request-Log-Id", x.logID)
	h.Set("X-Cloud-Trace-Context", trace)
	if x.script != "" {
		h.Set(instance.ScriptHeader, x.script)
	}
	proto := "http"
	if x.r.TLS != nil {
		proto = "https"
		set("X-Appengine-Https", "on")
	} else {
		set("X-Appengine-Https", "off")
	}
	h.Set("X-Forwarded-Proto", proto)
	// The client's address, as App Engine's front end passes it (the
	// proxy drops what the client sent; a cron run's is 0.1.0.2).
	h.Set("X-Forwarded-For", ip)
	if u, ok := readUser(x.r); ok {
		// The signed-in user, as the dev server passes it to the app.
		name, domain, _ := strings.Cut(u.email, "@")
		h.Set("X-Appengine-User-Email", u.email)
		h.Set("X-Appengine-User-Nickname", name)
		h.Set("X-Appengine-Auth-Domain", firstNonEmpty(domain, "gmail.com"))
		h.Set("X-Appengine-User-Id", u.id)
		admin := "0"
		if u.admin {
			admin = "1"
		}
		h.Set("X-Appengine-User-Is-Admin", admin)
	}
}

// traceContext is the request's X-Cloud-Trace-Context, or a new one
// (TRACE_ID/SPAN_ID;o=1) when the client sent none or a malformed one.
func traceContext(in string) string {
	id, _, _ := strings.Cut(in, "/")
	if len(id) == 32 && isHex(id) {
		return in
	}
	var b [40]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d;o=1", hex.EncodeToString(b[:16]), binary.BigEndian.Uint64(b[16:24])>>1)
}

func isHex(s string) bool {
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// instanceFor returns the running instance of a site, laying the version
// out and starting one when needed.
func (s *Server) instanceFor(ctx context.Context, st *site) (*instance.Instance, error) {
	st.run.mu.Lock()
	if st.run.layout == "" {
		dir, err := s.cfg.Files.Materialize(ctx, s.cfg.App, st.service, st.version)
		if err != nil {
			st.run.mu.Unlock()
			return nil, err
		}
		st.run.layout = dir
	}
	spec := st.run.spec
	spec.Dir = st.run.layout
	st.run.mu.Unlock()
	return s.inst.Get(ctx, spec)
}

// instanceError answers a request whose instance could not be started.
func (s *Server) instanceError(x *exchange, err error) {
	err = fmt.Errorf("starting an instance of version %s of service %s: %w", x.site.version, x.site.service, err)
	x.logf(backend.Critical, "%v", err)
	s.cfg.OnError(err)
	s.plainError(x, http.StatusBadGateway, err.Error())
}

// onStart sends a new instance its start request: /_ah/start for manual
// and basic scaling, /_ah/warmup with inbound_services: warmup. Each is a
// request of its own in the logs. Manual scaling counts 2xx and 404 as
// started.
func (s *Server) onStart(ctx context.Context, inst *instance.Instance) error {
	path := ""
	switch {
	case inst.Spec.Scaling != instance.Automatic:
		path = "/_ah/start"
	case inst.Spec.Warmup:
		path = "/_ah/warmup"
	default:
		return nil
	}
	host := inst.Spec.Version + "-dot-" + inst.Spec.Service + "-dot-" + s.cfg.App
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+path, nil)
	if err != nil {
		return err
	}
	r.RemoteAddr = "0.1.0.3:0" // App Engine's own address for its requests
	w := &discard{h: http.Header{}}
	s.serveInstance(w, r, inst)
	if path == "/_ah/start" && w.status/100 != 2 && w.status != http.StatusNotFound {
		return fmt.Errorf("its /_ah/start request answered %d", w.status)
	}
	return nil
}

// serveInstance sends a request straight to an instance being started,
// recorded as any other.
func (s *Server) serveInstance(w http.ResponseWriter, r *http.Request, inst *instance.Instance) {
	start := s.cfg.Now()
	x := s.newExchange(w, r, true)
	x.service = inst.Spec.Service
	s.mu.Lock()
	st := s.sites[inst.Spec.Service+"\x00"+inst.Spec.Version]
	s.mu.Unlock()
	x.site = st
	s.proxyTo(x, inst, traceContext(""), false)
	s.finish(x, start)
}

// discard is a ResponseWriter that keeps only the status.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header { return d.h }
func (d *discard) WriteHeader(c int) {
	if d.status == 0 {
		d.status = c
	}
}
func (d *discard) Write(p []byte) (int, error) {
	d.WriteHeader(http.StatusOK)
	return len(p), nil
}

// bufferPool lends the proxy its copy buffers: without one, every proxied
// response allocated 32 KiB, most of a request's garbage.
type bufferPool struct{ p sync.Pool }

func (b *bufferPool) Get() []byte {
	if buf, ok := b.p.Get().(*[]byte); ok {
		return *buf
	}
	return make([]byte, 32<<10)
}

func (b *bufferPool) Put(buf []byte) { b.p.Put(&buf) }

// newTransport is the proxy's connection pool to instances: loopback only,
// no proxy, no compression added.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
}

// Watch keeps the instances in step with the store until ctx ends: every
// Config.WatchEvery it stops the instances of versions stopped
// (stop_module_version), deleted or redeployed, and those idle too long.
func (s *Server) Watch(ctx context.Context) {
	if s.inst == nil {
		return
	}
	t := time.NewTicker(s.cfg.WatchEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s.reconcile(ctx)
	}
}

// reconcile stops the instances whose version no longer serves as it did.
func (s *Server) reconcile(ctx context.Context) {
	running := s.inst.Running()
	if len(running) > 0 {
		vs, err := s.versions(ctx)
		if err != nil {
			// A listing cut short because serve is stopping is not a
			// failure to report.
			if ctx.Err() != nil {
				return
			}
			s.cfg.OnError(fmt.Errorf("listing versions of %s: %w", s.cfg.App, err))
			return
		}
		byKey := map[instance.Key]backend.Version{}
		for _, v := range vs {
			byKey[instance.Key{Service: v.Service, Version: v.ID}] = v
		}
		for k := range running {
			v, ok := byKey[k]
			s.mu.Lock()
			st := s.sites[k.Service+"\x00"+k.Version]
			s.mu.Unlock()
			switch {
			case !ok:
				s.inst.Stop(k, "the version was deleted")
			case v.ServingStatus == backend.Stopped:
				s.inst.Stop(k, "the version was stopped")
			case st != nil && !st.created.Equal(v.Created):
				s.inst.Stop(k, "the version was redeployed")
			}
		}
	}
	s.inst.StopIdle(s.cfg.Now())
}

// Warm starts an instance of every serving version that receives traffic
// or uses manual scaling, as App Engine keeps them running (serve --warm).
func (s *Server) Warm(ctx context.Context) error {
	if s.inst == nil {
		return nil
	}
	vs, err := s.cfg.Versions.ListVersions(ctx, s.cfg.App, "")
	if err != nil {
		return fmt.Errorf("listing versions of %s: %w", s.cfg.App, err)
	}
	var errs []error
	for _, v := range vs {
		if v.ServingStatus == backend.Stopped {
			continue
		}
		st, err := s.site(ctx, v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !s.runsCode(st) || (v.Traffic == 0 && st.run.spec.Scaling != instance.Manual) {
			continue
		}
		if _, err := s.instanceFor(ctx, st); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
