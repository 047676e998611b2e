package companion

import (
	"context"
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/human"
	"github.com/appcfg/appcfg/internal/progress"
)

// File is one companion configuration as the host stores it.
type File struct {
	Kind    backend.ConfigKind
	Path    string // the file it was read from, for messages
	Doc     []byte // the YAML document pushed
	Entries int    // jobs, queues, rules or subnets it lists
}

// Document is the File pushed for a validated companion model
// (*appconfig.CronInfo, QueueInfo, DOSInfo or DispatchInfo) of app, read
// from path. As the legacy tool sent them, the document has no
// application: key, except dispatch.yaml's, which names app: the host
// stores the configuration under app, whatever the file said.
func Document(path string, cfg any, app string) (File, error) {
	f := File{Path: path}
	var v any
	switch c := cfg.(type) {
	case *appconfig.CronInfo:
		cp := *c
		cp.Application = ""
		v, f.Kind, f.Entries = &cp, backend.ConfigCron, len(c.Cron)
	case *appconfig.QueueInfo:
		cp := *c
		cp.Application = ""
		v, f.Kind, f.Entries = &cp, backend.ConfigQueue, len(c.Queue)
	case *appconfig.DOSInfo:
		cp := *c
		cp.Application = ""
		v, f.Kind, f.Entries = &cp, backend.ConfigDOS, len(c.Blacklist)
	case *appconfig.DispatchInfo:
		cp := *c
		cp.Application = app
		v, f.Kind, f.Entries = &cp, backend.ConfigDispatch, len(c.Dispatch)
	default:
		return f, fmt.Errorf("%s: no document form for %T", path, cfg)
	}
	doc, err := yaml.Marshal(v)
	if err != nil {
		return f, fmt.Errorf("serialising %s: %w", path, err)
	}
	f.Doc = doc
	return f, nil
}

// Store is b's store of configurations, or an error saying b keeps none
// of kind.
func Store(b backend.Backend, kind backend.ConfigKind) (backend.ConfigStore, error) {
	return backend.As[backend.ConfigStore](b, string(kind)+" configuration")
}

// Push replaces app's configuration of f's kind in cs with f.
func (f File) Push(ctx context.Context, cs backend.ConfigStore, app string) error {
	return cs.PutConfig(ctx, app, f.Kind, f.Doc)
}

// order is the legacy order of pushes: dispatch last, as its rules name
// the services the pushes before it may concern.
var order = []backend.ConfigKind{backend.ConfigCron, backend.ConfigQueue, backend.ConfigDOS, backend.ConfigDispatch}

// UpdateIndexes adds the index definitions the host lacks, as update_indexes
// does, without waiting for them to build.
type UpdateIndexes func(ctx context.Context, im backend.IndexManager, app string, defs *appconfig.IndexDefinitions, rep progress.Reporter) error

// Set is the companion files of one update of App.
type Set struct {
	App string
	// Indexes is index.yaml's model; nil pushes no indexes.
	Indexes *appconfig.IndexDefinitions
	// UpdateIndexes pushes Indexes; required when Indexes is set.
	UpdateIndexes UpdateIndexes
	// Files are the documents to push, kept in the legacy order.
	Files []File
}

// Add adds a validated companion model read from path: index definitions,
// or a model Document takes. A nil model (the file is absent or was not
// read) adds nothing.
func (s *Set) Add(path string, cfg any) error {
	if defs, ok := cfg.(*appconfig.IndexDefinitions); ok {
		if defs != nil {
			s.Indexes = defs
		}
		return nil
	}
	if isNil(cfg) {
		return nil
	}
	f, err := Document(path, cfg, s.App)
	if err != nil {
		return err
	}
	s.Files = append(s.Files, f)
	slices.SortStableFunc(s.Files, func(a, b File) int {
		return slices.Index(order, a.Kind) - slices.Index(order, b.Kind)
	})
	return nil
}

// isNil reports whether cfg holds no model: a nil interface or a nil
// pointer to one of the models.
func isNil(cfg any) bool {
	switch c := cfg.(type) {
	case nil:
		return true
	case *appconfig.CronInfo:
		return c == nil
	case *appconfig.QueueInfo:
		return c == nil
	case *appconfig.DOSInfo:
		return c == nil
	case *appconfig.DispatchInfo:
		return c == nil
	}
	return false
}

// Names are what Push pushes, in its order: "indexes", then the kinds of
// the files ("cron", "queue", "dos", "dispatch").
func (s *Set) Names() []string {
	var names []string
	if s.Indexes != nil {
		names = append(names, "indexes")
	}
	for _, f := range s.Files {
		names = append(names, string(f.Kind))
	}
	return names
}

// Empty reports whether the set pushes nothing.
func (s *Set) Empty() bool { return s == nil || s.Indexes == nil && len(s.Files) == 0 }

// Check asks a host that can tell (backend.Preflight) whether it takes
// each file, before a deploy sends anything, and drops those it does not
// take; it returns a warning naming each, and what replaced it.
func (s *Set) Check(b backend.Backend) []string {
	p, ok := b.(backend.Preflight)
	if !ok || s == nil {
		return nil
	}
	var warnings []string
	kept := s.Files[:0:0]
	for _, f := range s.Files {
		if err := p.CheckConfig(f.Kind); err != nil {
			warnings = append(warnings, fmt.Sprintf("%s is not deployed: %v", f.Path, err))
			continue
		}
		kept = append(kept, f)
	}
	s.Files = kept
	return warnings
}

// Unsupported returns an error naming the first part of the set b has no
// way to take at all (wrapping backend.ErrUnsupported), nil when b takes
// every part. An update of companion files alone asks it before pushing
// anything: with no service deployed there is no "your app was updated",
// so a host that cannot take what was named is a failure, as update_cron
// and the other single pushes report it, not a warning after a partial push.
func (s *Set) Unsupported(b backend.Backend) error {
	if s.Indexes != nil {
		if _, err := backend.As[backend.IndexManager](b, "indexes"); err != nil {
			return err
		}
	}
	for _, f := range s.Files {
		if _, err := Store(b, f.Kind); err != nil {
			return fmt.Errorf("%s is not pushed: %w", human.Path(f.Path), err)
		}
	}
	return nil
}

// Push pushes the set to b: indexes first, then the files in the legacy
// order. As there, failing to push indexes, cron or queues leaves a working
// app and is only a warning (given to rep and returned); dispatch and DoS
// rules decide where traffic goes, so failing to push them is an error.
// It returns what was pushed ("indexes", "cron" …) in order.
func (s *Set) Push(ctx context.Context, b backend.Backend, rep progress.Reporter) (pushed, warnings []string, err error) {
	rep = progress.Or(rep)
	warn := func(msg string) {
		warnings = append(warnings, msg)
		rep.Warn(msg)
	}
	if s.Indexes != nil {
		if err := s.pushIndexes(ctx, b, rep); err != nil {
			warn(fmt.Sprintf("Your app was updated, but there was an error updating your indexes: %v", err))
		} else {
			pushed = append(pushed, "indexes")
		}
	}
	for _, f := range s.Files {
		cs, err := Store(b, f.Kind)
		if err == nil {
			rep.Status(fmt.Sprintf("Updating %s from %s.", f.Kind, human.Path(f.Path)))
			err = f.Push(ctx, cs, s.App)
		}
		switch {
		case err == nil:
			pushed = append(pushed, string(f.Kind))
		case f.Kind == backend.ConfigCron || f.Kind == backend.ConfigQueue:
			warn(fmt.Sprintf("Your app was updated, but there was an error updating your %s: %v", legacyNoun(f.Kind), err))
		default:
			return pushed, warnings, fmt.Errorf("your app was updated, but %s could not be pushed: %w", human.Path(f.Path), err)
		}
	}
	return pushed, warnings, nil
}

func (s *Set) pushIndexes(ctx context.Context, b backend.Backend, rep progress.Reporter) error {
	im, err := backend.As[backend.IndexManager](b, "indexes")
	if err != nil {
		return err
	}
	if s.UpdateIndexes == nil {
		return fmt.Errorf("no way to update indexes was given")
	}
	rep.Status(fmt.Sprintf("Updating %d index definition(s).", len(s.Indexes.Indexes)))
	return s.UpdateIndexes(ctx, im, s.App, s.Indexes, rep)
}

// legacyNoun names a configuration kind as the legacy warnings did.
func legacyNoun(k backend.ConfigKind) string {
	if k == backend.ConfigCron {
		return "cron tasks"
	}
	return "queues"
}
