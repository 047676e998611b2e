package appengine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/backoff"
)

// Datastore Admin API v1 index resource (GoogleDatastoreAdminV1Index).
type apiIndex struct {
	IndexID    string `json:"indexId,omitempty"`
	Kind       string `json:"kind"`
	Ancestor   string `json:"ancestor"`
	Properties []struct {
		Name      string `json:"name"`
		Direction string `json:"direction"`
	} `json:"properties"`
	State string `json:"state,omitempty"`
}

var indexStates = map[string]backend.IndexState{
	"CREATING": backend.IndexBuilding,
	"READY":    backend.IndexServing,
	"DELETING": backend.IndexDeleting,
	"ERROR":    backend.IndexError,
}

func (ix apiIndex) toIndex() backend.Index {
	out := backend.Index{ID: ix.IndexID, State: indexStates[ix.State],
		Def: backend.IndexDef{Kind: ix.Kind, Ancestor: ix.Ancestor == "ALL_ANCESTORS"}}
	if out.State == "" {
		out.State = backend.IndexBuilding
	}
	for _, p := range ix.Properties {
		d := "asc"
		if p.Direction == "DESCENDING" {
			d = "desc"
		}
		out.Def.Properties = append(out.Def.Properties, backend.IndexProperty{Name: p.Name, Direction: d})
	}
	return out
}

// indexBody is the create request: only the writable fields.
func indexBody(d backend.IndexDef) map[string]any {
	anc := "NONE"
	if d.Ancestor {
		anc = "ALL_ANCESTORS"
	}
	props := make([]map[string]string, 0, len(d.Properties))
	for _, p := range d.Properties {
		dir := "ASCENDING"
		if p.Direction == "desc" || p.Direction == "descending" {
			dir = "DESCENDING"
		}
		props = append(props, map[string]string{"name": p.Name, "direction": dir})
	}
	return map[string]any{"kind": d.Kind, "ancestor": anc, "properties": props}
}

// defKey compares definitions as gcloud does: a trailing __key__ ascending
// is redundant and ignored.
func defKey(d backend.IndexDef) string {
	props := d.Properties
	if n := len(props); n > 0 && props[n-1].Name == "__key__" && props[n-1].Direction != "desc" {
		props = props[:n-1]
	}
	k, _ := json.Marshal(struct {
		K string
		A bool
		P []backend.IndexProperty
	}{d.Kind, d.Ancestor, props})
	return string(k)
}

func (b *Backend) indexesURL(project string) string {
	return b.ep.Datastore + "v1/" + escapedf("projects/%s/indexes", project)
}

// ListIndexes implements backend.IndexManager.
func (b *Backend) ListIndexes(ctx context.Context, app string) ([]backend.Index, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	project, err := b.projectOf(app)
	if err != nil {
		return nil, err
	}
	var out []backend.Index
	err = paginate(func(token string) (string, error) {
		q := url.Values{"pageSize": {"500"}}
		if token != "" {
			q.Set("pageToken", token)
		}
		var page struct {
			Indexes       []apiIndex `json:"indexes"`
			NextPageToken string     `json:"nextPageToken"`
		}
		if err := b.do(ctx, request{api: apiDatastore, method: "GET", out: &page, idempotent: true,
			url: b.indexesURL(project) + "?" + q.Encode()}); err != nil {
			return "", fmt.Errorf("listing the indexes of %s: %w", project, err)
		}
		for _, ix := range page.Indexes {
			out = append(out, ix.toIndex())
		}
		return page.NextPageToken, nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// CreateIndexes implements backend.IndexManager: one create per missing
// definition; the builds are not awaited (states say how they go).
func (b *Backend) CreateIndexes(ctx context.Context, app string, defs []backend.IndexDef) ([]backend.Index, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	project, err := b.projectOf(app)
	if err != nil {
		return nil, err
	}
	existing, err := b.ListIndexes(ctx, project)
	if err != nil {
		return nil, err
	}
	byKey := map[string]backend.Index{}
	for _, ix := range existing {
		if ix.State != backend.IndexDeleting {
			byKey[defKey(ix.Def)] = ix
		}
	}
	out := make([]backend.Index, len(defs))
	for i, d := range defs {
		k := defKey(d)
		if ix, ok := byKey[k]; ok {
			ix.Def = d
			out[i] = ix
			continue
		}
		var op operation
		err := b.do(ctx, request{api: apiDatastore, method: "POST", body: indexBody(d), out: &op,
			url: b.indexesURL(project)})
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == http.StatusConflict {
			// Created meanwhile by another deploy: use that index.
			ix, lerr := b.findIndex(ctx, project, k)
			if lerr != nil {
				return nil, fmt.Errorf("creating the index of kind %s: %w", d.Kind, lerr)
			}
			ix.Def = d
			byKey[k] = ix
			out[i] = ix
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("creating the index of kind %s: %w", d.Kind, err)
		}
		var meta struct {
			IndexID string `json:"indexId"`
		}
		if len(op.Metadata) > 0 {
			_ = json.Unmarshal(op.Metadata, &meta)
		}
		if op.Error != nil {
			return nil, fmt.Errorf("creating the index of kind %s: %w", d.Kind,
				&OperationError{API: apiDatastore, Name: op.Name, Code: op.Error.Code, Message: op.Error.Message})
		}
		if meta.IndexID == "" {
			return nil, fmt.Errorf("creating the index of kind %s: the operation %s names no index id", d.Kind, op.Name)
		}
		ix := backend.Index{ID: meta.IndexID, Def: d, State: backend.IndexBuilding}
		byKey[k] = ix
		out[i] = ix
	}
	return out, nil
}

// findIndex lists the indexes for the one with definition key k. The
// list is eventually consistent, so a few lists are tried.
func (b *Backend) findIndex(ctx context.Context, project, k string) (backend.Index, error) {
	for try := 0; try < b.retry.attempts; try++ {
		list, err := b.ListIndexes(ctx, project)
		if err != nil {
			return backend.Index{}, err
		}
		for _, ix := range list {
			if ix.State != backend.IndexDeleting && defKey(ix.Def) == k {
				return ix, nil
			}
		}
		if err := backoff.Sleep(ctx, b.retry.backoff(try)); err != nil {
			return backend.Index{}, err
		}
	}
	return backend.Index{}, errors.New("the API says the index exists but does not list it; run the command again in a minute")
}

// DeleteIndex implements backend.IndexManager; the index goes DELETING.
func (b *Backend) DeleteIndex(ctx context.Context, app, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	project, err := b.projectOf(app)
	if err != nil {
		return err
	}
	var op operation
	err = b.do(ctx, request{api: apiDatastore, method: "DELETE", out: &op,
		url: b.indexesURL(project) + "/" + url.PathEscape(id)})
	if err != nil {
		return fmt.Errorf("deleting index %s of %s: %w", id, project, err)
	}
	if op.Error != nil {
		err := &OperationError{API: apiDatastore, Name: op.Name, Code: op.Error.Code, Message: op.Error.Message}
		if errors.Is(err, backend.ErrNotFound) {
			return fmt.Errorf("deleting index %s of %s: %w", id, project, err)
		}
		return err
	}
	return nil
}
