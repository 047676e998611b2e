package serve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/pyre"
)

// site is one deployed version, ready to serve: its handlers compiled and
// its files by path.
type site struct {
	service, version string
	created          time.Time
	status           backend.ServingStatus
	handlers         []*handler
	files            map[string]backend.FileRef
	errorPage        *errorPage // error_handlers' default entry, if its file was deployed
	run              *runSpec   // what its instances run
}

// handlerKind says what a handler does.
type handlerKind int

const (
	kindStaticFiles handlerKind = iota
	kindStaticDir
	kindScript
)

// handler is one compiled app.yaml handler.
type handler struct {
	m      *appconfig.URLMap
	kind   handlerKind
	url    pattern // full match of the path; static_dir: prefix, the rest in group "file"
	upload pattern // static_files: which paths may be served
	expiry time.Duration
}

// errorPage is a deployed error_handlers file.
type errorPage struct {
	file backend.FileRef
	mime string
}

// loadSite reads a version's manifest and compiles its app.yaml.
func loadSite(ctx context.Context, c backend.Contents, app string, v backend.Version) (*site, error) {
	spec, err := c.Manifest(ctx, app, v.Service, v.ID)
	if err != nil {
		return nil, fmt.Errorf("reading version %s of service %s: %w", v.ID, v.Service, err)
	}
	where := fmt.Sprintf("the app.yaml deployed as version %s of service %s", v.ID, v.Service)
	cfg, problems := appconfig.ParseApp(where, spec.Config)
	if cfg == nil {
		msg := "it is empty"
		if len(problems) > 0 {
			msg = problems[0].String()
		}
		return nil, fmt.Errorf("%s cannot be read (%s): deploy the version again", where, msg)
	}
	s := &site{service: v.Service, version: v.ID, created: v.Created, status: v.ServingStatus,
		files: make(map[string]backend.FileRef, len(spec.Files)), run: newRunSpec(app, v, cfg)}
	for _, f := range spec.Files {
		s.files[f.Path] = f
	}
	def := defaultExpiration
	if cfg.DefaultExpiration != "" {
		if def, err = cacheLifetime(cfg.DefaultExpiration); err != nil {
			return nil, fmt.Errorf("%s: default_expiration: %w", where, err)
		}
	}
	for i, m := range cfg.Handlers {
		h, err := compileHandler(m, def)
		if err != nil {
			return nil, fmt.Errorf("%s: handler %d (url %s): %w", where, i+1, m.URL, err)
		}
		s.handlers = append(s.handlers, h)
	}
	for _, eh := range cfg.ErrorHandlers {
		if eh.ErrorCode != "" && eh.ErrorCode != "default" {
			continue // over_quota, dos_api_denial and timeout never happen locally
		}
		if f, ok := s.files[eh.File]; ok {
			s.errorPage = &errorPage{file: f, mime: firstNonEmpty(eh.MimeType, f.MimeType, MimeType(eh.File))}
		}
	}
	return s, nil
}

// compileHandler translates a handler's Python regexes and expiration.
func compileHandler(m *appconfig.URLMap, defExpiry time.Duration) (*handler, error) {
	h := &handler{m: m, expiry: defExpiry}
	url := m.URL
	if url == "" {
		url = "/.*" // the SDK's default
	}
	var err error
	switch m.HandlerType() {
	case appconfig.HandlerStaticFiles:
		h.kind = kindStaticFiles
		if h.url, err = pyRegex(url, "^(?:", ")$"); err != nil {
			return nil, err
		}
		if h.upload, err = pyRegex(m.Upload, "^(?:", ")"); err != nil {
			return nil, fmt.Errorf("upload: %w", err)
		}
	case appconfig.HandlerStaticDir:
		h.kind = kindStaticDir
		// As the dev server: the url is a regex prefix and the rest of the
		// path names the file.
		if !strings.HasSuffix(url, "/") {
			url += "/"
		}
		if h.url, err = pyRegex(url, "^(?:", ")(?P<file>.*)$"); err != nil {
			return nil, err
		}
	default:
		h.kind = kindScript
		if h.url, err = pyRegex(url, "^(?:", ")$"); err != nil {
			return nil, err
		}
	}
	if m.Expiration != "" {
		if h.expiry, err = cacheLifetime(m.Expiration); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// pattern is a compiled url or upload regex (internal/pyre: Go's regexp,
// or for a pattern RE2 cannot run the backtracking engine).
type pattern = *pyre.Regexp

// pyRegex compiles a Python regex between prefix and suffix, as validate
// and ls_files read Python patterns, so requests are routed as App Engine
// routes them.
func pyRegex(re, prefix, suffix string) (pattern, error) {
	c, err := pyre.Compile(re, pyre.HoistGlobalFlags, prefix, suffix)
	var ue *pyre.UnsupportedError
	switch {
	case errors.As(err, &ue):
		return nil, fmt.Errorf("regex %q uses a construct neither Go's regular expressions nor the backtracking engine can run, so the local host cannot route it as App Engine would; rewrite the pattern without it (%v)", re, err)
	case err != nil:
		return nil, fmt.Errorf("regex %q: %w", re, err)
	}
	return c, nil
}

// expand substitutes \1…\9 in a static_files template with url groups.
func expand(template string, groups []string) string {
	var b strings.Builder
	for i := 0; i < len(template); i++ {
		c := template[i]
		if c == '\\' && i+1 < len(template) && template[i+1] >= '0' && template[i+1] <= '9' {
			if n := int(template[i+1] - '0'); n < len(groups) {
				b.WriteString(groups[n])
			}
			i++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
