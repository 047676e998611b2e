package datastore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/loopback"
)

// maxCommitBytes is the byte budget of one commit body: the API takes at
// most 10 MiB per request, and a batch of 500 large entities exceeds it.
const maxCommitBytes = 9 << 20

// defaultPageSize is the page QueryEntities returns when the caller gives
// no limit.
const defaultPageSize = 500

// maxQueryRounds bounds the runQuery calls one page or one Kinds listing
// makes, in case a server keeps answering NOT_FINISHED.
const maxQueryRounds = 10000

// Backend is a Datastore (or its emulator) reached over the API v1 REST.
// It is safe for concurrent use. It stores entities only: it has no
// backend.Deployer capability, so a deploy to it is refused before a file
// is read.
type Backend struct {
	location string
	cfg      Config
	c        client
	ownHTTP  bool // the client is ours, so Close may close its connections
}

var (
	_ backend.Backend        = (*Backend)(nil)
	_ backend.Entities       = (*Backend)(nil)
	_ backend.Factory        = (*Factory)(nil)
	_ backend.ProjectLocator = (*Factory)(nil)
)

// Factory opens datastore backends; see NewFactory.
type Factory struct{}

// NewFactory returns the factory for locations with the scheme "datastore".
func NewFactory() *Factory { return &Factory{} }

// Scheme is "datastore".
func (*Factory) Scheme() string { return "datastore" }

// LocationProject implements backend.ProjectLocator: the project of
// datastore://PROJECT.
func (*Factory) LocationProject(rest string) (string, error) {
	cfg, err := ParseConfig(rest)
	return cfg.Project, err
}

// Open opens the Datastore a location names; see ParseConfig.
func (*Factory) Open(ctx context.Context, location, rest string, env backend.Env) (backend.Backend, error) {
	cfg, err := ParseConfig(rest)
	if err != nil {
		return nil, err
	}
	return New(location, cfg, env.HTTPClient)
}

// New returns a backend for cfg. hc is the authenticated client; nil is
// allowed only for a loopback endpoint (an emulator needs no credentials).
func New(location string, cfg Config, hc *http.Client) (*Backend, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("datastore endpoint %q is not a URL", cfg.Endpoint)
	}
	own := false
	if hc == nil {
		if !loopback.Host(u.Hostname()) {
			return nil, fmt.Errorf("the datastore backend at %s needs Google credentials and none were given; log in (gcloud auth application-default login) or point it at an emulator with datastore://PROJECT?endpoint=127.0.0.1:8081", cfg.Endpoint)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// Bulk loads run several commits at once; keep their
		// connections instead of reopening one per call.
		tr.MaxIdleConnsPerHost = 32
		hc = &http.Client{Transport: tr}
		own = true
	}
	if cfg.Retry.MaxAttempts == 0 {
		cfg.Retry = DefaultRetry()
	}
	return &Backend{
		location: location,
		cfg:      cfg,
		c:        client{http: hc, endpoint: cfg.Endpoint, retry: cfg.Retry},
		ownHTTP:  own,
	}, nil
}

// Location returns the location the backend was opened with; it holds no
// secret.
func (b *Backend) Location() string { return b.location }

// Properties: Datastore serves many concurrent commits.
func (b *Backend) Properties() backend.Properties {
	return backend.Properties{Connections: 8}
}

// Close releases idle connections of the backend's own HTTP client.
func (b *Backend) Close() error {
	if b.ownHTTP {
		b.c.http.CloseIdleConnections()
	}
	return nil
}

// PutEntities upserts ents without a transaction. Incomplete keys get ids
// from allocateIds first, so that every commit holds only complete keys and
// can be retried without creating an entity twice. Two entities with the
// same key in one batch store the later one, as two upserts in a row would.
func (b *Backend) PutEntities(ctx context.Context, app string, ents []backend.Entity) ([]backend.Key, error) {
	if len(ents) > backend.MaxEntityBatch {
		return nil, fmt.Errorf("datastore: %d entities in one batch; at most %d", len(ents), backend.MaxEntityBatch)
	}
	if len(ents) == 0 {
		return nil, nil
	}
	project, err := b.cfg.projectFor(app)
	if err != nil {
		return nil, err
	}
	enc := encoder{project: project, database: b.cfg.Database}
	wire := make([]*wireEnt, len(ents))
	var incomplete, numbered []int
	for i := range ents {
		w, err := enc.entity(&ents[i])
		if err != nil {
			where := "entity " + strconv.Itoa(i)
			if ents[i].Key != nil {
				where += " (" + backend.KeyString(*ents[i].Key) + ")"
			}
			return nil, fmt.Errorf("datastore: %s: %w", where, err)
		}
		last := w.Key.Path[len(w.Key.Path)-1]
		switch {
		case last.ID != "":
			numbered = append(numbered, i)
		case last.Name == "":
			incomplete = append(incomplete, i)
		}
		wire[i] = w
	}
	if err := b.reserve(ctx, project, wire, numbered); err != nil {
		return nil, err
	}
	if err := b.allocate(ctx, project, wire, incomplete); err != nil {
		return nil, err
	}
	keys := make([]backend.Key, len(ents))
	for i, w := range wire {
		k, err := keyFromWire(w.Key)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	if err := b.commit(ctx, project, wire); err != nil {
		return nil, err
	}
	return keys, nil
}

// AllocateIDs implements backend.IDAllocator with allocateIds.
func (b *Backend) AllocateIDs(ctx context.Context, app string, key backend.Key, n int) ([]backend.Key, error) {
	if n < 1 || n > backend.MaxEntityBatch {
		return nil, fmt.Errorf("datastore: allocating %d ids; 1 to %d at once", n, backend.MaxEntityBatch)
	}
	project, err := b.cfg.projectFor(app)
	if err != nil {
		return nil, err
	}
	if err := backend.CheckKey(&key, true); err != nil {
		return nil, fmt.Errorf("datastore: %w", err)
	}
	if last := key.Path[len(key.Path)-1]; last.ID != 0 || last.Name != "" {
		return nil, fmt.Errorf("datastore: allocating ids for the complete key %s", backend.KeyString(key))
	}
	enc := encoder{project: project, database: b.cfg.Database}
	wire := make([]*wireEnt, n)
	idx := make([]int, n)
	for i := range wire {
		wire[i] = &wireEnt{Key: enc.key(&key)}
		idx[i] = i
	}
	if err := b.allocate(ctx, project, wire, idx); err != nil {
		return nil, err
	}
	keys := make([]backend.Key, n)
	for i, w := range wire {
		if keys[i], err = keyFromWire(w.Key); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// reserve tells Datastore that the numeric ids of wire[idx...] are taken,
// so that ids it allocates later (for this load or the application) never
// overwrite an imported entity.
func (b *Backend) reserve(ctx context.Context, project string, wire []*wireEnt, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	return b.c.call(ctx, project, "reserveIds", b.keysBody(wire, idx), nil)
}

// keysRequest is the body of allocateIds and reserveIds.
type keysRequest struct {
	DatabaseID string     `json:"databaseId,omitempty"`
	Keys       []*wireKey `json:"keys"`
}

// keysBody is the keysRequest naming the keys of wire[idx...]. Keys hold
// only strings, so encoding cannot fail.
func (b *Backend) keysBody(wire []*wireEnt, idx []int) []byte {
	req := keysRequest{DatabaseID: b.cfg.Database}
	for _, i := range idx {
		req.Keys = append(req.Keys, wire[i].Key)
	}
	body, _ := json.Marshal(req)
	return body
}

// allocate completes the keys of wire[idx...] with ids from allocateIds.
func (b *Backend) allocate(ctx context.Context, project string, wire []*wireEnt, idx []int) error {
	if len(idx) == 0 {
		return nil
	}
	var resp struct {
		Keys []wireKey `json:"keys"`
	}
	if err := b.c.call(ctx, project, "allocateIds", b.keysBody(wire, idx), &resp); err != nil {
		return err
	}
	if len(resp.Keys) != len(idx) {
		return fmt.Errorf("datastore allocateIds at %s: asked for %d ids, got %d", b.cfg.Endpoint, len(idx), len(resp.Keys))
	}
	for j, i := range idx {
		k := resp.Keys[j]
		if len(k.Path) != len(wire[i].Key.Path) || k.Path[len(k.Path)-1].ID == "" {
			return fmt.Errorf("datastore allocateIds at %s: key %d came back incomplete", b.cfg.Endpoint, j)
		}
		// Keep our partition (the server may omit empty fields) and
		// take only the allocated id.
		wire[i].Key.Path[len(k.Path)-1].ID = k.Path[len(k.Path)-1].ID
	}
	return nil
}

// commit upserts wire in as few NON_TRANSACTIONAL commits as the byte
// budget allows. A commit may not touch one entity twice, so of entities
// sharing a key only the last is sent.
func (b *Backend) commit(ctx context.Context, project string, wire []*wireEnt) error {
	lastOf := make(map[string]int, len(wire))
	keyOf := make([]string, len(wire))
	for i, w := range wire {
		kb, err := json.Marshal(w.Key)
		if err != nil {
			return fmt.Errorf("datastore: encoding a key: %w", err)
		}
		keyOf[i] = string(kb)
		lastOf[keyOf[i]] = i
	}
	prefix := []byte(`{"mode":"NON_TRANSACTIONAL",`)
	if b.cfg.Database != "" {
		prefix = append(prefix, `"databaseId":`+strconv.Quote(b.cfg.Database)+`,`...)
	}
	prefix = append(prefix, `"mutations":[`...)
	var body bytes.Buffer
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		body.WriteString("]}")
		err := b.c.call(ctx, project, "commit", body.Bytes(), nil)
		body.Reset()
		n = 0
		return err
	}
	for i, w := range wire {
		if lastOf[keyOf[i]] != i {
			continue
		}
		eb, err := json.Marshal(w)
		if err != nil {
			return fmt.Errorf("datastore: encoding entity %d: %w", i, err)
		}
		if len(eb)+len(prefix)+16 > maxCommitBytes {
			return fmt.Errorf("datastore: entity %d is %d bytes encoded; a request is at most 10 MiB and an entity at most 1 MiB", i, len(eb))
		}
		if n > 0 && body.Len()+len(eb)+16 > maxCommitBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		if n == 0 {
			body.Write(prefix)
		} else {
			body.WriteByte(',')
		}
		body.WriteString(`{"upsert":`)
		body.Write(eb)
		body.WriteByte('}')
		n++
	}
	return flush()
}

func keyFromWire(w *wireKey) (backend.Key, error) {
	raw, err := json.Marshal(w)
	if err != nil {
		return backend.Key{}, err
	}
	k, err := decodeKey(raw)
	if err != nil {
		return backend.Key{}, err
	}
	return *k, nil
}

// queryResult is a runQuery reply.
type queryResult struct {
	Batch struct {
		EntityResults []struct {
			Entity json.RawMessage `json:"entity"`
			Cursor string          `json:"cursor"`
		} `json:"entityResults"`
		EndCursor   string `json:"endCursor"`
		MoreResults string `json:"moreResults"`
	} `json:"batch"`
}

type kindRef struct {
	Name string `json:"name"`
}

type propertyOrder struct {
	Property  kindRef `json:"property"`
	Direction string  `json:"direction,omitempty"`
}

type wireQuery struct {
	Kind        []kindRef       `json:"kind"`
	Projection  []propertyOrder `json:"projection,omitempty"`
	Order       []propertyOrder `json:"order,omitempty"`
	StartCursor string          `json:"startCursor,omitempty"`
	Limit       int             `json:"limit,omitempty"`
}

type runQueryRequest struct {
	DatabaseID  string        `json:"databaseId,omitempty"`
	PartitionID wirePartition `json:"partitionId"`
	Query       wireQuery     `json:"query"`
}

// runQuery sends one runQuery call.
func (b *Backend) runQuery(ctx context.Context, project, namespace string, q wireQuery) (*queryResult, error) {
	body, err := json.Marshal(runQueryRequest{
		DatabaseID:  b.cfg.Database,
		PartitionID: wirePartition{ProjectID: project, NamespaceID: namespace, DatabaseID: b.cfg.Database},
		Query:       q,
	})
	if err != nil {
		return nil, fmt.Errorf("datastore: encoding a query: %w", err)
	}
	var res queryResult
	if err := b.c.call(ctx, project, "runQuery", body, &res); err != nil {
		return nil, err
	}
	if res.Batch.MoreResults == "NOT_FINISHED" && res.Batch.EndCursor == "" {
		return nil, fmt.Errorf("datastore runQuery at %s: the server said NOT_FINISHED without a cursor to continue from", b.cfg.Endpoint)
	}
	return &res, nil
}

// QueryEntities returns up to limit entities of q's kind and namespace in
// key order, after cursor. It asks for one entity more than limit: when it
// comes, the page is full and the cursor after the limit-th entity
// continues; when it does not, there are no more and the cursor is "".
// Each runQuery batch is followed only while the server says NOT_FINISHED,
// the one rule that ends correctly on Datastore and both emulators.
func (b *Backend) QueryEntities(ctx context.Context, app string, q backend.EntityQuery, cursor string, limit int) ([]backend.Entity, string, error) {
	project, err := b.cfg.projectFor(app)
	if err != nil {
		return nil, "", err
	}
	if q.Kind == "" || !utf8.ValidString(q.Kind) || len(q.Kind) > backend.MaxNameBytes {
		return nil, "", fmt.Errorf("datastore query: kind %q: a kind is 1 to %d bytes of UTF-8", q.Kind, backend.MaxNameBytes)
	}
	if err := backend.ValidNamespace(q.Namespace); err != nil {
		return nil, "", fmt.Errorf("datastore query: %w", err)
	}
	if limit <= 0 {
		limit = defaultPageSize
	}
	want := limit + 1
	type result struct {
		raw    json.RawMessage
		cursor string
	}
	var got []result
	start := cursor
	for round := 0; len(got) < want; round++ {
		if round >= maxQueryRounds {
			return nil, "", fmt.Errorf("datastore runQuery at %s: no end after %d batches", b.cfg.Endpoint, round)
		}
		res, err := b.runQuery(ctx, project, q.Namespace, wireQuery{
			Kind:        []kindRef{{Name: q.Kind}},
			Order:       []propertyOrder{{Property: kindRef{Name: "__key__"}, Direction: "ASCENDING"}},
			StartCursor: start,
			Limit:       want - len(got),
		})
		if err != nil {
			if start != "" && isAPIStatus(err, "INVALID_ARGUMENT") && start == cursor {
				return nil, "", fmt.Errorf("the export cursor was refused (it belongs to another query or has expired); start the export again: %w", err)
			}
			return nil, "", err
		}
		for _, er := range res.Batch.EntityResults {
			got = append(got, result{er.Entity, er.Cursor})
		}
		if res.Batch.MoreResults != "NOT_FINISHED" {
			break
		}
		start = res.Batch.EndCursor
	}
	next := ""
	if len(got) > limit {
		next = got[limit-1].cursor
		if next == "" {
			return nil, "", fmt.Errorf("datastore runQuery at %s: the server gave no per-entity cursor; cannot page", b.cfg.Endpoint)
		}
		got = got[:limit]
	}
	ents := make([]backend.Entity, len(got))
	for i, r := range got {
		e, err := decodeEntity(r.raw)
		if err != nil {
			return nil, "", fmt.Errorf("datastore: entity %d of kind %s: %w", i, q.Kind, err)
		}
		ents[i] = e
	}
	return ents, next, nil
}

// Kinds lists the kinds with entities in namespace from a keys-only
// __kind__ query. Datastore's own kinds (__Stat_Kind__ and the like) are
// left out.
func (b *Backend) Kinds(ctx context.Context, app, namespace string) ([]string, error) {
	project, err := b.cfg.projectFor(app)
	if err != nil {
		return nil, err
	}
	if err := backend.ValidNamespace(namespace); err != nil {
		return nil, fmt.Errorf("datastore: %w", err)
	}
	var kinds []string
	start := ""
	for round := 0; ; round++ {
		if round >= maxQueryRounds {
			return nil, fmt.Errorf("datastore runQuery at %s: the kind list did not end after %d batches", b.cfg.Endpoint, round)
		}
		res, err := b.runQuery(ctx, project, namespace, wireQuery{
			Kind:        []kindRef{{Name: "__kind__"}},
			Projection:  []propertyOrder{{Property: kindRef{Name: "__key__"}}},
			StartCursor: start,
		})
		if isAPIStatus(err, "INVALID_ARGUMENT") {
			// The Firestore emulator in Datastore mode has no kind
			// queries.
			return nil, fmt.Errorf("%w; this host cannot list kinds: name the kind to export (--kind)", err)
		}
		if err != nil {
			return nil, err
		}
		for _, er := range res.Batch.EntityResults {
			var e struct {
				Key wireKey `json:"key"`
			}
			if err := json.Unmarshal(er.Entity, &e); err != nil || len(e.Key.Path) == 0 {
				return nil, fmt.Errorf("datastore runQuery at %s: a __kind__ result without a key", b.cfg.Endpoint)
			}
			name := e.Key.Path[len(e.Key.Path)-1].Name
			if name != "" && !strings.HasPrefix(name, "__") {
				kinds = append(kinds, name)
			}
		}
		if res.Batch.MoreResults != "NOT_FINISHED" {
			break
		}
		start = res.Batch.EndCursor
	}
	sort.Strings(kinds)
	return kinds, nil
}
