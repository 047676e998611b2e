package appconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/appcfg/appcfg/internal/regularfile"
	"github.com/appcfg/appcfg/internal/yaml11"
	"gopkg.in/yaml.v3"
)

// appInclude is an included file (or a builtin) as the SDK's AppInclude
// holds it: only these keys are allowed there.
type appInclude struct {
	Meta              Meta                `yaml:"-"`
	BuiltIns          []map[string]string `yaml:"builtins"`
	Includes          []string            `yaml:"includes"`
	Handlers          []*URLMap           `yaml:"handlers"`
	AdminConsole      *AdminConsole       `yaml:"admin_console"`
	ManualScaling     *ManualScaling      `yaml:"manual_scaling"`
	VM                *bool               `yaml:"vm"`
	VMSettings        map[string]string   `yaml:"vm_settings"`
	BetaSettings      map[string]string   `yaml:"beta_settings"`
	EnvVariables      map[string]string   `yaml:"env_variables"`
	BuildEnvVariables map[string]string   `yaml:"build_env_variables"`

	skipFiles    []string // nil: the include skips nothing (SKIP_NO_FILES)
	skipFilesPos []Pos
}

// SDKName is the SDK's class name, used in messages.
func (*appInclude) SDKName() string { return "AppInclude" }

// skipNoFiles is the SDK's SKIP_NO_FILES, the skip_files of an include that
// gives none; merging it changes nothing.
const skipNoFiles = `(?!)`

// builtinFiles are the SDK's builtin include files
// (googlecloudsdk/appengine/ext/builtins/<name>/include[-python27].yaml).
var builtinFiles = map[string]map[string]string{
	"admin_redirect": {
		"":         "handlers:\n- url: /_ah/admin.*\n  script: $PYTHON_LIB/google/appengine/ext/admin_redirect/main.py\n",
		"python27": "handlers:\n- url: /_ah/admin.*\n  script: google.appengine.ext.admin_redirect.main.APP\n",
	},
	"appstats": {
		"":         "handlers:\n- url: /_ah/stats.*\n  script: $PYTHON_LIB/google/appengine/ext/appstats/ui.py\n",
		"python27": "handlers:\n- url: /_ah/stats.*\n  script: google.appengine.ext.appstats.ui.app\n",
	},
	"datastore_admin": {
		"": "builtins:\n- mapreduce: on\n\nhandlers:\n- url: /_ah/datastore_admin.*\n  script: $PYTHON_LIB/google/appengine/ext/datastore_admin/main.py\n  login: admin\n\n" +
			"admin_console:\n  pages:\n  - name: Datastore Admin\n    url: /_ah/datastore_admin/\n",
		"python27": "builtins:\n- mapreduce: on\n\nhandlers:\n- url: /_ah/datastore_admin.*\n  script: google.appengine.ext.datastore_admin.main.APP\n  login: admin\n\n" +
			"admin_console:\n  pages:\n  - name: Datastore Admin\n    url: /_ah/datastore_admin/\n",
	},
	"default": {"": "# No defaults yet.\n", "python27": "# No defaults yet.\n"},
	"deferred": {
		"":         "handlers:\n- url: /_ah/queue/deferred\n  script: $PYTHON_LIB/google/appengine/ext/deferred/handler.py\n  login: admin\n",
		"python27": "handlers:\n- url: /_ah/queue/deferred\n  script: google.appengine.ext.deferred.application\n  login: admin\n",
	},
	"django_wsgi": {
		"":         "handlers:\n- url: /.*\n  script: $PYTHON_LIB/google/appengine/ext/django/main.py\n  position: tail\n",
		"python27": "handlers:\n- url: /.*\n  script: google.appengine.ext.django.main.app\n  position: tail\n",
	},
	"mapreduce": {
		"":         "handlers:\n- url: /_ah/mapreduce.*\n  script: $PYTHON_LIB/google/appengine/ext/mapreduce/main.py\n  login: admin\n",
		"python27": "handlers:\n- url: /_ah/mapreduce.*\n  script: google.appengine.ext.mapreduce.main.APP\n  login: admin\n",
	},
	"remote_api": {
		"":         "handlers:\n- url: /_ah/remote_api(/.*)?\n  script: $PYTHON_LIB/google/appengine/ext/remote_api/handler.py\n",
		"python27": "handlers:\n- url: /_ah/remote_api(/.*)?\n  script: google.appengine.ext.remote_api.handler.application\n",
	},
}

// builtinsPrefix marks the pseudo-paths of builtin include files.
const builtinsPrefix = "$SDK/builtins/"

// BuiltinNames lists the builtins available to runtime, sorted; python27
// lacks datastore_admin and mapreduce, as in the SDK.
func BuiltinNames(runtime string) []string {
	var names []string
	for n := range builtinFiles {
		if runtime == "python27" && (n == "datastore_admin" || n == "mapreduce") {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// builtinPath is builtins.get_yaml_path: the runtime-specific file when
// there is one. ok is false for an unknown builtin.
func builtinPath(name, runtime string) (string, bool) {
	if !contains(BuiltinNames(runtime), name) {
		return "", false
	}
	if _, ok := builtinFiles[name][runtime]; ok && runtime != "" {
		return builtinsPrefix + name + "/include-" + runtime + ".yaml", true
	}
	return builtinsPrefix + name + "/include.yaml", true
}

func readInclude(path string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(path, builtinsPrefix); ok {
		name, file, _ := strings.Cut(rest, "/")
		rt := strings.TrimSuffix(strings.TrimPrefix(file, "include-"), ".yaml")
		if file == "include.yaml" {
			rt = ""
		}
		return []byte(builtinFiles[name][rt]), nil
	}
	// An include is a small YAML file; the cap keeps a path such as
	// /proc/kcore from being read whole.
	return regularfile.Read(path, maxIncludeSize)
}

const maxIncludeSize = 10 << 20

// LoadApp reads an app.yaml and merges its builtins and includes as the
// SDK's appinfo_includes.Parse does. Problems of included files name those
// files.
func LoadApp(path string) (*App, []Problem) {
	data, err := regularfile.Read(path, -1)
	if err != nil {
		return nil, []Problem{{File: path, Line: 1, Column: 1, Message: ReadError(err)}}
	}
	return LoadAppData(path, data)
}

// LoadAppData is LoadApp for a file already read.
func LoadAppData(path string, data []byte) (*App, []Problem) {
	r := &yaml11.Report{File: path}
	app := parseAppReport(data, r)
	if app == nil {
		r.Sort()
		return nil, r.Problems
	}
	app.Path = path
	l := &loader{app: app, report: r, basepath: filepath.Dir(path),
		included: map[string]string{}, excluded: map[string]string{}, agg: &appInclude{}}
	l.mergeAll()
	r.Sort()
	return app, r.Problems
}

// loader is the recursion state of _ResolveIncludes.
type loader struct {
	app      *App
	report   *yaml11.Report
	basepath string
	included map[string]string // resolved path -> the file that included it
	excluded map[string]string // builtin path -> the file that turned it off
	agg      *appInclude
	depth    int
}

func (l *loader) mergeAll() {
	a := l.app
	// The app's own builtins always gain `default: on`.
	builtins := a.BuiltIns
	hasDefault := false
	for _, b := range builtins {
		if _, ok := b["default"]; ok {
			hasDefault = true
		}
	}
	if !hasDefault {
		builtins = append(append([]map[string]string{}, builtins...), map[string]string{"default": "on"})
	}
	rt, ok := l.runtimeForIncluding()
	if !ok {
		return
	}
	top := &appInclude{Meta: a.Meta, BuiltIns: builtins, Includes: a.Includes}
	l.resolve(a.Path, top, rt)
	l.mergeIntoApp()
}

// runtimeForIncluding picks the runtime whose builtin files apply.
func (l *loader) runtimeForIncluding() (string, bool) {
	a := l.app
	if a.IsVM() {
		if v, ok := a.VMSettings["vm_runtime"]; ok {
			return v, true
		}
		return a.Runtime, true
	}
	if a.Runtime != "vm" {
		return a.Runtime, true
	}
	if a.VMSettings == nil {
		l.report.Errorf(a.Meta.At("runtime"), "runtime", "runtime: vm needs vm_settings with vm_runtime ('NoneType' object has no attribute 'get')").
			Hint = "set vm: true, or env: flex, instead of runtime: vm"
		return "", false
	}
	if v, ok := a.VMSettings["vm_runtime"]; ok {
		return v, true
	}
	return "python27", true
}

func (l *loader) resolve(from string, inc *appInclude, runtime string) {
	l.depth++
	defer func() { l.depth-- }()
	if l.depth > 100 {
		return // a file includes itself through a cycle the SDK's dedup would break earlier
	}
	if inc != l.agg {
		mergeIncludes(l.agg, inc)
	}
	type item struct {
		name string
		pos  Pos
	}
	var list []item
	for _, b := range inc.BuiltIns {
		for name, v := range b {
			if v == "" {
				continue
			}
			p, ok := builtinPath(name, runtime)
			if !ok {
				l.errorIn(from, inc.Meta.At("builtins"), "builtins."+name,
					"%s is not the name of a valid builtin.\nAvailable handlers are: %s", name, strings.Join(BuiltinNames(runtime), ", ")).
					Hint = "remove it or check its spelling"
				continue
			}
			switch v {
			case "on":
				list = append(list, item{p, inc.Meta.At("builtins")})
			case "off":
				if by, ok := l.included[p]; ok {
					l.warnIn(from, inc.Meta.At("builtins"), "builtins."+name, "%s already included by %s but later disabled by %s", p, by, from)
				}
				l.excluded[p] = from
			}
		}
	}
	for _, i := range inc.Includes {
		list = append(list, item{i, inc.Meta.At("includes")})
	}
	for _, it := range list {
		p := it.name
		if !strings.HasPrefix(p, builtinsPrefix) {
			p = resolveIncludePath(from, it.name, l.basepath)
			if p == "" && notRegular(from, it.name, l.basepath) != "" {
				l.errorIn(from, it.pos, "includes", "File %s listed in includes directive of %s is %s, not a regular file.",
					it.name, from, notRegular(from, it.name, l.basepath)).Hint = "include a YAML file"
				continue
			}
			if p == "" {
				l.errorIn(from, it.pos, "includes", "File %s listed in includes directive of %s could not be found.", it.name, from).
					Hint = "create the file, or remove it from includes:"
				continue
			}
		}
		if !strings.HasPrefix(p, builtinsPrefix) && !within(l.basepath, p) {
			if _, seen := l.included[p]; !seen {
				l.warnIn(from, it.pos, "includes", "File %s listed in includes directive of %s is outside the application directory %s: its settings apply, but it is never uploaded", p, from, l.basepath).
					Hint = "move the file into the application directory, or check the path: an include names a YAML file of settings"
			}
		}
		if by, ok := l.excluded[p]; ok {
			l.warnIn(from, it.pos, "includes", "%s already disabled by %s but later included by %s", p, by, from)
			continue
		}
		if _, ok := l.included[p]; ok {
			continue
		}
		l.included[p] = from
		data, err := readInclude(p)
		if err != nil {
			l.errorIn(from, it.pos, "includes", "cannot read included file %s: %v", p, err)
			continue
		}
		child := parseInclude(p, data, l.report)
		if child == nil {
			if filepath.Base(filepath.Dir(p)) != "default" && !strings.HasPrefix(p, builtinsPrefix+"default/") {
				l.warnIn(from, it.pos, "includes", "Nothing to include in %s", p)
			}
			continue
		}
		l.resolve(p, child, runtime)
	}
}

func (l *loader) errorIn(file string, pos Pos, field, format string, args ...any) *Problem {
	return l.add(file, pos, field, false, fmt.Sprintf(format, args...))
}

func (l *loader) warnIn(file string, pos Pos, field, format string, args ...any) *Problem {
	return l.add(file, pos, field, true, fmt.Sprintf(format, args...))
}

func (l *loader) add(file string, pos Pos, field string, warning bool, msg string) *Problem {
	if strings.HasPrefix(file, builtinsPrefix) {
		file, pos = l.app.Path, l.app.Meta.At("builtins")
	}
	l.report.Problems = append(l.report.Problems, Problem{File: file, Line: pos.Line, Column: pos.Column, Field: field, Message: msg, Warning: warning})
	return &l.report.Problems[len(l.report.Problems)-1]
}

// within reports whether path p (absolute) is inside dir, symbolic links
// resolved: an include resolving outside the application directory is
// worth a warning, whatever the path says.
func within(dir, p string) bool {
	real := func(s string) string {
		abs, err := filepath.Abs(s)
		if err != nil {
			return s
		}
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			return r
		}
		return abs
	}
	rel, err := filepath.Rel(real(dir), real(p))
	return err == nil && filepath.IsLocal(rel)
}

// resolveIncludePath is _ResolvePath: beside the including file, then in
// the app directory, then as written; a directory means its include.yaml.
func resolveIncludePath(from, p, basepath string) string {
	for _, cand := range []string{pyJoin(filepath.Dir(from), p), pyJoin(basepath, p), p} {
		if isFileOrDirWithFile(cand) {
			if st, err := os.Stat(cand); err == nil && !st.IsDir() {
				abs, _ := filepath.Abs(cand)
				return abs
			}
			abs, _ := filepath.Abs(filepath.Join(cand, "include.yaml"))
			return abs
		}
	}
	return ""
}

// notRegular names what an include that resolveIncludePath did not find
// is, when one of its candidates exists but is not a regular file (a named
// pipe, a device, a directory whose include.yaml is such): the SDK reports
// it as not found, which misleads. "" when none is.
func notRegular(from, p, basepath string) string {
	for _, cand := range []string{pyJoin(filepath.Dir(from), p), pyJoin(basepath, p), p} {
		if cand == "" {
			continue
		}
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			cand = filepath.Join(cand, "include.yaml")
		}
		var nr *regularfile.NotRegularError
		if err := regularfile.Check(cand); errors.As(err, &nr) {
			return regularfile.Describe(nr.Mode)
		}
	}
	return ""
}

// ReadError words an error reading a configuration file for a Problem of
// that file: what it is when it is no regular file, else the cause without
// the path the Problem already names.
func ReadError(err error) string {
	var nr *regularfile.NotRegularError
	if errors.As(err, &nr) {
		return fmt.Sprintf("the file is %s, not a regular file: give a YAML file", regularfile.Describe(nr.Mode))
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Sprintf("cannot read the file: %v", err)
}

// pyJoin is os.path.join: an absolute second part replaces the first.
func pyJoin(dir, p string) string {
	if filepath.IsAbs(p) || dir == "" {
		return p
	}
	return dir + string(filepath.Separator) + p
}

func isFileOrDirWithFile(p string) bool {
	if p == "" {
		return false
	}
	st, err := os.Stat(p)
	if err != nil {
		return false
	}
	if st.Mode().IsRegular() {
		return true
	}
	if st.IsDir() {
		st2, err := os.Stat(filepath.Join(p, "include.yaml"))
		return err == nil && st2.Mode().IsRegular()
	}
	return false
}

// parseInclude is appinfo.LoadAppInclude; nil for an empty file.
func parseInclude(path string, data []byte, parent *yaml11.Report) *appInclude {
	r := &yaml11.Report{File: path}
	defer func() {
		for _, p := range r.Problems {
			if strings.HasPrefix(p.File, builtinsPrefix) {
				continue // the SDK's own files are valid
			}
			parent.Problems = append(parent.Problems, p)
		}
	}()
	root := yaml11.ParseDocument(data, r)
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		// As for app.yaml, the SDK takes a scalar or a list of scalars as an
		// empty file.
		if notAMapping(root, r) == nil {
			return &appInclude{}
		}
		return &appInclude{Meta: Meta{Pos: yaml11.NodePos(root)}}
	}
	inc := &appInclude{}
	softenQuotedBools(root, r)
	checkEmptyBuiltins(root, r)
	rest, regexNodes := splitRegexKeys(root, "skip_files")
	yaml11.DecodePy(rest, inc, "", r)
	c := checker{r: r}
	if n, ok := regexNodes["skip_files"]; ok {
		addMeta(&inc.Meta, "skip_files", n)
		inc.skipFiles, inc.skipFilesPos = c.regexStr(n[1], "skip_files")
		if len(inc.skipFiles) == 1 && inc.skipFiles[0] == skipNoFiles {
			inc.skipFiles, inc.skipFilesPos = nil, nil
		}
	}
	m := &inc.Meta
	inc.Handlers = dropNil(c, m, "handlers", "URLMap", inc.Handlers)
	inc.BuiltIns = c.dropNilBuiltins(m, inc.BuiltIns)
	c.sharedFields(m, inc.shared())
	for _, h := range inc.Handlers {
		c.handler(h)
		c.handlerLoaded(h)
	}
	inc.BuiltIns = c.builtins(m, inc.BuiltIns)
	return inc
}

func manualInstances(s *ManualScaling) int64 {
	if s == nil || s.Instances == "" {
		return 0
	}
	n, err := strconv.ParseInt(s.Instances, 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// shared points at the fields app.yaml and include files both have and
// that merge the same way (AppInclude._CommonMergeOps).
type shared struct {
	manualScaling                                   **ManualScaling
	adminConsole                                    **AdminConsole
	vm                                              **bool
	vmSettings, betaSettings, envVars, buildEnvVars *map[string]string
}

// appShared is an App's shared fields (App's type lives in
// internal/appmodel, so this cannot be a method of it).
func appShared(a *App) shared {
	return shared{&a.ManualScaling, &a.AdminConsole, &a.VM, &a.VMSettings, &a.BetaSettings, &a.EnvVariables, &a.BuildEnvVariables}
}

func (i *appInclude) shared() shared {
	return shared{&i.ManualScaling, &i.AdminConsole, &i.VM, &i.VMSettings, &i.BetaSettings, &i.EnvVariables, &i.BuildEnvVariables}
}

// mergeShared is _CommonMergeOps without skip_files: the larger
// manual_scaling.instances, admin pages concatenated, vm if either,
// vm/beta settings where one wins, env variables where two wins.
func mergeShared(one, two shared) {
	if a, b := manualInstances(*one.manualScaling), manualInstances(*two.manualScaling); a != 0 || b != 0 {
		*one.manualScaling = &ManualScaling{Instances: strconv.FormatInt(max(a, b), 10)}
	}
	*one.adminConsole = mergeAdminConsole(*one.adminConsole, *two.adminConsole)
	*one.vm = orBool(*two.vm, *one.vm)
	*one.vmSettings = mergeMap(*two.vmSettings, *one.vmSettings)
	*one.betaSettings = mergeMap(*two.betaSettings, *one.betaSettings)
	*one.envVars = mergeMap(*one.envVars, *two.envVars)
	*one.buildEnvVars = mergeMap(*one.buildEnvVars, *two.buildEnvVars)
}

// mergeIncludes is AppInclude.MergeAppIncludes(one, two): one gains two's
// handlers and settings.
func mergeIncludes(one, two *appInclude) {
	one.Handlers = append(one.Handlers, two.Handlers...)
	mergeShared(one.shared(), two.shared())
	one.skipFiles, one.skipFilesPos = mergeSkipFiles(one.skipFiles, one.skipFilesPos, two.skipFiles, two.skipFilesPos)
}

// mergeSkipFiles ORs two pattern lists; nil stands for SKIP_NO_FILES.
func mergeSkipFiles(a []string, apos []Pos, b []string, bpos []Pos) ([]string, []Pos) {
	if a == nil {
		return b, bpos
	}
	if b == nil {
		return a, apos
	}
	return append(append([]string{}, a...), b...), append(append([]Pos{}, apos...), bpos...)
}

func mergeAdminConsole(one, two *AdminConsole) *AdminConsole {
	if one == nil || two == nil {
		if one != nil {
			return one
		}
		return two
	}
	one.Pages = append(one.Pages, two.Pages...)
	return one
}

// orBool is Python's `a or b` on optional booleans.
func orBool(a, b *bool) *bool {
	if a != nil && *a {
		return a
	}
	return b
}

// mergeMap copies base and lays over on top; nil when both are empty.
func mergeMap(base, over map[string]string) map[string]string {
	if len(base) == 0 && len(over) == 0 {
		return nil
	}
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// mergeIntoApp is AppInclude.MergeAppYamlAppInclude followed by the checks
// appinfo_includes.Parse makes on the merged result.
func (l *loader) mergeIntoApp() {
	a, inc := l.app, l.agg
	own := len(a.Handlers)
	if len(inc.Handlers) > 0 {
		var head, tail []*URLMap
		for _, h := range inc.Handlers {
			if h.HandlerPosition == "tail" {
				tail = append(tail, h)
			} else {
				head = append(head, h)
			}
			h.HandlerPosition = ""
		}
		hs := append(append(head, a.Handlers...), tail...)
		a.Handlers = hs
	}
	mergeShared(appShared(a), inc.shared())
	if inc.skipFiles != nil {
		own, ownPos := a.SkipFiles, a.SkipFilesPos
		if own == nil {
			own, ownPos = []string{DefaultSkipFiles}, []Pos{a.Meta.Pos}
		}
		if !(len(own) == 1 && own[0] == skipNoFiles) {
			a.SkipFiles, a.SkipFilesPos = mergeSkipFiles(own, ownPos, inc.skipFiles, inc.skipFilesPos)
		} else {
			a.SkipFiles, a.SkipFilesPos = inc.skipFiles, inc.skipFilesPos
		}
	}

	if len(a.Handlers) == 0 && a.IsVM() {
		a.Handlers = []*URLMap{{URL: ".*", Script: "PLACEHOLDER", Login: "optional", AuthFailAction: "redirect", Secure: "optional", File: a.Path, Position: a.Meta.Pos}}
	}
	c := checker{r: l.report}
	if len(a.Handlers) > MaxURLMaps && own <= MaxURLMaps {
		c.r.Errorf(a.Meta.At("includes"), "handlers", "Found more than %d URLMap entries in application configuration", MaxURLMaps).
			Hint = "the included files bring the handler count over the limit; merge handlers with regular expressions"
	}
	// The SDK has rewritten a flexible app's runtime to "vm" by now, so
	// only standard python27 apps get this check.
	if a.Runtime == "python27" && !a.IsVM() && a.Threadsafe != nil && *a.Threadsafe {
		var merged []*URLMap
		for _, h := range a.Handlers {
			if h.File != a.Path {
				merged = append(merged, h)
			}
		}
		c.cgiHandlers(merged, "Threadsafe")
	}
}
