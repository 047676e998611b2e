package appengine

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"

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
	var have map[string]any
	err = b.do(ctx, request{api: apiAdmin, method: "GET", out: &have, idempotent: true,
		url: b.adminURL("apps/%s/services/%s/versions/%s", project, spec.Service, spec.Version) + "?view=FULL"})
	if errors.Is(err, backend.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	bi, err := b.codeBucket(ctx, project)
	if err != nil {
		return false, err
	}
	body, err := versionBody(spec, bi.name)
	if err != nil {
		return false, err
	}
	want, err := asJSONValue(body)
	if err != nil {
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

// asJSONValue is v as encoding/json decodes it into any, so it compares
// with a decoded answer.
func asJSONValue(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var out any
	return out, json.Unmarshal(data, &out)
}

var _ backend.VersionMatcher = (*Backend)(nil)
