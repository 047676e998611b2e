package serve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
)

// dispatchTTL is how long dispatch.yaml's rules are used before the store
// is read again, so update_dispatch takes effect within it without a read
// per request.
const dispatchTTL = time.Second

// dispatchRule is one dispatch.yaml rule: a host pattern (a leading *
// matches any prefix) and a path pattern (a trailing * any suffix).
type dispatchRule struct {
	host, path string
	service    string
}

// dispatchCache holds the rules read last.
type dispatchCache struct {
	mu    sync.Mutex
	read  time.Time
	rules []dispatchRule
}

// dispatchService is the service dispatch.yaml routes host and path to,
// or "" when no rule matches (or there is no dispatch.yaml). As on App
// Engine the first matching rule wins and /_ah/ paths are never
// dispatched.
func (s *Server) dispatchService(ctx context.Context, host, path string) string {
	if s.cfg.Configs == nil || strings.HasPrefix(path, "/_ah/") {
		return ""
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	for _, r := range s.dispatchRules(ctx) {
		if matchDispatch(r.host, host, true) && matchDispatch(r.path, path, false) {
			return r.service
		}
	}
	return ""
}

// matchDispatch matches a glob with * only at the host pattern's start or
// the path pattern's end.
func matchDispatch(pattern, s string, host bool) bool {
	switch {
	case pattern == "*":
		return true
	case host && strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(s, strings.ToLower(pattern[1:]))
	case !host && strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(s, pattern[:len(pattern)-1])
	case host:
		return strings.EqualFold(pattern, s)
	}
	return pattern == s
}

// dispatchRules returns dispatch.yaml's rules, read at most every
// dispatchTTL; a document that cannot be read keeps the rules known.
func (s *Server) dispatchRules(ctx context.Context) []dispatchRule {
	c := &s.rules
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.cfg.Now()
	if !c.read.IsZero() && now.Sub(c.read) < dispatchTTL {
		return c.rules
	}
	c.read = now
	doc, err := s.cfg.Configs.Config(ctx, s.cfg.App, backend.ConfigDispatch)
	if errors.Is(err, backend.ErrNotFound) {
		c.rules = nil
		return nil
	}
	if err != nil {
		s.cfg.OnError(fmt.Errorf("reading dispatch.yaml of %s: %w", s.cfg.App, err))
		return c.rules
	}
	info, _ := appconfig.ParseDispatch("the deployed dispatch.yaml", doc)
	if info == nil {
		c.rules = nil
		return nil
	}
	rules := make([]dispatchRule, 0, len(info.Dispatch))
	for _, e := range info.Dispatch {
		if e == nil {
			continue
		}
		hostPat, pathPat, ok := strings.Cut(e.URL, "/")
		if !ok {
			continue
		}
		rules = append(rules, dispatchRule{host: hostPat, path: "/" + pathPat, service: e.ServiceName()})
	}
	c.rules = rules
	return rules
}
