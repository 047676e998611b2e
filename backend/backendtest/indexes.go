package backendtest

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

func (s suite) indexTests() []subtest {
	return []subtest{
		{"CreateIdempotent", s.testIndexCreateIdempotent},
		{"BuildsToServing", s.testIndexBuildsToServing},
		{"CreateNeverDeletes", s.testIndexCreateNeverDeletes},
		{"Delete", s.testIndexDelete},
		{"ListMatchesCreate", s.testIndexListMatchesCreate},
		{"AppsApart", s.testIndexAppsApart},
		{"DeleteThenRecreate", s.testIndexDeleteThenRecreate},
		{"ConcurrentCreate", s.testIndexConcurrentCreate},
	}
}

var (
	greetingByDate = backend.IndexDef{Kind: "Greeting", Ancestor: true,
		Properties: []backend.IndexProperty{{Name: "date", Direction: "desc"}}}
	greetingByAuthorDate = backend.IndexDef{Kind: "Greeting",
		Properties: []backend.IndexProperty{{Name: "author", Direction: "asc"}, {Name: "date", Direction: "desc"}}}
	// The same properties as greetingByAuthorDate in another order: a
	// different index.
	greetingByDateAuthor = backend.IndexDef{Kind: "Greeting",
		Properties: []backend.IndexProperty{{Name: "date", Direction: "desc"}, {Name: "author", Direction: "asc"}}}
)

func sameDef(a, b backend.IndexDef) bool {
	if a.Kind != b.Kind || a.Ancestor != b.Ancestor || len(a.Properties) != len(b.Properties) {
		return false
	}
	for i := range a.Properties {
		if a.Properties[i] != b.Properties[i] {
			return false
		}
	}
	return true
}

func listIndexes(t *testing.T, im backend.IndexManager, app string) []backend.Index {
	t.Helper()
	list, err := im.ListIndexes(t.Context(), app)
	must(t, "ListIndexes", err)
	if !sort.SliceIsSorted(list, func(i, j int) bool { return list[i].ID < list[j].ID }) {
		t.Fatalf("ListIndexes is not ordered by ID: %+v", list)
	}
	return list
}

func (s suite) testIndexCreateIdempotent(t *testing.T) {
	b, app := s.open(t), newApp(t)
	im := capability[backend.IndexManager](t, b, "indexes")
	defs := []backend.IndexDef{greetingByDate, greetingByAuthorDate, greetingByDateAuthor}
	first, err := im.CreateIndexes(t.Context(), app, defs)
	must(t, "CreateIndexes", err)
	if len(first) != len(defs) {
		t.Fatalf("CreateIndexes returned %d indexes for %d definitions", len(first), len(defs))
	}
	ids := map[string]bool{}
	for i, ix := range first {
		if !sameDef(ix.Def, defs[i]) {
			t.Errorf("CreateIndexes result %d is %+v, want the definition %+v", i, ix.Def, defs[i])
		}
		if ix.ID == "" || ids[ix.ID] {
			t.Errorf("CreateIndexes result %d has empty or repeated ID %q", i, ix.ID)
		}
		ids[ix.ID] = true
		if ix.State != backend.IndexBuilding && ix.State != backend.IndexServing {
			t.Errorf("a new index is %s, want BUILDING or SERVING", ix.State)
		}
	}
	again, err := im.CreateIndexes(t.Context(), app, []backend.IndexDef{greetingByAuthorDate, greetingByDate})
	must(t, "CreateIndexes again", err)
	if len(again) != 2 || again[0].ID != first[1].ID || again[1].ID != first[0].ID {
		t.Fatalf("CreateIndexes of existing definitions returned %+v, want IDs %s, %s", again, first[1].ID, first[0].ID)
	}
	if list := listIndexes(t, im, app); len(list) != 3 {
		t.Fatalf("after creating the same indexes twice, ListIndexes has %d, want 3", len(list))
	}
}

func (s suite) testIndexBuildsToServing(t *testing.T) {
	b, app := s.open(t), newApp(t)
	im := capability[backend.IndexManager](t, b, "indexes")
	created, err := im.CreateIndexes(t.Context(), app, []backend.IndexDef{greetingByDate, greetingByAuthorDate})
	must(t, "CreateIndexes", err)
	for _, ix := range created {
		waitServing(t, im, app, ix.ID)
	}
}

// waitServing polls, as update_indexes --wait does, until the index serves.
// A host builds in the background; an app with no entities must finish
// within the bound (100 polls, 30 seconds).
func waitServing(t *testing.T, im backend.IndexManager, app, id string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pause := time.Millisecond
	for poll := 1; ; poll++ {
		list, err := im.ListIndexes(ctx, app)
		must(t, "ListIndexes", err)
		var state backend.IndexState
		for _, ix := range list {
			if ix.ID == id {
				state = ix.State
			}
		}
		switch {
		case state == backend.IndexServing:
			return
		case state != backend.IndexBuilding:
			t.Fatalf("index %s of an app with no entities is %q after %d polls, want BUILDING then SERVING", id, state, poll)
		case poll == 100:
			t.Fatalf("index %s of an app with no entities still BUILDING after %d polls", id, poll)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("index %s of an app with no entities still BUILDING after %d polls: %v", id, poll, ctx.Err())
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

func (s suite) testIndexListMatchesCreate(t *testing.T) {
	b, app := s.open(t), newApp(t)
	im := capability[backend.IndexManager](t, b, "indexes")
	defs := []backend.IndexDef{greetingByDate, greetingByAuthorDate, greetingByDateAuthor,
		{Kind: "Photo", Properties: []backend.IndexProperty{{Name: "album", Direction: "asc"}, {Name: "__key__", Direction: "desc"}}}}
	created, err := im.CreateIndexes(t.Context(), app, defs)
	must(t, "CreateIndexes", err)
	byID := map[string]backend.IndexDef{}
	for i, ix := range created {
		byID[ix.ID] = defs[i]
	}
	list := listIndexes(t, im, app)
	if len(list) != len(defs) {
		t.Fatalf("ListIndexes has %d indexes after creating %d", len(list), len(defs))
	}
	for _, ix := range list {
		want, ok := byID[ix.ID]
		if !ok {
			t.Fatalf("ListIndexes has index %s that CreateIndexes did not return", ix.ID)
		}
		if !sameDef(ix.Def, want) {
			t.Errorf("index %s is listed as %+v, want the definition created, %+v", ix.ID, ix.Def, want)
		}
	}
}

func (s suite) testIndexAppsApart(t *testing.T) {
	b, app, other := s.open(t), newApp(t), newApp(t)
	im := capability[backend.IndexManager](t, b, "indexes")
	created, err := im.CreateIndexes(t.Context(), app, []backend.IndexDef{greetingByDate})
	must(t, "CreateIndexes", err)
	_, err = im.CreateIndexes(t.Context(), other, []backend.IndexDef{greetingByAuthorDate})
	must(t, "CreateIndexes", err)
	if list := listIndexes(t, im, other); len(list) != 1 || !sameDef(list[0].Def, greetingByAuthorDate) {
		t.Fatalf("ListIndexes of the second app = %+v, want only its own index", list)
	}
	err = im.DeleteIndex(t.Context(), other, created[0].ID)
	if list := listIndexes(t, im, app); len(list) != 1 || list[0].ID != created[0].ID || list[0].State == backend.IndexDeleting {
		t.Fatalf("DeleteIndex through another app (err %v) touched the index: %+v", err, list)
	}
}

func (s suite) testIndexDeleteThenRecreate(t *testing.T) {
	b, app := s.open(t), newApp(t)
	im := capability[backend.IndexManager](t, b, "indexes")
	created, err := im.CreateIndexes(t.Context(), app, []backend.IndexDef{greetingByDate})
	must(t, "CreateIndexes", err)
	waitServing(t, im, app, created[0].ID)
	must(t, "DeleteIndex", im.DeleteIndex(t.Context(), app, created[0].ID))
	again, err := im.CreateIndexes(t.Context(), app, []backend.IndexDef{greetingByDate})
	must(t, "CreateIndexes after DeleteIndex", err)
	if len(again) != 1 || !sameDef(again[0].Def, greetingByDate) {
		t.Fatalf("CreateIndexes after DeleteIndex = %+v, want the index again", again)
	}
	waitServing(t, im, app, again[0].ID)
}

func (s suite) testIndexConcurrentCreate(t *testing.T) {
	b, app := s.open(t), newApp(t)
	im := capability[backend.IndexManager](t, b, "indexes")
	defs := []backend.IndexDef{greetingByDate, greetingByAuthorDate, greetingByDateAuthor}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = im.CreateIndexes(t.Context(), app, defs)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		must(t, "concurrent CreateIndexes", err)
	}
	if list := listIndexes(t, im, app); len(list) != len(defs) {
		t.Fatalf("after 4 concurrent CreateIndexes of %d definitions, ListIndexes has %d", len(defs), len(list))
	}
}

func (s suite) testIndexCreateNeverDeletes(t *testing.T) {
	b, app := s.open(t), newApp(t)
	im := capability[backend.IndexManager](t, b, "indexes")
	_, err := im.CreateIndexes(t.Context(), app, []backend.IndexDef{greetingByDate, greetingByAuthorDate})
	must(t, "CreateIndexes", err)
	_, err = im.CreateIndexes(t.Context(), app, []backend.IndexDef{greetingByDateAuthor})
	must(t, "CreateIndexes", err)
	if list := listIndexes(t, im, app); len(list) != 3 {
		t.Fatalf("ListIndexes has %d indexes, want 3: CreateIndexes must not delete", len(list))
	}
	if list, err := im.ListIndexes(t.Context(), newApp(t)); err != nil || len(list) != 0 {
		t.Fatalf("ListIndexes of an app with none = %v, %v; want none", list, err)
	}
}

func (s suite) testIndexDelete(t *testing.T) {
	b, app := s.open(t), newApp(t)
	im := capability[backend.IndexManager](t, b, "indexes")
	created, err := im.CreateIndexes(t.Context(), app, []backend.IndexDef{greetingByDate, greetingByAuthorDate})
	must(t, "CreateIndexes", err)
	must(t, "DeleteIndex", im.DeleteIndex(t.Context(), app, created[0].ID))
	list := listIndexes(t, im, app)
	for _, ix := range list {
		if ix.ID == created[0].ID && ix.State != backend.IndexDeleting {
			t.Fatalf("a deleted index is listed as %s, want it gone or DELETING", ix.State)
		}
	}
	if len(list) == 1 && list[0].ID != created[1].ID {
		t.Fatalf("DeleteIndex removed the wrong index: left %+v", list)
	}
	err = im.DeleteIndex(t.Context(), app, "no-such-index")
	wantErr(t, "DeleteIndex of an unknown id", err, backend.ErrNotFound)
}
