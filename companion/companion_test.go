package companion

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/local"
	"github.com/appcfg/appcfg/internal/progress"
)

// failingStore is a local store whose configuration puts of some kinds fail.
type failingStore struct {
	*local.Backend
	fail map[backend.ConfigKind]bool
}

func (f *failingStore) PutConfig(ctx context.Context, app string, kind backend.ConfigKind, doc []byte) error {
	if f.fail[kind] {
		return errors.New("host said no")
	}
	return f.Backend.PutConfig(ctx, app, kind, doc)
}

func openStore(t *testing.T, fail ...backend.ConfigKind) *failingStore {
	t.Helper()
	b, err := local.Open(t.Context(), "", local.Config{Root: t.TempDir()}, backend.Env{User: "tester"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	f := &failingStore{Backend: b, fail: map[backend.ConfigKind]bool{}}
	for _, k := range fail {
		f.fail[k] = true
	}
	return f
}

func TestDocumentNamesTheAppOnlyInDispatch(t *testing.T) {
	tests := []struct {
		cfg     any
		kind    backend.ConfigKind
		entries int
		want    string
	}{
		{&appconfig.CronInfo{Application: "fromfile", Cron: []*appconfig.CronEntry{{URL: "/a", Schedule: "every 5 minutes"}}},
			backend.ConfigCron, 1, "cron:\n    - url: /a\n      schedule: every 5 minutes\n"},
		{&appconfig.QueueInfo{Application: "fromfile", Queue: []*appconfig.QueueEntry{{Name: "q"}, {Name: "r"}}},
			backend.ConfigQueue, 2, "queue:\n    - name: q\n    - name: r\n"},
		{&appconfig.DOSInfo{Application: "fromfile", Blacklist: []*appconfig.BlacklistEntry{{Subnet: "192.0.2.0/24"}}},
			backend.ConfigDOS, 1, "blacklist:\n    - subnet: 192.0.2.0/24\n"},
		{&appconfig.DispatchInfo{Application: "fromfile", Dispatch: []*appconfig.DispatchEntry{{URL: "*/a", Service: "default"}}},
			backend.ConfigDispatch, 1, "application: theapp\ndispatch:\n    - url: '*/a'\n      service: default\n"},
	}
	for _, tt := range tests {
		f, err := Document("x.yaml", tt.cfg, "theapp")
		if err != nil {
			t.Fatalf("%T: %v", tt.cfg, err)
		}
		if f.Kind != tt.kind || f.Entries != tt.entries || string(f.Doc) != tt.want {
			t.Errorf("%T: kind %s, %d entries, document\n%s\nwant %s, %d entries,\n%s", tt.cfg, f.Kind, f.Entries, f.Doc, tt.kind, tt.entries, tt.want)
		}
	}
	if _, err := Document("app.yaml", &appconfig.App{}, "theapp"); err == nil {
		t.Error("an app.yaml model has a document form")
	}
}

func TestSetPushesInLegacyOrderAndOnlyDispatchAndDOSFailuresStop(t *testing.T) {
	models := map[string]any{
		"dispatch.yaml": &appconfig.DispatchInfo{Dispatch: []*appconfig.DispatchEntry{{URL: "*/a", Service: "default"}}},
		"cron.yaml":     &appconfig.CronInfo{Cron: []*appconfig.CronEntry{{URL: "/a", Schedule: "every 5 minutes"}}},
		"dos.yaml":      &appconfig.DOSInfo{Blacklist: []*appconfig.BlacklistEntry{{Subnet: "192.0.2.0/24"}}},
		"queue.yaml":    &appconfig.QueueInfo{Queue: []*appconfig.QueueEntry{{Name: "q"}}},
		"absent.yaml":   (*appconfig.CronInfo)(nil),
	}
	newSet := func() *Set {
		s := &Set{App: "theapp"}
		for path, m := range models {
			if err := s.Add(path, m); err != nil {
				t.Fatal(err)
			}
		}
		return s
	}

	pushed, warnings, err := newSet().Push(t.Context(), openStore(t), progress.Nop{})
	if err != nil || strings.Join(pushed, ",") != "cron,queue,dos,dispatch" || len(warnings) != 0 {
		t.Fatalf("push = %v, %v, %v; want cron,queue,dos,dispatch pushed in that order", pushed, warnings, err)
	}

	pushed, warnings, err = newSet().Push(t.Context(), openStore(t, backend.ConfigCron, backend.ConfigQueue), progress.Nop{})
	if err != nil || strings.Join(pushed, ",") != "dos,dispatch" || len(warnings) != 2 ||
		!strings.Contains(warnings[0], "cron tasks: host said no") || !strings.Contains(warnings[1], "queues: host said no") {
		t.Fatalf("push with cron and queue refused = %v, %q, %v; want two warnings and the rest pushed", pushed, warnings, err)
	}

	pushed, _, err = newSet().Push(t.Context(), openStore(t, backend.ConfigDOS), progress.Nop{})
	if err == nil || !strings.Contains(err.Error(), "dos.yaml could not be pushed") || strings.Join(pushed, ",") != "cron,queue" {
		t.Fatalf("push with dos refused = %v, %v; want an error naming dos.yaml after cron and queue", pushed, err)
	}
}

func TestSetIndexesGoFirstThroughUpdateIndexes(t *testing.T) {
	var got *appconfig.IndexDefinitions
	s := &Set{App: "theapp", UpdateIndexes: func(_ context.Context, _ backend.IndexManager, app string, defs *appconfig.IndexDefinitions, _ progress.Reporter) error {
		if app != "theapp" {
			t.Errorf("indexes pushed to %q", app)
		}
		got = defs
		return nil
	}}
	defs := &appconfig.IndexDefinitions{Indexes: []*appconfig.Index{{Kind: "Greeting"}}}
	if err := s.Add("index.yaml", defs); err != nil {
		t.Fatal(err)
	}
	pushed, _, err := s.Push(t.Context(), openStore(t), nil)
	if err != nil || got != defs || strings.Join(pushed, ",") != "indexes" {
		t.Fatalf("push = %v, %v; UpdateIndexes got %v; want index.yaml's definitions pushed", pushed, err, got)
	}
	s.UpdateIndexes = func(context.Context, backend.IndexManager, string, *appconfig.IndexDefinitions, progress.Reporter) error {
		return errors.New("quota")
	}
	if pushed, warnings, err := s.Push(t.Context(), openStore(t), nil); err != nil || len(pushed) != 0 || len(warnings) != 1 || !strings.Contains(warnings[0], "indexes: quota") {
		t.Fatalf("failed index push = %v, %q, %v; want one warning, no error", pushed, warnings, err)
	}
}
