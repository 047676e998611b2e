package auth

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
	"time"
)

var secretPatterns = []*regexp.Regexp{
	// Header values and query/form parameters that carry credentials.
	regexp.MustCompile(`(?i)(authorization\s*[:=]\s*)(bearer\s+)?[^\s,"]+`),
	regexp.MustCompile(`(?i)((?:access_token|refresh_token|id_token|client_secret|assertion|code|private_key)["']?\s*[:=]\s*["']?)[^\s&,"']+`),
	// Google token shapes anywhere: ya29. access tokens, 1// refresh tokens.
	regexp.MustCompile(`ya29\.[A-Za-z0-9_\-.]+`),
	regexp.MustCompile(`\b1//[A-Za-z0-9_\-]+`),
}

// Redact replaces every credential in s by "REDACTED".
func Redact(s string) string {
	for i, re := range secretPatterns {
		if i < 2 {
			s = re.ReplaceAllString(s, "${1}REDACTED")
		} else {
			s = re.ReplaceAllString(s, "REDACTED")
		}
	}
	return s
}

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
	line = Redact(line) + fmt.Sprintf(" (%s)\n", time.Since(start).Round(time.Millisecond))
	t.mu.Lock()
	io.WriteString(t.W, line)
	t.mu.Unlock()
	return resp, err
}
