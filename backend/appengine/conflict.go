package appengine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/appcfg/appcfg/internal/lazyre"
	"strings"
	"time"

	"github.com/appcfg/appcfg/internal/backoff"
)

// defaultConflictTimeout bounds the wait for another operation on the same
// service to end: a version build takes minutes, so CI pipelines deploying
// in a row meet one often ("operation already in progress").
const defaultConflictTimeout = 10 * time.Minute

// operate sends a call that starts a long-running operation and waits for
// it. When App Engine answers that another operation holds the service
// (409 ABORTED, or the operation itself ends ABORTED), nothing was done, so
// the call is sent again after a backoff, until the conflict timeout; each
// wait is told to Options.Notify with who holds the service. A conflict
// that outlasts the timeout returns an error wrapping backend.ErrConflict.
func (b *Backend) operate(ctx context.Context, r request) (operation, error) {
	deadline := b.now().Add(b.conflictTimeout)
	for try := 0; ; try++ {
		var op operation
		r.out = &op
		err := b.do(ctx, r)
		if err == nil {
			op, err = b.wait(ctx, r.api, b.ep.AppEngine, op)
		}
		if err == nil || !inProgress(err) {
			return op, err
		}
		holder := b.holder(ctx, err)
		left := deadline.Sub(b.now())
		if left <= 0 {
			return op, fmt.Errorf("%s, and it was still running after %s of waiting (--timeout); try again once it is done: %w", holder, b.conflictTimeout, err)
		}
		d := min(backoff.Jitter(try, b.retry.base, b.retry.max), left)
		b.notify(fmt.Sprintf("%s; trying again in %s (waiting up to %s more)", holder, d.Round(time.Millisecond), left.Round(time.Second)))
		if err := backoff.Sleep(ctx, d); err != nil {
			return op, fmt.Errorf("waiting for the operation in progress to end: %w", err)
		}
	}
}

// inProgress reports whether err is App Engine's "an operation is already
// in progress" refusal.
func inProgress(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Code == 409 && ae.Status != "ALREADY_EXISTS"
	}
	var oe *OperationError
	return errors.As(err, &oe) && oe.Code == 10 // ABORTED
}

// heldByRE finds the operation holding a service in the Admin API's
// refusal: "Cannot operate on apps/P/services/S because an operation is
// already in progress for apps/P/services/S by OPID."
var heldByRE = lazyre.New(`in progress for (\S+?) by ([A-Za-z0-9_./-]+?)\.?(?:\s|$)`)

// holder says who holds the service, as far as the refusal and the holding
// operation (its metadata: method, user, start) tell.
func (b *Backend) holder(ctx context.Context, err error) string {
	msg := ""
	var ae *APIError
	var oe *OperationError
	switch {
	case errors.As(err, &ae):
		msg = ae.Message
	case errors.As(err, &oe):
		msg = oe.Message
	}
	m := heldByRE.FindStringSubmatch(msg)
	if m == nil {
		return "another operation is in progress on the service"
	}
	target, id := m[1], m[2]
	name := id
	if !strings.Contains(id, "/") {
		project, _, _ := strings.Cut(strings.TrimPrefix(target, "apps/"), "/")
		name = "apps/" + project + "/operations/" + id
	}
	what := fmt.Sprintf("operation %s holds %s", name, target)
	var op operation
	if b.do(ctx, request{api: apiAdmin, method: "GET", url: b.ep.AppEngine + "v1/" + name, out: &op, idempotent: true}) != nil {
		return what
	}
	var meta struct {
		Method     string    `json:"method"`
		User       string    `json:"user"`
		InsertTime time.Time `json:"insertTime"`
	}
	if json.Unmarshal(op.Metadata, &meta) != nil {
		return what
	}
	if meta.Method != "" {
		what += " (" + meta.Method[strings.LastIndex(meta.Method, ".")+1:] + ")"
	}
	if meta.User != "" {
		what += " for " + meta.User
	}
	if !meta.InsertTime.IsZero() {
		what += " since " + meta.InsertTime.UTC().Format(time.RFC3339)
	}
	return what
}

// notify tells the user about a wait (Options.Notify).
func (b *Backend) notify(msg string) {
	if b.onNotify != nil {
		b.onNotify(msg)
	}
}
