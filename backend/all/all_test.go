package all

import (
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

func TestDefaultDataDir(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{"xdg", map[string]string{"XDG_DATA_HOME": "/x/data", "HOME": "/home/u"}, "/x/data/appcfg", false},
		{"home", map[string]string{"HOME": "/home/u"}, "/home/u/.local/share/appcfg", false},
		{"relative xdg ignored", map[string]string{"XDG_DATA_HOME": "rel", "HOME": "/home/u"}, "/home/u/.local/share/appcfg", false},
		{"nothing", map[string]string{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DefaultDataDir(func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("DefaultDataDir error = %v, want error %v", err, tt.wantErr)
			}
			if got != filepath.FromSlash(tt.want) {
				t.Fatalf("DefaultDataDir = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRegistryOpensLocal(t *testing.T) {
	r := Registry(Options{})
	if got := r.Schemes(); !slices.Contains(got, "local") || !slices.IsSorted(got) {
		t.Fatalf("Schemes() = %v, want a sorted list holding local", got)
	}
	dir := t.TempDir()
	b, err := r.Open(t.Context(), "local:"+dir, backend.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Location() != "local:"+dir {
		t.Errorf("Location() = %q, want %q", b.Location(), "local:"+dir)
	}
	b2, err := r.Open(t.Context(), "local", backend.Env{DataDir: filepath.Join(dir, "data")})
	if err != nil {
		t.Fatalf("opening local with a data dir: %v", err)
	}
	defer b2.Close()
	if _, err := r.Open(t.Context(), "local", backend.Env{}); err == nil {
		t.Error("opening local with no data dir succeeded, want an error")
	}
	_, err = r.Open(t.Context(), "nosuch://x", backend.Env{})
	if err == nil || errors.Is(err, backend.ErrNotFound) {
		t.Errorf("opening an unknown scheme: %v, want an error naming the schemes", err)
	}
}

// TestLocationProject: the project a location names, read by the factory
// of its scheme without opening anything.
func TestLocationProject(t *testing.T) {
	tests := []struct {
		location, want string
		wantErr        bool
	}{
		{"local", "", false},
		{"local:/tmp/store", "", false},
		{"appengine", "", false},
		{"appengine://staging-proj", "staging-proj", false},
		{"appengine:staging-proj", "staging-proj", false},
		{"appengine://staging-proj/?appengine=http://127.0.0.1:1/", "staging-proj", false},
		{"appengine://p?%zz", "", true},
		{"datastore://dsproj?endpoint=127.0.0.1:8081", "dsproj", false},
		{"datastore:", "", false},
		{"datastore://a/b", "", true},
		{"nosuch://x", "", false},
	}
	for _, tt := range tests {
		got, err := Registry(Options{}).Project(tt.location)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("Project(%q) = %q, %v; want %q, error %v", tt.location, got, err, tt.want, tt.wantErr)
		}
	}
}
