package local

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

func TestParseConfig(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	env := backend.Env{DataDir: "/home/u/.local/share/appcfg"}
	tests := []struct {
		name    string
		rest    string
		env     backend.Env
		want    string
		wantErr bool
	}{
		{"default data dir", "", env, "/home/u/.local/share/appcfg", false},
		{"no data dir", "", backend.Env{}, "", true},
		{"absolute", "/srv/appcfg", env, "/srv/appcfg", false},
		{"relative", "store", env, filepath.Join(wd, "store"), false},
		{"dot segments", "/srv/x/../appcfg/", env, "/srv/appcfg", false},
		{"url form", "///srv/appcfg", env, "/srv/appcfg", false},
		{"url with host", "//host/srv", env, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseConfig(tt.rest, tt.env)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseConfig(%q) error = %v, want error %v", tt.rest, err, tt.wantErr)
			}
			if got.Root != tt.want {
				t.Fatalf("ParseConfig(%q).Root = %q, want %q", tt.rest, got.Root, tt.want)
			}
		})
	}
}

func TestFactory(t *testing.T) {
	f := NewFactory()
	if f.Scheme() != "local" {
		t.Fatalf("Scheme() = %q", f.Scheme())
	}
	dir := filepath.Join(t.TempDir(), "a dir?with#odd%chars")
	b, err := f.Open(t.Context(), "local:"+dir, dir, backend.Env{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Location() != "local:"+dir {
		t.Errorf("Location() = %q", b.Location())
	}
	if _, err := os.Stat(filepath.Join(dir, dbName)); err != nil {
		t.Fatalf("the database is not inside the store directory: %v", err)
	}
}
