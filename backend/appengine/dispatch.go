package appengine

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/appcfg/appcfg/backend"
)

// Why cron, queue and dos are not stored: the Admin API no longer takes
// them (gcloud sends cron.yaml to Cloud Scheduler, queue.yaml to Cloud Tasks,
// and DoS rules became firewall rules).
var unsupportedConfigs = map[backend.ConfigKind]string{
	backend.ConfigCron:  "cron.yaml is deployed to Cloud Scheduler now, which this backend does not speak; deploy it with `gcloud app deploy cron.yaml`",
	backend.ConfigQueue: "queue.yaml is deployed to Cloud Tasks now, which this backend does not speak; deploy it with `gcloud app deploy queue.yaml`",
	backend.ConfigDOS:   "dos.yaml was replaced by App Engine firewall rules; use `gcloud app firewall-rules`",
}

type dispatchRule struct {
	Domain  string `json:"domain"`
	Path    string `json:"path"`
	Service string `json:"service"`
}

// dispatchRules converts dispatch.yaml to the Application's dispatchRules:
// url "<domain><path>" is split at its first "/".
func dispatchRules(doc []byte) ([]dispatchRule, error) {
	var d struct {
		Dispatch []struct {
			URL     string `yaml:"url"`
			Service string `yaml:"service"`
			Module  string `yaml:"module"`
		} `yaml:"dispatch"`
	}
	if err := yaml.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("reading dispatch.yaml: %w", err)
	}
	rules := make([]dispatchRule, 0, len(d.Dispatch))
	for i, e := range d.Dispatch {
		slash := strings.IndexByte(e.URL, '/')
		if slash < 0 {
			return nil, fmt.Errorf("dispatch.yaml rule %d: url %q has no path (it must look like DOMAIN/PATH, e.g. */api/*)", i+1, e.URL)
		}
		svc := e.Service
		if svc == "" {
			svc = e.Module
		}
		rules = append(rules, dispatchRule{Domain: e.URL[:slash], Path: e.URL[slash:], Service: svc})
	}
	return rules, nil
}

// CheckConfig implements backend.Preflight: App Engine takes dispatch
// rules only.
func (b *Backend) CheckConfig(kind backend.ConfigKind) error {
	if why, ok := unsupportedConfigs[kind]; ok {
		return fmt.Errorf("%s: %w", why, backend.ErrUnsupported)
	}
	if kind != backend.ConfigDispatch {
		return fmt.Errorf("unknown configuration kind %q: %w", kind, backend.ErrUnsupported)
	}
	return nil
}

// PutConfig implements backend.ConfigStore for dispatch (apps.patch of
// dispatchRules); other kinds return ErrUnsupported with what to do.
func (b *Backend) PutConfig(ctx context.Context, app string, kind backend.ConfigKind, doc []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := b.CheckConfig(kind); err != nil {
		return err
	}
	project, err := b.projectOf(app)
	if err != nil {
		return err
	}
	rules, err := dispatchRules(doc)
	if err != nil {
		return err
	}
	_, err = b.operate(ctx, request{api: apiAdmin, method: "PATCH", idempotent: true,
		body: map[string]any{"dispatchRules": rules},
		url:  b.adminURL("apps/%s", project) + "?updateMask=dispatchRules"})
	if err != nil {
		return fmt.Errorf("updating the dispatch rules of %s: %w", project, err)
	}
	return nil
}

// Config implements backend.ConfigStore for dispatch: the rules the
// application holds, rendered back as dispatch.yaml (ErrNotFound when it
// has none).
func (b *Backend) Config(ctx context.Context, app string, kind backend.ConfigKind) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := b.CheckConfig(kind); err != nil {
		return nil, err
	}
	project, err := b.projectOf(app)
	if err != nil {
		return nil, err
	}
	var a struct {
		DispatchRules []dispatchRule `json:"dispatchRules"`
	}
	if err := b.do(ctx, request{api: apiAdmin, method: "GET", url: b.adminURL("apps/%s", project), out: &a, idempotent: true}); err != nil {
		return nil, fmt.Errorf("reading the dispatch rules of %s: %w", project, err)
	}
	if len(a.DispatchRules) == 0 {
		return nil, fmt.Errorf("%s has no dispatch rules: %w", project, backend.ErrNotFound)
	}
	type entry struct {
		URL     string `yaml:"url"`
		Service string `yaml:"service"`
	}
	var d struct {
		Dispatch []entry `yaml:"dispatch"`
	}
	for _, r := range a.DispatchRules {
		d.Dispatch = append(d.Dispatch, entry{URL: r.Domain + r.Path, Service: r.Service})
	}
	out, err := yaml.Marshal(d)
	if err != nil {
		return nil, errors.New("rendering dispatch.yaml: " + err.Error())
	}
	return out, nil
}
