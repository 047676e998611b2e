package appengine

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/appcfg/appcfg/backend"
)

// apiDate is google.type.Date.
type apiDate struct {
	Year, Month, Day int
}

func (d *apiDate) time() time.Time {
	if d == nil || d.Year == 0 {
		return time.Time{}
	}
	return time.Date(d.Year, time.Month(max(d.Month, 1)), max(d.Day, 1), 0, 0, 0, 0, time.UTC)
}

// ListRuntimes implements backend.RuntimeLister with apps.listRuntimes
// (environment STANDARD), whose answer carries each runtime's end of
// support, deprecation and decommission dates.
func (b *Backend) ListRuntimes(ctx context.Context, app string) ([]backend.RuntimeInfo, error) {
	project, err := b.projectOf(app)
	if err != nil {
		return nil, err
	}
	var out struct {
		Runtimes []struct {
			Name               string   `json:"name"`
			Stage              string   `json:"stage"`
			EndOfSupportDate   *apiDate `json:"endOfSupportDate"`
			DeprecationDate    *apiDate `json:"deprecationDate"`
			DecommissionedDate *apiDate `json:"decommissionedDate"`
		} `json:"runtimes"`
	}
	err = b.do(ctx, request{api: apiAdmin, method: "GET", out: &out, idempotent: true,
		url: b.adminURL("apps/%s", project) + ":listRuntimes?" + url.Values{"environment": {"STANDARD"}}.Encode()})
	if err != nil {
		return nil, fmt.Errorf("listing the runtimes of %s: %w", project, err)
	}
	rts := make([]backend.RuntimeInfo, len(out.Runtimes))
	for i, r := range out.Runtimes {
		rts[i] = backend.RuntimeInfo{Name: r.Name, Stage: r.Stage, EndOfSupport: r.EndOfSupportDate.time(),
			Deprecated: r.DeprecationDate.time(), Decommissioned: r.DecommissionedDate.time()}
	}
	return rts, nil
}

var _ backend.RuntimeLister = (*Backend)(nil)
