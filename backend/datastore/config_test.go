package datastore

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/backend"
)

func TestParseConfig(t *testing.T) {
	tests := []struct {
		rest     string
		project  string
		endpoint string
		database string
		err      string
	}{
		{rest: "//my-proj", project: "my-proj", endpoint: DefaultEndpoint},
		{rest: "my-proj", project: "my-proj", endpoint: DefaultEndpoint},
		{rest: "", endpoint: DefaultEndpoint},
		{rest: "//", endpoint: DefaultEndpoint},
		{rest: "//p?endpoint=127.0.0.1:8081", project: "p", endpoint: "http://127.0.0.1:8081"},
		{rest: "//p?endpoint=localhost:8081", project: "p", endpoint: "http://localhost:8081"},
		{rest: "//p?endpoint=http://[::1]:9/", project: "p", endpoint: "http://[::1]:9"},
		{rest: "//p?endpoint=https://eu-datastore.example.com/api/", project: "p", endpoint: "https://eu-datastore.example.com/api"},
		{rest: "//?endpoint=127.0.0.1:1", endpoint: "http://127.0.0.1:1"},
		{rest: "//p?database=db-2", project: "p", endpoint: DefaultEndpoint, database: "db-2"},
		{rest: "//example.com:proj", project: "example.com:proj", endpoint: DefaultEndpoint},
		{rest: "//127.0.0.1:8081", err: "host:port"},
		{rest: "//p?endpoint=http://10.0.0.1:8081", err: "not loopback"},
		{rest: "//p?endpoint=example.com:8081", err: "not loopback"},
		{rest: "//p?endpoint=ftp://127.0.0.1", err: "http or https"},
		{rest: "//p?database=(default)", err: "not a database id"},
		{rest: "//p?color=blue", err: "unknown option"},
		{rest: "//p/extra", err: "only a project"},
		{rest: "//user@p", err: "only a project"},
		{rest: "//p%20q", err: "datastore"},
	}
	for _, tt := range tests {
		t.Run(tt.rest, func(t *testing.T) {
			cfg, err := ParseConfig(tt.rest)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseConfig(%q) error = %v, want one containing %q", tt.rest, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseConfig(%q): %v", tt.rest, err)
			}
			if cfg.Project != tt.project || cfg.Endpoint != tt.endpoint || cfg.Database != tt.database {
				t.Fatalf("ParseConfig(%q) = %+v, want project %q endpoint %q database %q", tt.rest, cfg, tt.project, tt.endpoint, tt.database)
			}
			if cfg.Retry.MaxAttempts == 0 {
				t.Errorf("no retry policy")
			}
		})
	}
}

func TestProjectFor(t *testing.T) {
	named := Config{Project: "proj"}
	tests := []struct {
		cfg  Config
		app  string
		want string
		err  string
	}{
		{named, "", "proj", ""},
		{named, "proj", "proj", ""},
		{named, "s~proj", "proj", ""},
		{named, "other", "", "names project"},
		{Config{}, "e~app-1", "app-1", ""},
		{Config{}, "", "", "no project"},
		{Config{}, "bad/app", "", "not a project id"},
	}
	for _, tt := range tests {
		got, err := tt.cfg.projectFor(tt.app)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("projectFor(%q) in %+v: error %v, want %q", tt.app, tt.cfg, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("projectFor(%q) in %+v = %q, %v; want %q", tt.app, tt.cfg, got, err, tt.want)
		}
	}
}

func TestFactory(t *testing.T) {
	f := NewFactory()
	if f.Scheme() != "datastore" {
		t.Fatalf("Scheme() = %q", f.Scheme())
	}
	// A remote endpoint without credentials is refused at open.
	if _, err := f.Open(t.Context(), "datastore://p", "//p", backend.Env{}); err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("open without credentials: %v, want an error asking for credentials", err)
	}
	b, err := f.Open(t.Context(), "datastore://p", "//p", backend.Env{HTTPClient: http.DefaultClient})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.Location() != "datastore://p" {
		t.Errorf("Location() = %q", b.Location())
	}
	if b.Properties().Connections <= 0 {
		t.Errorf("Properties() = %+v, want some connections", b.Properties())
	}
	// It stores entities only: deploying is a capability it lacks, and
	// the refusal says so in words a user reads.
	if _, err := backend.AsDeployer(b); !errors.Is(err, backend.ErrUnsupported) || !strings.Contains(err.Error(), "backend datastore://p cannot deploy versions") {
		t.Errorf("AsDeployer: %v, want ErrUnsupported saying it cannot deploy versions", err)
	}
	if _, err := backend.As[backend.Entities](b, "entities"); err != nil {
		t.Errorf("As[Entities]: %v", err)
	}
	// The emulator needs no credentials.
	e, err := f.Open(t.Context(), "datastore://p?endpoint=127.0.0.1:1", "//p?endpoint=127.0.0.1:1", backend.Env{})
	if err != nil {
		t.Fatalf("open emulator location: %v", err)
	}
	e.Close()
}
