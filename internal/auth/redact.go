package auth

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/appcfg/appcfg/internal/redact"
)

// LoggingTransport writes one line per request (method, URL, status, time)
// to W, for --noisy. Headers are never written and the URL is redacted, so
// no token reaches the log.
type LoggingTransport struct {
	Base http.RoundTripper
	W    io.Writer
	mu   sync.Mutex
}

// RoundTrip implements http.RoundTripper.
func (t *LoggingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	start := time.Now()
	resp, err := base.RoundTrip(r)
	line := fmt.Sprintf("%s %s", r.Method, r.URL.String())
	if err != nil {
		line += " -> error: " + err.Error()
	} else {
		line += fmt.Sprintf(" -> %d", resp.StatusCode)
	}
	line = redact.String(line) + fmt.Sprintf(" (%s)\n", time.Since(start).Round(time.Millisecond))
	t.mu.Lock()
	io.WriteString(t.W, line)
	t.mu.Unlock()
	return resp, err
}
