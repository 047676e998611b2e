package appengine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/backoff"

	"github.com/appcfg/appcfg/internal/redact"
)

// API names, for messages.
const (
	apiAdmin     = "App Engine Admin API"
	apiStorage   = "Cloud Storage API"
	apiLogging   = "Cloud Logging API"
	apiDatastore = "Datastore Admin API"
)

// operation is google.longrunning.Operation.
type operation struct {
	Name  string `json:"name"`
	Done  bool   `json:"done"`
	Error *struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Metadata json.RawMessage `json:"metadata"`
	Response json.RawMessage `json:"response"`
}

// OperationError is a long-running operation that ended in error.
type OperationError struct {
	API, Name string
	Code      int // google.rpc.Code
	Message   string
}

func (e *OperationError) Error() string {
	return fmt.Sprintf("%s operation %s failed (code %d): %s", e.API, e.Name, e.Code, e.Message)
}

// Unwrap maps NOT_FOUND (5) to backend.ErrNotFound and the code to its
// failure class, as an HTTP answer of the same code.
func (e *OperationError) Unwrap() []error {
	var errs []error
	if e.Code == 5 {
		errs = append(errs, backend.ErrNotFound)
	}
	status := map[int]string{10: "ABORTED", 6: "ALREADY_EXISTS", 8: "RESOURCE_EXHAUSTED"}[e.Code]
	if c := failureClass(rpcHTTPStatus[e.Code], status, e.Message); c != nil {
		errs = append(errs, c)
	}
	return errs
}

// rpcHTTPStatus maps google.rpc codes to the HTTP status an API answers
// them with (google/rpc/code.proto).
var rpcHTTPStatus = map[int]int{
	1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429,
	9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401,
}

// wait polls op until it is done, bounded by the operation timeout. The
// pause starts short and doubles up to the steady interval: most
// operations (a split, a serving status) end within a second, so gcloud's
// fixed first second would be most of their cost, while a long one (a
// version build) still costs few polls.
func (b *Backend) wait(ctx context.Context, api, base string, op operation) (operation, error) {
	ctx, cancel := context.WithTimeout(ctx, b.opTime)
	defer cancel()
	d := b.poll[0]
	for polls := 0; !op.Done; polls++ {
		if op.Name == "" {
			return op, fmt.Errorf("%s returned an unfinished operation with no name", api)
		}
		if polls > 0 {
			d = min(2*d, b.poll[1])
		}
		if err := backoff.Sleep(ctx, d); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return op, fmt.Errorf("%s operation %s is not done after %s; it may still complete: check it later: %w", api, op.Name, b.opTime, err)
			}
			return op, fmt.Errorf("waiting for %s: %w", op.Name, err)
		}
		var next operation
		if err := b.do(ctx, request{api: api, method: "GET", url: base + "v1/" + op.Name, out: &next, idempotent: true}); err != nil {
			return op, err
		}
		op = next
	}
	if op.Error != nil {
		return op, &OperationError{API: api, Name: op.Name, Code: op.Error.Code, Message: redact.String(op.Error.Message)}
	}
	return op, nil
}

// apiVersion is the part of the Version resource read back.
type apiVersion struct {
	ID             string    `json:"id"`
	Runtime        string    `json:"runtime"`
	ServingStatus  string    `json:"servingStatus"`
	CreateTime     time.Time `json:"createTime"`
	CreatedBy      string    `json:"createdBy"`
	DiskUsageBytes string    `json:"diskUsageBytes"`
	VersionURL     string    `json:"versionUrl"` // https://VERSION-dot-SERVICE-dot-PROJECT.REGION.r.appspot.com
	// Env and the scaling blocks tell whether the version scales to
	// zero by itself (automatic-scaling standard) or bills instances
	// while it has no traffic.
	Env           string          `json:"env"`
	BasicScaling  json.RawMessage `json:"basicScaling"`
	ManualScaling json.RawMessage `json:"manualScaling"`
	Deployment    *struct {
		Files map[string]json.RawMessage `json:"files"`
	} `json:"deployment"`
}

type apiService struct {
	ID    string `json:"id"`
	Split *struct {
		Allocations map[string]float64 `json:"allocations"`
		ShardBy     string             `json:"shardBy"`
	} `json:"split"`
}

func (s apiService) allocations() map[string]float64 {
	if s.Split == nil {
		return nil
	}
	return s.Split.Allocations
}

// soleOther reports whether a version other than id has all of the
// service's traffic: the one a promote of id may have to stop.
func (s apiService) soleOther(id string) bool {
	for v, share := range s.allocations() {
		if v != id && share == 1 {
			return true
		}
	}
	return false
}

func toVersion(project, service string, av apiVersion, split map[string]float64) backend.Version {
	v := backend.Version{
		App: project, Service: service, ID: av.ID, Runtime: av.Runtime,
		Created: av.CreateTime, Deployer: av.CreatedBy,
		ServingStatus: backend.ServingStatus(av.ServingStatus),
		Traffic:       split[av.ID],
		URL:           av.VersionURL,
	}
	if v.ServingStatus == "" {
		v.ServingStatus = backend.Serving
	}
	v.Bytes, _ = strconv.ParseInt(av.DiskUsageBytes, 10, 64)
	if av.Deployment != nil {
		v.Files = len(av.Deployment.Files)
	}
	return v
}

// CreateVersion implements backend.Backend: versions.create with the files
// manifest and the app.yaml converted as gcloud converts it.
func (b *Backend) CreateVersion(ctx context.Context, spec backend.VersionSpec) (backend.Version, error) {
	if err := ctx.Err(); err != nil {
		return backend.Version{}, err
	}
	project, err := b.projectOf(spec.App)
	if err != nil {
		return backend.Version{}, err
	}
	if spec.Service == "" || spec.Version == "" {
		return backend.Version{}, errors.New("CreateVersion needs a service and a version id")
	}
	bi, err := b.codeBucket(ctx, project)
	if err != nil {
		return backend.Version{}, err
	}
	var ds []string
	seen := map[string]bool{}
	var total int64
	for _, f := range spec.Files {
		if err := validDigest(f.SHA1); err != nil {
			return backend.Version{}, fmt.Errorf("file %s: %w", f.Path, err)
		}
		total += f.Size
		if !seen[f.SHA1] {
			seen[f.SHA1] = true
			ds = append(ds, f.SHA1)
		}
	}
	missing, err := b.MissingBlobs(ctx, project, bi.unseen(ds))
	if err != nil {
		return backend.Version{}, err
	}
	if len(missing) > 0 {
		return backend.Version{}, &backend.MissingBlobsError{Digests: missing}
	}
	body, err := versionBody(spec, bi.name)
	if err != nil {
		return backend.Version{}, err
	}
	op, err := b.operate(ctx, request{api: apiAdmin, method: "POST", body: body,
		url: b.adminURL("apps/%s/services/%s/versions", project, spec.Service)})
	if err != nil {
		return backend.Version{}, fmt.Errorf("creating version %s of service %s: %w", spec.Version, spec.Service, err)
	}
	v := backend.Version{App: project, Service: spec.Service, ID: spec.Version, Runtime: spec.Runtime,
		Files: len(spec.Files), Bytes: total, ServingStatus: backend.Serving, Created: b.now().UTC()}
	var created apiVersion
	if len(op.Response) > 0 && json.Unmarshal(op.Response, &created) == nil {
		if !created.CreateTime.IsZero() {
			v.Created = created.CreateTime
		}
		if created.ServingStatus != "" {
			v.ServingStatus = backend.ServingStatus(created.ServingStatus)
		}
		v.Deployer = created.CreatedBy
		v.URL = created.VersionURL
	}
	if svc, err := b.service(ctx, project, spec.Service); err == nil {
		v.Traffic = svc.allocations()[spec.Version]
		b.noteCreated(project, spec.Service, createdVersion{id: spec.Version, service: svc})
	}
	return v, nil
}

// createdVersion is a version CreateVersion made and its service as read
// just after: the promote that follows needs no second read of the
// service, and no list of its versions to learn that the version exists
// (it was just made) or which one had all the traffic before, when none
// other had (a first deploy of the service). On App Engine each read is a
// round trip of 0.1-0.3 s before the traffic moves; gcloud reads neither.
type createdVersion struct {
	id      string
	service apiService
}

// noteCreated remembers c until takeCreated takes (and forgets) it. The
// read it holds is as old as the promote's own read would be stale by the
// time its PATCH lands: another deploy moving the traffic in between is
// the same race either way.
func (b *Backend) noteCreated(project, service string, c createdVersion) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.created == nil {
		b.created = map[string]createdVersion{}
	}
	b.created[project+"/"+service] = c
}

func (b *Backend) takeCreated(project, service string) (createdVersion, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := project + "/" + service
	c, ok := b.created[k]
	delete(b.created, k)
	return c, ok
}

// CheckVersion implements backend.Preflight. The configuration must
// convert, and the version must be of the standard environment: gcloud
// deploys the flexible one (env: flex, or the Managed VMs vm: true) by
// building a container image with Cloud Build and then naming the image in
// versions.create, an exchange this backend does not speak; sending the
// files as a standard deploy does would make a body the API rejects.
func (b *Backend) CheckVersion(spec backend.VersionSpec) error {
	res, err := VersionResource(spec.Model)
	if err != nil {
		return err
	}
	env, _ := res["env"].(string)
	vm, _ := res["vm"].(bool)
	if (env != "" && env != "standard") || vm {
		what := "env: " + env
		if vm {
			what = "vm: true"
		}
		return fmt.Errorf("service %s uses the App Engine flexible environment (%s), which appcfg does not deploy: "+
			"its image is built with Cloud Build first; deploy it with `gcloud app deploy`", spec.Service, what)
	}
	return nil
}

// versionBody is the versions.create request body, encoded: the
// configuration through encoding/json, then deployment.files written
// straight after it (appendManifest).
func versionBody(spec backend.VersionSpec, bucket string) (json.RawMessage, error) {
	res, err := VersionResource(spec.Model)
	if err != nil {
		return nil, err
	}
	if spec.Runtime != "" {
		res["runtime"] = spec.Runtime
	}
	res["id"] = spec.Version
	delete(res, "deployment")
	conf, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("encoding version %s: %w", spec.Version, err)
	}
	m := manifest{files: spec.Files, prefix: "https://storage.googleapis.com/" + bucket + "/"}
	body := make([]byte, 0, len(conf)+m.size())
	body = append(body, conf[:len(conf)-1]...) // without its closing brace
	if len(conf) > 2 {
		body = append(body, ',')
	}
	body = append(body, `"deployment":{"files":`...)
	body = m.append(body)
	return append(body, "}}"...), nil
}

// manifest is a Version's deployment.files, a map from path to FileInfo,
// written straight from the deploy's file list. As a Go map given to
// encoding/json (which the request went through whole) it cost a map
// insert per file, a sort of the keys, a reflected encode of each value
// and a second pass over the result: 5-10 ms and a megabyte of fresh
// memory for 2,000 files, on the path from the end of the bucket listing
// to versions.create. The JSON is the same: keys in order, a repeated
// path once (its last entry, as a map keeps it), strings escaped as
// encoding/json escapes them (TestManifestEncodesAsAMap).
type manifest struct {
	files  []backend.FileRef
	prefix string // sourceUrl up to the digest
}

// size is about the length of the encoded manifest.
func (m manifest) size() int {
	n := 2
	for _, f := range m.files {
		n += len(f.Path) + len(m.prefix) + 2*len(f.SHA1) + len(f.MimeType) + 48
	}
	return n
}

// append appends the manifest as a JSON object to out.
func (m manifest) append(out []byte) []byte {
	order := make([]int, 0, len(m.files))
	for i := range m.files {
		order = append(order, i)
	}
	// Usually in order already (the walk's); stable, so that of repeated
	// paths the last comes last.
	if !slices.IsSortedFunc(order, m.byPath) {
		slices.SortStableFunc(order, m.byPath)
	}
	out = append(out, '{')
	first := true
	for k, i := range order {
		f := m.files[i]
		if k+1 < len(order) && m.files[order[k+1]].Path == f.Path {
			continue // the last of a repeated path wins
		}
		if !first {
			out = append(out, ',')
		}
		first = false
		out = appendJSONString(out, f.Path)
		out = append(out, `:{"sourceUrl":"`...)
		out = appendEscaped(out, m.prefix)
		out = appendEscaped(out, f.SHA1)
		out = append(out, '"')
		out = append(out, `,"sha1Sum":`...)
		out = appendJSONString(out, f.SHA1)
		if f.MimeType != "" {
			out = append(out, `,"mimeType":`...)
			out = appendJSONString(out, f.MimeType)
		}
		out = append(out, '}')
	}
	return append(out, '}')
}

func (m manifest) byPath(a, b int) int { return strings.Compare(m.files[a].Path, m.files[b].Path) }

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it (see appendEscaped).
func appendJSONString(out []byte, s string) []byte {
	out = append(out, '"')
	out = appendEscaped(out, s)
	return append(out, '"')
}

// appendEscaped appends s escaped for the inside of a JSON string as
// encoding/json escapes it: quotes, backslashes and control characters
// (\b \f \n \r \t by their letters, as encoding/json writes them since Go
// 1.22, the others as \u00XX); <, > and & as \u003c …; invalid UTF-8 as
// U+FFFD; U+2028 and U+2029. A run of bytes that need none is copied at
// once (FuzzAppendEscapedAsEncodingJSON).
func appendEscaped(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			out = append(out, s[start:i]...)
			switch c {
			case '"', '\\':
				out = append(out, '\\', c)
			case '\b':
				out = append(out, '\\', 'b')
			case '\f':
				out = append(out, '\\', 'f')
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			default:
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			out = append(out, s[start:i]...)
			out = append(out, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			out = append(out, s[start:i]...)
			out = append(out, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += n
			continue
		}
		i += n
		start = i
	}
	return append(out, s[start:]...)
}

func (b *Backend) service(ctx context.Context, project, service string) (apiService, error) {
	var s apiService
	err := b.do(ctx, request{api: apiAdmin, method: "GET", out: &s, idempotent: true,
		url: b.adminURL("apps/%s/services/%s", project, service)})
	return s, err
}

func (b *Backend) services(ctx context.Context, project string) ([]apiService, error) {
	var all []apiService
	err := paginate(func(token string) (string, error) {
		q := url.Values{"pageSize": {"100"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		var page struct {
			Services      []apiService `json:"services"`
			NextPageToken string       `json:"nextPageToken"`
		}
		err := b.do(ctx, request{api: apiAdmin, method: "GET", out: &page, idempotent: true,
			url: b.adminURL("apps/%s/services", project) + "?" + q.Encode()})
		all = append(all, page.Services...)
		return page.NextPageToken, err
	})
	if err == nil {
		b.mu.Lock()
		if b.noServices == nil {
			b.noServices = map[string]bool{}
		}
		b.noServices[project] = len(all) == 0
		b.mu.Unlock()
	}
	return all, err
}

func (b *Backend) versions(ctx context.Context, project, service string) ([]apiVersion, error) {
	var all []apiVersion
	err := paginate(func(token string) (string, error) {
		q := url.Values{"pageSize": {"100"}, "view": {"BASIC"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		var page struct {
			Versions      []apiVersion `json:"versions"`
			NextPageToken string       `json:"nextPageToken"`
		}
		err := b.do(ctx, request{api: apiAdmin, method: "GET", out: &page, idempotent: true,
			url: b.adminURL("apps/%s/services/%s/versions", project, service) + "?" + q.Encode()})
		all = append(all, page.Versions...)
		return page.NextPageToken, err
	})
	return all, err
}

// ListVersions implements backend.Versions. An app or service with nothing
// deployed lists nothing.
func (b *Backend) ListVersions(ctx context.Context, app, service string) ([]backend.Version, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	project, err := b.projectOf(app)
	if err != nil {
		return nil, err
	}
	var svcs []apiService
	if service == "" {
		svcs, err = b.services(ctx, project)
	} else {
		var s apiService
		s, err = b.service(ctx, project, service)
		svcs = []apiService{s}
	}
	if errors.Is(err, backend.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the versions of %s: %w", project, err)
	}
	var out []backend.Version
	for _, s := range svcs {
		vs, err := b.versions(ctx, project, s.ID)
		if errors.Is(err, backend.ErrNotFound) {
			continue // deleted in between, as gcloud tolerates
		}
		if err != nil {
			return nil, fmt.Errorf("listing the versions of service %s: %w", s.ID, err)
		}
		for _, av := range vs {
			out = append(out, toVersion(project, s.ID, av, s.allocations()))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Service != out[j].Service {
			return out[i].Service < out[j].Service
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Version implements backend.Versions (view FULL, to count the files).
func (b *Backend) Version(ctx context.Context, app, service, version string) (backend.Version, error) {
	if err := ctx.Err(); err != nil {
		return backend.Version{}, err
	}
	project, err := b.projectOf(app)
	if err != nil {
		return backend.Version{}, err
	}
	var av apiVersion
	err = b.do(ctx, request{api: apiAdmin, method: "GET", out: &av, idempotent: true,
		url: b.adminURL("apps/%s/services/%s/versions/%s", project, service, version) + "?view=FULL"})
	if err != nil {
		return backend.Version{}, fmt.Errorf("version %s of service %s of %s: %w", version, service, project, err)
	}
	svc, err := b.service(ctx, project, service)
	if err != nil {
		return backend.Version{}, fmt.Errorf("service %s of %s: %w", service, project, err)
	}
	return toVersion(project, service, av, svc.allocations()), nil
}

// normaliseSplit checks shares and rounds them to 2 decimals (the API's
// precision for IP sharding), folding the rounding error into the largest
// share as gcloud does.
func normaliseSplit(split map[string]float64) (map[string]float64, error) {
	if len(split) == 0 {
		return nil, errors.New("the traffic split names no version")
	}
	sum := 0.0
	largest := ""
	for v, s := range split {
		if !(s > 0 && s <= 1) || math.IsNaN(s) {
			return nil, fmt.Errorf("version %s: traffic share %v is not in (0, 1]", v, s)
		}
		sum += s
		if largest == "" || s > split[largest] || s == split[largest] && v < largest {
			largest = v
		}
	}
	if math.Abs(sum-1) > 1e-9 {
		return nil, fmt.Errorf("the traffic shares sum to %v, not 1", sum)
	}
	out := make(map[string]float64, len(split))
	rsum := 0.0
	for v, s := range split {
		r := math.Round(s*100) / 100
		if r == 0 {
			return nil, fmt.Errorf("version %s: traffic share %v is below the 0.01 App Engine can route", v, s)
		}
		out[v] = r
		rsum += r
	}
	out[largest] = math.Round((out[largest]+1-rsum)*100) / 100
	return out, nil
}

// idlesForFree reports whether a version costs nothing without traffic:
// a standard version with automatic scaling (the default scaling).
func (v apiVersion) idlesForFree() bool {
	standard := v.Env == "" || v.Env == "standard"
	return standard && len(v.BasicScaling) == 0 && len(v.ManualScaling) == 0
}

// SetTraffic implements backend.Versions with services.patch of the split.
// A promote (all traffic to one version, no migration) then stops the
// version that had all the traffic before, when it is serving and would
// bill idle instances (flexible, basic or manual scaling), as gcloud's
// deploy does unless Options.KeepPrevious.
func (b *Backend) SetTraffic(ctx context.Context, app, service string, split map[string]float64, migrate bool) error {
	return b.setSplit(ctx, app, service, split, migrate, "")
}

// SetTrafficSplit implements backend.TrafficSplitter: the split with
// App Engine's shardBy IP, COOKIE or RANDOM.
func (b *Backend) SetTrafficSplit(ctx context.Context, app, service string, split map[string]float64, by backend.SplitBy) error {
	shardBy := map[backend.SplitBy]string{backend.SplitByIP: "IP", backend.SplitByCookie: "COOKIE", backend.SplitByRandom: "RANDOM"}[by]
	if shardBy == "" {
		return fmt.Errorf("unknown split method %q: use ip, cookie or random", by)
	}
	return b.setSplit(ctx, app, service, split, false, shardBy)
}

// setSplit is SetTraffic with the shardBy to send ("" for the default:
// IP, or UNSPECIFIED for a promote as gcloud's).
func (b *Backend) setSplit(ctx context.Context, app, service string, split map[string]float64, migrate bool, by string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	project, err := b.projectOf(app)
	if err != nil {
		return err
	}
	alloc, err := normaliseSplit(split)
	if err != nil {
		return err
	}
	promote := len(alloc) == 1 && !migrate
	// The promote of the version this backend just created knows the
	// version exists and how the traffic stood (createdVersion).
	c, fresh := b.takeCreated(project, service)
	fresh = fresh && promote && alloc[c.id] > 0
	// The versions are listed to check that those named exist and to
	// know the previous one's scaling and status: not needed when the
	// only version named was just created and no other one had all the
	// traffic (or --keep_previous_version keeps it as it is).
	have := map[string]apiVersion{}
	if !fresh || (!b.keepPrevious && c.service.soleOther(c.id)) {
		vs, err := b.versions(ctx, project, service)
		if err != nil {
			return fmt.Errorf("service %s of %s: %w", service, project, err)
		}
		for _, v := range vs {
			have[v.ID] = v
		}
		for v := range alloc {
			if _, ok := have[v]; !ok {
				return fmt.Errorf("version %s of service %s of %s: %w", v, service, project, backend.ErrNotFound)
			}
		}
	}
	shardBy := "IP"
	switch {
	case by != "":
		shardBy = by
	case promote:
		shardBy = "UNSPECIFIED" // as gcloud's promote
	}
	// The version to stop after a promote: the one that had all the
	// traffic, read before the split changes.
	var previous *apiVersion
	if promote && !b.keepPrevious {
		// A service just created by its first version may not be
		// readable yet (gcloud retries its promote for this): then
		// nothing had the traffic before.
		svc := c.service
		if !fresh {
			var err error
			svc, err = b.service(ctx, project, service)
			if err != nil && !errors.Is(err, backend.ErrNotFound) {
				return fmt.Errorf("service %s of %s: %w", service, project, err)
			}
		}
		for id, share := range svc.allocations() {
			if pv, ok := have[id]; ok && share == 1 && alloc[id] == 0 && pv.ServingStatus != string(backend.Stopped) && !pv.idlesForFree() {
				previous = &pv
			}
		}
	}
	body := map[string]any{"split": map[string]any{"allocations": alloc, "shardBy": shardBy}}
	u := b.adminURL("apps/%s/services/%s", project, service) + "?" + url.Values{
		"updateMask": {"split"}, "migrateTraffic": {strconv.FormatBool(migrate)}}.Encode()
	if _, err := b.operate(ctx, request{api: apiAdmin, method: "PATCH", url: u, body: body, idempotent: true}); err != nil {
		return fmt.Errorf("routing the traffic of service %s: %w", service, err)
	}
	if previous != nil {
		if err := b.SetServingStatus(ctx, project, service, previous.ID, backend.Stopped); err != nil {
			return fmt.Errorf("all traffic of service %s now goes to the new version, but the previous version %s, which bills instances while idle, could not be stopped; stop it with `gcloud app versions stop %s --service %s`: %w", service, previous.ID, previous.ID, service, err)
		}
	}
	return nil
}

// SetServingStatus implements backend.Versions.
func (b *Backend) SetServingStatus(ctx context.Context, app, service, version string, status backend.ServingStatus) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	project, err := b.projectOf(app)
	if err != nil {
		return err
	}
	if status != backend.Serving && status != backend.Stopped {
		return fmt.Errorf("unknown serving status %q", status)
	}
	_, err = b.operate(ctx, request{api: apiAdmin, method: "PATCH", idempotent: true,
		body: map[string]any{"servingStatus": string(status)},
		url:  b.adminURL("apps/%s/services/%s/versions/%s", project, service, version) + "?updateMask=servingStatus"})
	if err != nil {
		return fmt.Errorf("setting version %s of service %s to %s: %w", version, service, status, err)
	}
	return nil
}

// DeleteVersion implements backend.Versions; like gcloud it refuses a
// version that still has a share of the traffic.
func (b *Backend) DeleteVersion(ctx context.Context, app, service, version string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	project, err := b.projectOf(app)
	if err != nil {
		return err
	}
	svc, err := b.service(ctx, project, service)
	if err != nil {
		return fmt.Errorf("service %s of %s: %w", service, project, err)
	}
	if share := svc.allocations()[version]; share > 0 {
		return fmt.Errorf("version %s of service %s receives %.0f%% of the traffic; route it elsewhere first: %w", version, service, share*100, backend.ErrVersionServing)
	}
	_, err = b.operate(ctx, request{api: apiAdmin, method: "DELETE",
		url: b.adminURL("apps/%s/services/%s/versions/%s", project, service, version)})
	if err != nil {
		return fmt.Errorf("deleting version %s of service %s: %w", version, service, err)
	}
	return nil
}
