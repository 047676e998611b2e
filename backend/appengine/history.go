package appengine

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// historyPages bounds how far back TrafficHistory reads the operations
// (pages of 100, newest first): enough for the last revert target.
const historyPages = 5

// TrafficHistory implements backend.TrafficHistory from the application's
// operations (apps.operations.list): each finished Services.UpdateService
// operation on the service answers with the service, its split included.
// App Engine keeps operations for some days only; what it no longer has,
// the history lacks.
func (b *Backend) TrafficHistory(ctx context.Context, app, service string) ([]backend.TrafficChange, error) {
	project, err := b.projectOf(app)
	if err != nil {
		return nil, err
	}
	target := "apps/" + project + "/services/" + service
	var out []backend.TrafficChange
	pages := 0
	err = paginate(func(token string) (string, error) {
		if pages++; pages > historyPages {
			return "", nil
		}
		ops, next, err := b.operationsPage(ctx, project, "", token)
		for _, op := range ops {
			if c, ok := splitChange(op, target); ok {
				out = append(out, c)
			}
		}
		return next, err
	})
	if err != nil {
		return nil, fmt.Errorf("reading the traffic history of service %s: %w", service, err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.After(out[j].At) })
	return out, nil
}

// operationsPage reads one page of 100 of the app's operations, newest
// first, those filter keeps ("" for all).
func (b *Backend) operationsPage(ctx context.Context, project, filter, token string) ([]operation, string, error) {
	q := url.Values{"pageSize": {"100"}}
	if filter != "" {
		q.Set("filter", filter)
	}
	if token != "" {
		q.Set("pageToken", token)
	}
	var page struct {
		Operations    []operation `json:"operations"`
		NextPageToken string      `json:"nextPageToken"`
	}
	err := b.do(ctx, request{api: apiAdmin, method: "GET", out: &page, idempotent: true,
		url: b.adminURL("apps/%s/operations", project) + "?" + q.Encode()})
	return page.Operations, page.NextPageToken, err
}

// splitChange reads the split an operation set on target, if it is a
// finished, successful Services.UpdateService of it.
func splitChange(op operation, target string) (backend.TrafficChange, bool) {
	var meta struct {
		Method     string    `json:"method"`
		Target     string    `json:"target"`
		InsertTime time.Time `json:"insertTime"`
	}
	var svc apiService
	if !op.Done || op.Error != nil || json.Unmarshal(op.Metadata, &meta) != nil || json.Unmarshal(op.Response, &svc) != nil ||
		!strings.HasSuffix(meta.Method, "Services.UpdateService") || meta.Target != target || len(svc.allocations()) == 0 {
		return backend.TrafficChange{}, false
	}
	return backend.TrafficChange{At: meta.InsertTime, Split: svc.allocations()}, true
}

var (
	_ backend.TrafficHistory  = (*Backend)(nil)
	_ backend.TrafficSplitter = (*Backend)(nil)
)
