package backendtest

import (
	"testing"

	"github.com/appcfg/appcfg/backend"
)

func (s suite) configTests() []subtest {
	return []subtest{
		{"PutThenGet", s.testConfigPutThenGet},
		{"NotFound", s.testConfigNotFound},
	}
}

func (s suite) testConfigPutThenGet(t *testing.T) {
	b, app := s.open(t), newApp(t)
	cs := capability[backend.ConfigStore](t, b, "cron, queue, dispatch and dos configuration")
	cron := []byte("cron:\n- url: /tasks/summary\n  schedule: every 24 hours\n")
	queue := []byte("queue:\n- name: default\n  rate: 5/s\n")
	must(t, "PutConfig(cron)", cs.PutConfig(t.Context(), app, backend.ConfigCron, cron))
	must(t, "PutConfig(queue)", cs.PutConfig(t.Context(), app, backend.ConfigQueue, queue))
	must(t, "PutConfig(queue) again", cs.PutConfig(t.Context(), app, backend.ConfigQueue, queue))
	for kind, want := range map[backend.ConfigKind][]byte{backend.ConfigCron: cron, backend.ConfigQueue: queue} {
		got, err := cs.Config(t.Context(), app, kind)
		must(t, "Config", err)
		if string(got) != string(want) {
			t.Fatalf("Config(%s) = %q, want %q", kind, got, want)
		}
	}
	cron2 := []byte("cron: []\n")
	must(t, "PutConfig(cron) replacing", cs.PutConfig(t.Context(), app, backend.ConfigCron, cron2))
	got, err := cs.Config(t.Context(), app, backend.ConfigCron)
	must(t, "Config", err)
	if string(got) != string(cron2) {
		t.Fatalf("Config(cron) after replacing = %q, want %q", got, cron2)
	}
}

func (s suite) testConfigNotFound(t *testing.T) {
	b, app := s.open(t), newApp(t)
	cs := capability[backend.ConfigStore](t, b, "cron, queue, dispatch and dos configuration")
	_, err := cs.Config(t.Context(), app, backend.ConfigDispatch)
	wantErr(t, "Config of an unknown app", err, backend.ErrNotFound)
	must(t, "PutConfig", cs.PutConfig(t.Context(), app, backend.ConfigCron, []byte("cron: []\n")))
	_, err = cs.Config(t.Context(), app, backend.ConfigDOS)
	wantErr(t, "Config of a kind never stored", err, backend.ErrNotFound)
}
