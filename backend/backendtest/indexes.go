package backendtest

import (
	"sort"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

func (s suite) indexTests() []subtest {
	return []subtest{
		{"CreateIdempotent", s.testIndexCreateIdempotent},
		{"BuildsToServing", s.testIndexBuildsToServing},
		{"CreateNeverDeletes", s.testIndexCreateNeverDeletes},
		{"Delete", s.testIndexDelete},
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
	_, err := im.CreateIndexes(t.Context(), app, []backend.IndexDef{greetingByDate})
	must(t, "CreateIndexes", err)
	// A host builds in the background; the state is polled, as
	// update_indexes does. An app with no entities builds at once.
	for poll := 0; ; poll++ {
		list := listIndexes(t, im, app)
		if len(list) != 1 {
			t.Fatalf("ListIndexes has %d indexes, want 1", len(list))
		}
		if list[0].State == backend.IndexServing {
			return
		}
		if list[0].State != backend.IndexBuilding || poll == 50 {
			t.Fatalf("index of an app with no entities is %s after %d polls, want SERVING", list[0].State, poll+1)
		}
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
