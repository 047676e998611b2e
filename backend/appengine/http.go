package appengine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/appcfg/appcfg/internal/lazyre"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/backoff"

	"github.com/appcfg/appcfg/internal/redact"
)

// APIError is an error answer of a Google API.
type APIError struct {
	API     string // "App Engine Admin API", …
	Method  string
	URL     string
	Code    int    // HTTP status
	Status  string // canonical status, like NOT_FOUND
	Message string
	// Permission is the IAM permission a 403 says the caller lacks, and
	// Resource what it lacks it on, from the answer's ErrorInfo details
	// or its message ("" when the answer does not say).
	Permission, Resource string
}

func (e *APIError) Error() string {
	st := e.Status
	if st == "" {
		st = http.StatusText(e.Code)
	}
	msg := fmt.Sprintf("%s: %s %s: %d %s", e.API, e.Method, e.URL, e.Code, st)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	switch e.Code {
	case http.StatusUnauthorized:
		msg += " (the credentials were refused: log in again, or check --oauth2_access_token/--service_account_json)"
	case http.StatusForbidden:
		msg += " (" + permissionHint(e.Permission, e.Resource) + ")"
	}
	return msg
}

// Unwrap maps 404 to backend.ErrNotFound and the answer to its failure
// class (backend.ErrDenied, ErrConflict, ErrLimit, ErrTransient), so the
// exit status says what to do.
func (e *APIError) Unwrap() []error {
	var errs []error
	if e.Code == http.StatusNotFound {
		errs = append(errs, backend.ErrNotFound)
	}
	if c := failureClass(e.Code, e.Status, e.Message); c != nil {
		errs = append(errs, c)
	}
	return errs
}

// failureClass is the backend failure class of an answer (an HTTP status
// or an operation's google.rpc code translated to one), nil for none.
func failureClass(code int, status, message string) error {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return backend.ErrDenied
	case code == http.StatusConflict && status != "ALREADY_EXISTS":
		return backend.ErrConflict
	case versionCapRE.MatchString(message) || tooManyFilesRE.MatchString(message):
		return backend.ErrLimit
	case code == http.StatusTooManyRequests && status == "RESOURCE_EXHAUSTED" && strings.Contains(strings.ToLower(message), "quota"):
		return backend.ErrLimit
	case retryable(code):
		return backend.ErrTransient
	}
	return nil
}

// The Admin API's words for its hard limits on a version.
var (
	versionCapRE   = lazyre.New(`may not have more than \d+ versions`)
	tooManyFilesRE = lazyre.New(`too many files`)
)

// permissionRE finds the permission in a denial's message, as IAM words
// it: "Permission 'iam.serviceaccounts.actAs' denied on service account …",
// "… does not have storage.objects.create access to …".
var permissionRE = lazyre.New(`(?:[Pp]ermission ['"]?([a-zA-Z]+\.[a-zA-Z]+\.[a-zA-Z]+)['"]? denied(?: on (?:resource |service account )?['"]?([^'"\s(]+))?)|(?:does not have ([a-zA-Z]+\.[a-zA-Z]+\.[a-zA-Z]+) access to (?:the )?(?:Google Cloud Storage )?(?:bucket |object )?['"]?([^'"\s,.]+(?:\.[^'"\s,.]+)*))`)

// permissionHint says what to grant for a 403: the permission the answer
// names (on its resource) or, when it names none, the roles a deploy needs.
func permissionHint(perm, resource string) string {
	if perm == "" {
		return "the account lacks permission: it needs the App Engine Deployer, Storage Object Admin and Logs Viewer roles on the project"
	}
	on := ""
	if resource != "" {
		on = " on " + resource
	}
	hint := "the account lacks the permission " + perm + on + ": grant it a role that includes it"
	if strings.EqualFold(perm, "iam.serviceAccounts.actAs") {
		hint += " (Service Account User, roles/iam.serviceAccountUser, on the app's runtime service account)"
	}
	return hint
}

// errorDetail is one entry of a Google error's details; ErrorInfo carries
// the missing permission in its metadata.
type errorDetail struct {
	Type     string            `json:"@type"`
	Reason   string            `json:"reason"`
	Metadata map[string]string `json:"metadata"`
}

// deniedPermission returns the permission (and resource) a denial names,
// from an ErrorInfo detail or else from the message.
func deniedPermission(details []errorDetail, message string) (perm, resource string) {
	for _, d := range details {
		if p := d.Metadata["permission"]; p != "" {
			return p, d.Metadata["resource"]
		}
	}
	if m := permissionRE.FindStringSubmatch(message); m != nil {
		if m[1] != "" {
			return m[1], m[2]
		}
		return m[3], m[4]
	}
	return "", ""
}

// retryable reports whether a status is worth retrying.
func retryable(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500
}

// throttled reports the statuses that ask the client to slow down.
func throttled(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable
}

// retryPolicy is exponential backoff with full jitter.
type retryPolicy struct {
	attempts int           // total tries, at least 1
	base     time.Duration // first backoff
	max      time.Duration // backoff cap
}

func (p retryPolicy) backoff(try int) time.Duration {
	return backoff.Jitter(try, p.base, p.max)
}

// request is one JSON call.
type request struct {
	api    string
	method string
	url    string
	body   any // marshalled as JSON (a json.RawMessage is sent as it is); nil for none
	out    any // decoded from the answer; nil to discard it
	// decode, when set instead of out, reads a successful answer as a
	// stream: a big answer (a listing page) is never held whole.
	decode     func(io.Reader) error
	idempotent bool
	// onThrottle is told about 429/503 answers (the upload limiter).
	onThrottle func(retryAfter time.Duration)
}

// do sends r, retrying idempotent calls on 429, 408, 5xx and network
// errors. A cancelled ctx stops it with an error wrapping ctx.Err().
func (b *Backend) do(ctx context.Context, r request) error {
	var payload []byte
	if raw, ok := r.body.(json.RawMessage); ok {
		payload = raw // encoded already (a version's manifest): not scanned again
	} else if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("encoding the %s request: %w", r.api, err)
		}
	}
	attempts := b.retry.attempts
	if !r.idempotent {
		attempts = 1
	}
	var last error
	for try := 0; try < attempts; try++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s %s: %w", r.method, r.url, err)
		}
		var body io.Reader
		if payload != nil {
			body = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, r.method, r.url, body)
		if err != nil {
			return fmt.Errorf("%s: %w", r.api, err)
		}
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := b.hc.Do(req)
		wait := time.Duration(0)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%s %s: %w", r.method, r.url, ctx.Err())
			}
			if errors.Is(err, backend.ErrDenied) {
				// The credentials were refused (internal/auth's token
				// source says so): asking again will not help.
				return fmt.Errorf("%s: %s %s: %w", r.api, r.method, r.url, err)
			}
			last = fmt.Errorf("%s: %s %s: %w", r.api, r.method, r.url, backend.Classify(err, backend.ErrTransient))
		} else {
			last = decodeResponse(resp, r)
			if last == nil {
				return nil
			}
			var ae *APIError
			if !errors.As(last, &ae) || !retryable(ae.Code) {
				return last
			}
			wait = backoff.RetryAfter(resp.Header)
			if throttled(ae.Code) && r.onThrottle != nil {
				r.onThrottle(wait)
			}
		}
		if try+1 < attempts {
			if d := b.retry.backoff(try); d > wait {
				wait = d
			}
			if err := backoff.Sleep(ctx, wait); err != nil {
				return fmt.Errorf("%s %s: %w", r.method, r.url, err)
			}
		}
	}
	return last
}

// decodeResponse reads resp into r.out, or returns its *APIError.
func decodeResponse(resp *http.Response, r request) error {
	defer resp.Body.Close()
	if r.decode != nil && resp.StatusCode/100 == 2 {
		if err := r.decode(resp.Body); err != nil {
			return fmt.Errorf("%s: the answer to %s %s is not the expected JSON: %w", r.api, r.method, r.url, err)
		}
		return nil
	}
	// The answer is read into a buffer used again by later calls: a
	// deploy's thousands of small answers (one per upload) then cost no
	// fresh memory each (a fresh page costs ~11 µs here). What is decoded
	// from it is copied out (json.Unmarshal copies strings and
	// RawMessages; apiError copies the message).
	buf := answerBufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= maxPooledAnswer {
			answerBufs.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, 64<<20)); err != nil {
		return fmt.Errorf("%s: reading the answer to %s %s: %w", r.api, r.method, r.url, err)
	}
	data := buf.Bytes()
	if resp.StatusCode/100 != 2 {
		return apiError(r.api, r.method, r.url, resp.StatusCode, data)
	}
	if r.out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, r.out); err != nil {
		return fmt.Errorf("%s: the answer to %s %s is not the expected JSON: %w", r.api, r.method, r.url, err)
	}
	return nil
}

// answerBufs holds the buffers decodeResponse reads answers into; one
// grown beyond maxPooledAnswer (a big listing or version) is not kept.
var answerBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledAnswer = 64 << 10

func apiError(api, method, url string, code int, data []byte) *APIError {
	e := &APIError{API: api, Method: method, URL: stripQuery(url), Code: code}
	var env struct {
		Error struct {
			Code    int           `json:"code"`
			Message string        `json:"message"`
			Status  string        `json:"status"`
			Details []errorDetail `json:"details"`
		} `json:"error"`
	}
	if json.Unmarshal(data, &env) == nil && env.Error.Message != "" {
		e.Message, e.Status = env.Error.Message, env.Error.Status
		if code == http.StatusForbidden {
			e.Permission, e.Resource = deniedPermission(env.Error.Details, env.Error.Message)
		}
	} else if s := strings.TrimSpace(string(data)); s != "" && len(s) < 300 {
		e.Message = s
	}
	// The answer may echo the request (its Authorization header, a token
	// in its query): what a server says never carries a credential on.
	e.Message = redact.String(e.Message)
	return e
}

func stripQuery(u string) string {
	if i := strings.IndexByte(u, '?'); i >= 0 {
		return u[:i]
	}
	return u
}

// paginate calls fetch with each page token ("" first) until a page has no
// next token. A token repeated by a faulty server ends the listing rather
// than looping.
func paginate(fetch func(token string) (next string, err error)) error {
	token := ""
	for {
		next, err := fetch(token)
		if err != nil {
			return err
		}
		if next == "" || next == token {
			return nil
		}
		token = next
	}
}
