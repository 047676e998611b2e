package appengine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/appcfg/appcfg/backend"
)

// serverFields are the Version fields App Engine sets itself; the rest of
// a FULL view is what versions.create was sent.
var serverFields = map[string]bool{
	"name": true, "id": true, "servingStatus": true, "createTime": true, "createdBy": true,
	"diskUsageBytes": true, "versionUrl": true, "deployment": true,
}

// SameVersion implements backend.VersionMatcher: the version's FULL view
// holds the same files (paths and digests) and every other field equal to
// the versions.create body spec makes. A field the server added or changed
// (a default it fills in) counts as a difference: a redeploy then creates
// the version as usual, which is never wrong.
func (b *Backend) SameVersion(ctx context.Context, spec backend.VersionSpec) (bool, error) {
	project, err := b.projectOf(spec.App)
	if err != nil {
		return false, err
	}
	if b.takeAbsent(project, spec.Service, spec.Version) {
		return false, nil
	}
	full, err := b.fullVersion(ctx, project, spec.Service, spec.Version)
	if errors.Is(err, backend.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return b.sameAs(ctx, project, full, spec)
}

// noteAbsent remembers that LiveAsIs found the version missing, and
// takeAbsent takes (and forgets) that answer: a deploy of a new version
// id, the usual one, then reads the version once, not twice. Taking an
// answer that went stale is harmless: a version SameVersion calls
// different is created, which is never wrong.
func (b *Backend) noteAbsent(project, service, version string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.absent == nil {
		b.absent = map[string]bool{}
	}
	b.absent[project+"/"+service+"/"+version] = true
}

func (b *Backend) takeAbsent(project, service, version string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := project + "/" + service + "/" + version
	absent := b.absent[k]
	delete(b.absent, k)
	return absent
}

// fullVersion reads a version's FULL view as the API answers it.
func (b *Backend) fullVersion(ctx context.Context, project, service, version string) (json.RawMessage, error) {
	var full json.RawMessage
	err := b.do(ctx, request{api: apiAdmin, method: "GET", out: &full, idempotent: true,
		url: b.adminURL("apps/%s/services/%s/versions/%s", project, service, version) + "?view=FULL"})
	return full, err
}

// sameAs is the one rule of SameVersion and LiveAsIs: full, a version's
// FULL view, is what versions.create of spec would make.
func (b *Backend) sameAs(ctx context.Context, project string, full json.RawMessage, spec backend.VersionSpec) (bool, error) {
	var have map[string]any
	if err := json.Unmarshal(full, &have); err != nil {
		return false, fmt.Errorf("version %s of service %s: the answer is not a Version: %w", spec.Version, spec.Service, err)
	}
	bi, err := b.codeBucket(ctx, project)
	if err != nil {
		return false, err
	}
	body, err := versionBody(spec, bi.name)
	if err != nil {
		return false, err
	}
	var want any
	if err := json.Unmarshal(body, &want); err != nil {
		return false, err
	}
	haveFiles := fileDigests(have["deployment"])
	for k := range serverFields {
		delete(have, k)
	}
	wantFields := want.(map[string]any)
	wantFiles := fileDigests(wantFields["deployment"])
	delete(wantFields, "deployment")
	delete(wantFields, "id")
	return reflect.DeepEqual(have, wantFields) && reflect.DeepEqual(haveFiles, wantFiles), nil
}

// LiveAsIs implements backend.LiveChecker without writing anything: the
// version's FULL view (the same files and configuration, as SameVersion
// says, and SERVING), then, sent at once, its service (all of the
// traffic, when promote) and the app's pending operations. The version is
// read first and alone because a deploy of a new version id, the usual
// one, ends there, with the one read SameVersion then takes instead of
// its own. App Engine has no deploy lock: what a deploy in flight holds is
// its operation on the service (a versions.create, a traffic change, a
// start or stop), so any pending operation on the service, or one that
// does not say what it is on, makes the answer false. The staging bucket
// is not read: App Engine copied a live version's files when it created
// it, so they need not be held there any more.
func (b *Backend) LiveAsIs(ctx context.Context, spec backend.VersionSpec, promote bool) (backend.Version, bool, error) {
	project, err := b.projectOf(spec.App)
	if err != nil {
		return backend.Version{}, false, err
	}
	full, err := b.fullVersion(ctx, project, spec.Service, spec.Version)
	if errors.Is(err, backend.ErrNotFound) {
		b.noteAbsent(project, spec.Service, spec.Version)
		return backend.Version{}, false, nil
	}
	if err != nil {
		return backend.Version{}, false, err
	}
	var av apiVersion
	if err := json.Unmarshal(full, &av); err != nil {
		return backend.Version{}, false, fmt.Errorf("version %s of service %s: the answer is not a Version: %w", spec.Version, spec.Service, err)
	}
	if v := toVersion(project, spec.Service, av, nil); v.ServingStatus != backend.Serving {
		return v, false, nil
	}
	if same, err := b.sameAs(ctx, project, full, spec); err != nil || !same {
		return backend.Version{}, false, err
	}
	g, gctx := errgroup.WithContext(ctx)
	var svc apiService
	pending := true
	if promote {
		g.Go(func() error {
			var err error
			svc, err = b.service(gctx, project, spec.Service)
			return err
		})
	}
	g.Go(func() error {
		var err error
		pending, err = b.pendingOn(gctx, project, spec.Service)
		return err
	})
	if err := g.Wait(); err != nil {
		return backend.Version{}, false, err
	}
	v := toVersion(project, spec.Service, av, svc.allocations())
	return v, !pending && (!promote || v.Traffic == 1), nil
}

// pendingOn reports whether an operation on service (or one that does not
// say what it is on) is not done yet, as `gcloud app operations list
// --pending` asks.
func (b *Backend) pendingOn(ctx context.Context, project, service string) (bool, error) {
	target := "apps/" + project + "/services/" + service
	pending := false
	err := paginate(func(token string) (string, error) {
		ops, next, err := b.operationsPage(ctx, project, "done:false", token)
		for _, op := range ops {
			var meta struct {
				Target string `json:"target"`
			}
			_ = json.Unmarshal(op.Metadata, &meta) // no metadata: no target, which counts
			if !op.Done && (meta.Target == "" || meta.Target == target || strings.HasPrefix(meta.Target, target+"/")) {
				pending = true
			}
		}
		if pending {
			return "", err
		}
		return next, err
	})
	return pending, err
}

// fileDigests maps each file of a Version's deployment to its SHA-1.
func fileDigests(deployment any) map[string]any {
	out := map[string]any{}
	d, _ := deployment.(map[string]any)
	files, _ := d["files"].(map[string]any)
	for path, f := range files {
		fi, _ := f.(map[string]any)
		out[path] = fi["sha1Sum"]
	}
	return out
}

var (
	_ backend.VersionMatcher = (*Backend)(nil)
	_ backend.LiveChecker    = (*Backend)(nil)
)
