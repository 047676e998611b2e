package datastore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/backoff"

	"github.com/appcfg/appcfg/internal/redact"
)

// maxResponseBytes bounds what one reply may hold: a runQuery batch is at
// most a few hundred entities of at most 1 MiB each.
const maxResponseBytes = 512 << 20

// APIError is an error reply of the Datastore API:
// {"error":{"code":…,"message":…,"status":…}}.
type APIError struct {
	Call    string // "commit", "runQuery", …
	HTTP    int    // the HTTP status
	Status  string // the canonical code, e.g. "INVALID_ARGUMENT"
	Message string
}

func (e *APIError) Error() string {
	st := e.Status
	if st == "" {
		st = http.StatusText(e.HTTP)
	}
	return fmt.Sprintf("datastore %s: %d %s: %s", e.Call, e.HTTP, st, e.Message)
}

// Unwrap gives the answer its failure class, so the exit status says what
// to do: a refused credential or permission is backend.ErrDenied, a
// failure that may pass (overload, a server fault) backend.ErrTransient.
func (e *APIError) Unwrap() error {
	switch {
	case e.HTTP == http.StatusUnauthorized || e.HTTP == http.StatusForbidden ||
		e.Status == "UNAUTHENTICATED" || e.Status == "PERMISSION_DENIED":
		return backend.ErrDenied
	case e.retryable():
		return backend.ErrTransient
	}
	return nil
}

// retryable reports whether the same request may succeed later. Every call
// this backend sends is safe to repeat (see call), so this depends only on
// the failure: overload, unavailability, contention and server faults pass;
// a bad request, a refused permission or a missing project do not.
func (e *APIError) retryable() bool {
	switch e.Status {
	case "ABORTED", "UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "INTERNAL", "UNKNOWN":
		return true
	case "":
		return e.HTTP == http.StatusTooManyRequests || e.HTTP >= 500
	}
	return false
}

// client sends calls to one API root with retries.
type client struct {
	http     *http.Client
	endpoint string
	retry    Retry
}

// call posts body to /v1/projects/{project}:{method} and decodes the reply
// into out. It retries network errors and retryable replies with
// exponential backoff and full jitter, at most retry.MaxAttempts times.
//
// Repeating is safe for every call this backend makes: runQuery only reads;
// reserveIds only marks ids as used; commit carries only upserts of
// complete keys (ids are allocated first), so applying it twice leaves the
// same entities as once; allocateIds repeated at worst leaves ids unused.
func (c *client) call(ctx context.Context, project, method string, body []byte, out any) error {
	url := c.endpoint + "/v1/projects/" + project + ":" + method
	attempts := max(c.retry.MaxAttempts, 1)
	var last error
	for attempt := 1; ; attempt++ {
		wait, err := c.once(ctx, url, method, body, out)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("datastore %s at %s: %w", method, c.endpoint, ctx.Err())
		}
		last = err
		if wait < 0 {
			return err
		}
		if attempt >= attempts {
			// Still failing after the retries allowed (a network error
			// or a server fault): the same command may pass later.
			return backend.Classify(fmt.Errorf("datastore %s at %s failed %d times, giving up: %w", method, c.endpoint, attempts, last), backend.ErrTransient)
		}
		d := backoff.Jitter(attempt-1, c.retry.BaseDelay, c.retry.MaxDelay)
		if wait > d {
			d = wait
		}
		if err := backoff.Sleep(ctx, d); err != nil {
			return fmt.Errorf("datastore %s at %s: %w (last failure: %v)", method, c.endpoint, err, last)
		}
	}
}

// once sends one attempt. It returns the error and how long the server
// asked to wait (Retry-After), or a negative wait when the failure is final.
func (c *client) once(ctx context.Context, url, method string, body []byte, out any) (time.Duration, error) {
	actx := ctx
	if c.retry.AttemptTimeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.retry.AttemptTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(actx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return -1, fmt.Errorf("datastore %s: %w", method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		err = fmt.Errorf("datastore %s at %s: %w", method, c.endpoint, err)
		if errors.Is(err, backend.ErrDenied) {
			return -1, err // a refused credential stays refused
		}
		// Network errors (refused, reset, EOF, this attempt's timeout)
		// may pass.
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return 0, fmt.Errorf("datastore %s at %s: reading the reply: %w", method, c.endpoint, err)
	}
	if len(data) > maxResponseBytes {
		return -1, fmt.Errorf("datastore %s at %s: the reply exceeds %d bytes", method, c.endpoint, maxResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		apiErr := parseError(method, resp.StatusCode, data)
		if !apiErr.retryable() {
			return -1, withHint(apiErr)
		}
		// A server asking for more than a minute is capped: the attempt
		// budget, not the server, bounds a call.
		return min(backoff.RetryAfter(resp.Header), time.Minute), apiErr
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			// A truncated or garbled reply is a transport fault.
			return 0, fmt.Errorf("datastore %s at %s: decoding the reply: %w", method, c.endpoint, err)
		}
	}
	return 0, nil
}

func parseError(method string, code int, data []byte) *APIError {
	var w struct {
		Error struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	e := &APIError{Call: method, HTTP: code}
	if json.Unmarshal(data, &w) == nil && (w.Error.Message != "" || w.Error.Status != "") {
		e.Status, e.Message = w.Error.Status, w.Error.Message
	} else {
		e.Message = truncate(strings.TrimSpace(string(data)), 200)
	}
	// The reply may echo the request (its Authorization header, a token
	// in its query): what a server says never carries a credential on.
	e.Message = redact.String(e.Message)
	return e
}

// withHint adds what to do to the final errors users meet most.
func withHint(e *APIError) error {
	switch {
	case e.HTTP == http.StatusUnauthorized || e.Status == "UNAUTHENTICATED":
		return fmt.Errorf("%w (the credentials were refused; log in again or check the service account)", e)
	case e.HTTP == http.StatusForbidden || e.Status == "PERMISSION_DENIED":
		return fmt.Errorf("%w (the account needs the Cloud Datastore User role on the project, and the Datastore API must be enabled)", e)
	case e.HTTP == http.StatusNotFound && e.Status == "":
		return fmt.Errorf("%w (is the endpoint a Datastore API root?)", e)
	case e.Call == "commit" && e.Status == "INVALID_ARGUMENT":
		// The entities themselves were refused: sending them again
		// cannot help, which callers see through ErrInvalidEntity.
		return fmt.Errorf("%w (%w)", e, backend.ErrInvalidEntity)
	}
	return e
}

// isAPIStatus reports whether err is an API error with the given status.
func isAPIStatus(err error, status string) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == status
}
