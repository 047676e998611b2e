package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// dispatch runs the first handler whose url matches, as App Engine does.
func (s *Server) dispatch(x *exchange) {
	p := x.r.URL.Path
	for _, h := range x.site.handlers {
		groups := h.url.FindStringSubmatch(p)
		if groups == nil {
			continue
		}
		var file string
		switch h.kind {
		case kindStaticFiles:
			file = expand(h.m.StaticFiles, groups)
			_, deployed := x.site.files[file]
			if (!deployed || !h.upload.MatchString(file)) && isTrue(h.m.RequireMatchingFile) {
				continue // the next handler may match
			}
		case kindStaticDir:
			file = staticDirFile(h.m.StaticDir, groups[h.url.SubexpIndex("file")])
		}
		if s.redirectSecure(x, h) || !s.allowed(x, h) {
			return
		}
		switch h.kind {
		case kindScript:
			s.script(x, h)
		case kindStaticFiles:
			if !h.upload.MatchString(file) {
				file = "" // not uploaded as a static file of this handler
			}
			s.static(x, h, file)
		default:
			s.static(x, h, file)
		}
		return
	}
	if s.runsCode(x.site) && x.site.run.catchAll {
		// A second-generation app answers every URL its static handlers
		// leave.
		s.proxy(x)
		return
	}
	x.logf(backend.Info, "No handlers matched this URL.")
	s.fail(x, http.StatusNotFound, "The requested URL "+p+" was not found on this server.")
}

// staticDirFile joins a static_dir and the rest of the path, refusing
// paths that climb out of it ("" then).
func staticDirFile(dir, rest string) string {
	if rest == "" || strings.HasSuffix(rest, "/") {
		return ""
	}
	clean := path.Clean("/" + rest)
	if clean != "/"+rest {
		return "" // "..", "//" or "." segments: App Engine serves nothing either
	}
	return path.Join(dir, clean[1:])
}

func isTrue(b *bool) bool { return b != nil && *b }

// redirectSecure enforces secure: always (to https) and never (to http),
// and reports whether it redirected. The target is on the address serve was
// started with: the Host header is the client's to choose, and a redirect
// built from it could be cached for others (or a proxy's, with TrustProxy).
func (s *Server) redirectSecure(x *exchange, h *handler) bool {
	if !s.cfg.EnforceSecure {
		return false
	}
	https := x.r.TLS != nil || s.cfg.TrustProxy && strings.EqualFold(x.r.Header.Get("X-Forwarded-Proto"), "https")
	var scheme string
	switch {
	case h.m.Secure == "always" && !https:
		scheme = "https"
	case h.m.Secure == "never" && https:
		scheme = "http"
	default:
		return false
	}
	code := http.StatusFound
	if c, err := strconv.Atoi(h.m.RedirectHTTPResponseCode); err == nil {
		code = c
	}
	target := scheme + "://" + s.publicHost(x.r) + x.r.URL.RequestURI()
	x.logf(backend.Debug, "secure: %s: redirecting to %s", h.m.Secure, target)
	http.Redirect(x, x.r, target, code)
	return true
}

// publicHost is the host[:port] clients reach this server at: the proxy's
// X-Forwarded-Host when it is trusted, else the address serve was started
// with (the Host header only when that is unknown, as in tests).
func (s *Server) publicHost(r *http.Request) string {
	if s.cfg.TrustProxy {
		if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
			host, _, _ := strings.Cut(fh, ",") // the first proxy's
			return strings.TrimSpace(host)
		}
		return r.Host
	}
	return firstNonEmpty(s.cfg.Addr, r.Host)
}

// allowed enforces login: required and admin, answering itself when the
// request may not go on.
func (s *Server) allowed(x *exchange, h *handler) bool {
	// The host's own requests (cron, /_ah/start, warmup) pass: App Engine
	// lets its cron service reach login: admin URLs.
	if x.platform || h.m.Login != "required" && h.m.Login != "admin" {
		return true
	}
	u, ok := readUser(x.r)
	switch {
	case ok && (h.m.Login == "required" || u.admin):
		return true
	case ok:
		msg := fmt.Sprintf("Current logged in user %s is not authorized to view this page.", u.email)
		x.logf(backend.Info, "login: admin: %s is not an administrator", u.email)
		s.fail(x, http.StatusUnauthorized, msg)
		return false
	case h.m.AuthFailAction == "unauthorized":
		x.logf(backend.Info, "login: %s: not signed in, auth_fail_action: unauthorized", h.m.Login)
		s.fail(x, http.StatusUnauthorized, "Login required to view this page.")
		return false
	}
	target := loginPath + "?continue=" + urlQueryEscape(requestURL(x.r))
	x.logf(backend.Debug, "login: %s: redirecting to the sign-in page", h.m.Login)
	http.Redirect(x, x.r, target, http.StatusFound)
	return false
}

func requestURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

// script answers for a script handler: the version's instance, or 502
// saying why the local host cannot run it.
func (s *Server) script(x *exchange, h *handler) {
	if s.runsCode(x.site) {
		x.script = h.m.Script
		s.proxy(x)
		return
	}
	target := firstNonEmpty(h.m.Script, "the api_endpoint")
	why := x.site.run.whyNot
	if s.inst == nil {
		why = "this server was started without instances"
	}
	x.logf(backend.Error, "Script %s was not run: %s.", target, why)
	x.Header().Set("Content-Type", "text/plain; charset=utf-8")
	x.Header().Set("X-Content-Type-Options", "nosniff")
	x.WriteHeader(http.StatusBadGateway)
	fmt.Fprintf(x, "502 Bad Gateway\n\nThe handler for %s runs the script %s, and the local host does not run application code here: %s.\n"+
		"It serves the version's static files. Deploy to App Engine, or run the app with its runtime, to serve this URL.\n",
		x.r.URL.Path, target, why)
}

// static serves a deployed file with the handler's type, caching and
// headers.
func (s *Server) static(x *exchange, h *handler, file string) {
	f, ok := x.site.files[file]
	if !ok {
		if file != "" {
			x.logf(backend.Warning, "Static file referenced by handler not found: %s", file)
		}
		s.fail(x, http.StatusNotFound, "The requested URL "+x.r.URL.Path+" was not found on this server.")
		return
	}
	if x.r.Method != http.MethodGet && x.r.Method != http.MethodHead {
		x.Header().Set("Allow", "GET, HEAD")
		s.fail(x, http.StatusMethodNotAllowed, "Static files answer GET and HEAD only.")
		return
	}
	hdr := x.Header()
	hdr.Set("Content-Type", firstNonEmpty(h.m.MimeType, f.MimeType, MimeType(f.Path)))
	hdr.Set("ETag", `"`+f.SHA1+`"`)
	secs := int64(h.expiry / time.Second)
	hdr.Set("Cache-Control", "public, max-age="+strconv.FormatInt(secs, 10))
	hdr.Set("Expires", s.cfg.Now().Add(h.expiry).UTC().Format(http.TimeFormat))
	for k, v := range h.m.HTTPHeaders {
		hdr.Set(k, v)
	}
	s.sendBlob(x, f, x.site.created, http.StatusOK)
}

// sendBlob sends a file's content, never bytes that are not the content
// deployed: the first time this server sends a blob it reads it through its
// SHA-1 and size before a byte goes out, and answers 500 when they differ
// (a file damaged in the store). Seekable content goes through
// http.ServeContent for ranges and conditional requests.
func (s *Server) sendBlob(x *exchange, f backend.FileRef, modTime time.Time, status int) {
	rc, err := s.cfg.Contents.OpenBlob(x.r.Context(), s.cfg.App, f.SHA1)
	if err != nil {
		x.logf(backend.Error, "Reading %s: %v", f.Path, err)
		switch {
		case errors.Is(err, backend.ErrNotFound):
			s.plainError(x, http.StatusNotFound, "The content of "+f.Path+" is missing from the local store: run appcfg update for this version again, which sends what the store lacks.")
		case errors.Is(err, backend.ErrDamagedRecord):
			// Damage the store's owner must repair: printed, as damaged
			// content is, not only logged.
			s.cfg.OnError(fmt.Errorf("serving %s: %w", f.Path, err))
			s.plainError(x, http.StatusInternalServerError, "The local store's record of the content of "+f.Path+" is damaged, so it is not sent: run appcfg verify --repair, then appcfg update for this version.")
		default:
			s.plainError(x, http.StatusInternalServerError, "The local store could not read "+f.Path+".")
		}
		return
	}
	defer rc.Close()
	content, err := s.verified(x.r.Context(), f, rc)
	if err != nil {
		err = fmt.Errorf("serving %s: %w", f.Path, err)
		x.logf(backend.Error, "%v", err)
		s.cfg.OnError(err)
		if errors.Is(err, backend.ErrDigestMismatch) {
			s.plainError(x, http.StatusInternalServerError, "The local store's copy of "+f.Path+" is damaged (its content does not match its SHA-1), so it is not sent: run appcfg verify --repair, then appcfg update for this version.")
			return
		}
		s.plainError(x, http.StatusInternalServerError, "The local store could not read "+f.Path+".")
		return
	}
	if status == http.StatusOK {
		http.ServeContent(x, x.r, path.Base(f.Path), modTime, content)
		return
	}
	x.Header().Set("Content-Length", strconv.FormatInt(f.Size, 10))
	x.WriteHeader(status)
	if x.r.Method != http.MethodHead {
		if _, err := io.Copy(x, content); err != nil {
			x.logf(backend.Error, "Sending %s: %v", f.Path, err)
		}
	}
}

// verified returns the blob's content, positioned at its start, once it is
// known to be the blob f names. A blob checked once is trusted for the rest
// of the server's life; the check reads the file once more, which the page
// cache makes cheap. Content that cannot seek is read into memory (App
// Engine files are at most 32 MB).
func (s *Server) verified(ctx context.Context, f backend.FileRef, rc io.Reader) (io.ReadSeeker, error) {
	rs, seekable := rc.(io.ReadSeeker)
	if seekable {
		if _, ok := s.checked.Load(f.SHA1); ok {
			return rs, nil
		}
	} else {
		data, err := io.ReadAll(backend.ReaderForCheck(ctx, rc, f.Size))
		if err != nil {
			return nil, fmt.Errorf("reading blob %s: %w", f.SHA1, err)
		}
		rs = bytes.NewReader(data)
	}
	if _, ok := s.checked.Load(f.SHA1); !ok {
		if err := backend.CheckContent(ctx, rs, f.SHA1, f.Size); err != nil {
			return nil, err
		}
		s.checked.Store(f.SHA1, struct{}{})
	}
	if _, err := rs.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("reading blob %s: %w", f.SHA1, err)
	}
	return rs, nil
}

// fail answers an error the host itself produces, with the version's
// error_handlers page when one was deployed.
func (s *Server) fail(x *exchange, status int, msg string) {
	if x.site != nil && x.site.errorPage != nil {
		ep := x.site.errorPage
		x.Header().Set("Content-Type", ep.mime)
		s.sendBlob(x, ep.file, x.site.created, status)
		return
	}
	s.plainError(x, status, msg)
}

func (s *Server) plainError(x *exchange, status int, msg string) {
	x.Header().Set("Content-Type", "text/html; charset=utf-8")
	x.Header().Set("X-Content-Type-Options", "nosniff")
	x.WriteHeader(status)
	fmt.Fprintf(x, "<!DOCTYPE html>\n<title>%d %s</title>\n<h1>%d %s</h1>\n<p>%s</p>\n",
		status, http.StatusText(status), status, http.StatusText(status), html.EscapeString(msg))
}
