package validate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/internal/corpus"
	"github.com/appcfg/appcfg/internal/sdktest"
	"gopkg.in/yaml.v3"
)

type oracleVerdict struct {
	File      string `json:"file"`
	Verdict   string `json:"verdict"`
	Exception string `json:"exception"`
	Message   string `json:"message"`
}

// runOracle asks the SDK's own parser (scripts/sdk_oracle.py) for the
// verdict on each app file.
func runOracle(t *testing.T, files []string) map[string]oracleVerdict {
	t.Helper()
	python, root := sdktest.Python(t)
	script, err := filepath.Abs("../scripts/sdk_oracle.py")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{script}
	for _, f := range files {
		args = append(args, "app", f)
	}
	cmd := exec.Command(python, args...)
	cmd.Env = append(os.Environ(), "CLOUDSDK_ROOT="+root)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sdk_oracle.py: %v\n%s", err, stderr.String())
	}
	verdicts := map[string]oracleVerdict{}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var v oracleVerdict
		if err := json.Unmarshal(line, &v); err != nil {
			t.Fatalf("sdk_oracle.py output %q: %v", line, err)
		}
		verdicts[v.File] = v
	}
	return verdicts
}

// loadsOK loads an app.yaml with its includes and reports whether it has
// no errors.
func loadsOK(path string) (bool, []appconfig.Problem) {
	_, ps := appconfig.LoadApp(path)
	for _, p := range ps {
		if !p.Warning {
			return false, ps
		}
	}
	return true, ps
}

// corpusAppFiles lists the corpus's app files; whole apps are left out
// unless withApps. It is empty when the corpus is absent.
func corpusAppFiles(withApps bool) ([]string, error) {
	dir := corpus.Dir()
	if dir == "" {
		return nil, nil
	}
	entries, err := corpus.Verdicts(dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if e.Kind == "app" && (withApps || !strings.HasPrefix(e.ID, "wapp-")) {
			files = append(files, e.Path)
		}
	}
	return files, nil
}

// scalarPool holds values that probe YAML 1.1 typing and the SDK's regexes.
var scalarPool = []struct {
	value string
	style yaml.Style
}{
	{"", yaml.DoubleQuotedStyle}, {"yes", 0}, {"no", 0}, {"off", 0}, {"1.10", 0}, {"012", 0}, {"0x1F", 0},
	{"~", 0}, {"MY_APP", 0}, {"-bad", 0}, {"a-dot-b", 0}, {"ah-builtin1", 0}, {"python27", 0},
	{"python39", 0}, {"go", 0}, {"flex", 0}, {"2", 0}, {"1h30m", 0}, {"1d 6h", 0}, {"/static/.*", 0},
	{"^/x$", 0}, {"(foo", 0}, {"main.py", 0}, {"main.app", 0}, {"optional", 0}, {"always", 0},
	{"latest", 0}, {"2.6", 0}, {"django", 0}, {"b2", 0}, {"10m", 0}, {"automatic", 0}, {"s~my-app", 0},
	{"true", 0}, {"1", 0}, {"0", 0}, {"5", 0}, {"-3", 0}, {"3.5", 0}, {"head", 0}, {"tail", 0},
}

var keyPool = []string{"threadsafe", "runtime", "env", "vm", "service", "module", "version", "application",
	"project", "api_version", "skip_files", "libraries", "builtins", "manual_scaling", "basic_scaling",
	"automatic_scaling", "default_expiration", "inbound_services", "upload", "static_files", "static_dir",
	"script", "expiration", "secure", "login", "position", "mime_type", "http_headers", "instances",
	"max_instances", "idle_timeout", "min_idle_instances", "max_pending_latency", "name", "no_such_key",
	"error_handlers", "env_variables", "entrypoint", "instance_class", "api_endpoint", "url"}

// mutate applies one random edit to a parsed document: replace a scalar,
// drop a key, add a key, or drop a list item.
func mutate(rng *rand.Rand, root *yaml.Node) {
	var scalars, maps, seqs []*yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.MappingNode:
			maps = append(maps, n)
			for i := 1; i < len(n.Content); i += 2 {
				if n.Content[i].Kind == yaml.ScalarNode {
					scalars = append(scalars, n.Content[i])
				}
				walk(n.Content[i])
			}
		case yaml.SequenceNode:
			seqs = append(seqs, n)
			for _, c := range n.Content {
				walk(c)
			}
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c)
			}
		}
	}
	walk(root)
	switch op := rng.IntN(6); {
	case op == 0 && len(scalars) > 0:
		s := scalars[rng.IntN(len(scalars))]
		v := scalarPool[rng.IntN(len(scalarPool))]
		s.Value, s.Style, s.Tag = v.value, v.style, ""
	case op == 4 && len(scalars) > 0:
		// A scalar becomes a list or a mapping.
		s := scalars[rng.IntN(len(scalars))]
		v := scalarPool[rng.IntN(len(scalarPool))]
		item := &yaml.Node{Kind: yaml.ScalarNode, Value: v.value, Style: v.style}
		if rng.IntN(2) == 0 {
			*s = yaml.Node{Kind: yaml.SequenceNode, Content: []*yaml.Node{item}}
		} else {
			k := keyPool[rng.IntN(len(keyPool))]
			*s = yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{{Kind: yaml.ScalarNode, Value: k}, item}}
		}
	case op == 5 && len(seqs) > 0:
		// A list item is repeated (a second handler, library or builtin).
		s := seqs[rng.IntN(len(seqs))]
		if len(s.Content) > 0 {
			s.Content = append(s.Content, s.Content[rng.IntN(len(s.Content))])
		}
	case op == 1 && len(maps) > 0:
		m := maps[rng.IntN(len(maps))]
		if len(m.Content) >= 2 {
			i := 2 * rng.IntN(len(m.Content)/2)
			m.Content = append(m.Content[:i], m.Content[i+2:]...)
		}
	case op == 2 && len(maps) > 0:
		m := maps[rng.IntN(len(maps))]
		k := keyPool[rng.IntN(len(keyPool))]
		v := scalarPool[rng.IntN(len(scalarPool))]
		for i := 0; i < len(m.Content); i += 2 {
			if m.Content[i].Value == k {
				return // a repeated key is a different error class
			}
		}
		m.Content = append(m.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Value: k},
			&yaml.Node{Kind: yaml.ScalarNode, Value: v.value, Style: v.style})
	case op == 3 && len(seqs) > 0:
		s := seqs[rng.IntN(len(seqs))]
		if len(s.Content) > 0 {
			i := rng.IntN(len(s.Content))
			s.Content = append(s.Content[:i], s.Content[i+1:]...)
		}
	}
}

// refusesSDKCoercion reports whether appcfg refused a value that the SDK
// only accepts through Python's conversions: bool() of any value for a
// boolean ("false" is true), str() of a list for a text attribute
// (script: [a] is "['a']"). Such a file is accepted by the SDK by accident;
// appcfg reports it on purpose.
func refusesSDKCoercion(ps []appconfig.Problem) bool {
	for _, p := range ps {
		if !p.Warning && (strings.Contains(p.Message, "is not a boolean") ||
			strings.Contains(p.Message, "should be a single value, not a list") ||
			strings.Contains(p.Message, "must be plain text, not a list")) {
			return true
		}
	}
	return false
}

// TestAppDifferential mutates the corpus's app files and checks that
// appconfig.LoadApp and the SDK's own parser agree on ok/error for each
// variant, with the seed fixed so failures reproduce.
func TestAppDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the SDK's parser on many files")
	}
	sdktest.Python(t)
	files, err := corpusAppFiles(false)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("shared/corpus not found beside the repository (set APPCFG_CORPUS)")
	}
	rng := rand.New(rand.NewPCG(2, 7))
	dir := t.TempDir()
	var variants []string
	for i, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < 4; j++ {
			var doc yaml.Node
			if yaml.Unmarshal(data, &doc) != nil || doc.Kind != yaml.DocumentNode {
				break
			}
			for k := 0; k <= j%3; k++ {
				mutate(rng, &doc)
			}
			out, err := yaml.Marshal(&doc)
			if err != nil {
				continue
			}
			p := filepath.Join(dir, fmt.Sprintf("v%04d-%d.yaml", i, j))
			if err := os.WriteFile(p, out, 0o644); err != nil {
				t.Fatal(err)
			}
			variants = append(variants, p)
		}
	}
	sdk := runOracle(t, variants)
	agree, strict := 0, 0
	for _, p := range variants {
		want, ok := sdk[p]
		if !ok {
			t.Fatalf("no SDK verdict for %s", p)
		}
		ok, ps := loadsOK(p)
		got := "ok"
		if !ok {
			got = "error"
		}
		if got == want.Verdict {
			agree++
			continue
		}
		if want.Verdict == "ok" && refusesSDKCoercion(ps) {
			strict++
			continue
		}
		data, _ := os.ReadFile(p)
		t.Logf("disagree %s: sdk %s %s %q; appcfg %s %v\n%s", filepath.Base(p), want.Verdict, want.Exception, want.Message, got, ps, data)
	}
	t.Logf("differential agreement: %d/%d (%d more where appcfg refuses a value the SDK only takes through bool() or str())", agree, len(variants), strict)
	if (agree+strict)*100 < len(variants)*99 {
		t.Errorf("agreement with the SDK %d/%d (+%d refused coercions) is below 99%%", agree, len(variants), strict)
	}
	if strict*10 > len(variants) {
		t.Errorf("%d of %d variants differ by refused coercions; the mutations should mostly test other rules", strict, len(variants))
	}
}

// FuzzLoadApp feeds arbitrary bytes to the app loader, seeded with the
// corpus's app files: it must never panic, every problem must carry a
// position and a message, and a file without errors must yield a model.
func FuzzLoadApp(f *testing.F) {
	files, err := corpusAppFiles(true)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range files {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("runtime: python27\nthreadsafe: true\nhandlers:\n- url: /.*\n  script: main.app\n"))
	f.Add([]byte("builtins:\n- remote_api: on\n- deferred: off\nincludes:\n- .\n"))
	f.Add([]byte("env: flex\nskip_files: [a, '(b']\n"))
	path := filepath.Join(f.TempDir(), "app.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		res := checkApp(path, data, Options{AppID: "fuzz-app"})
		for _, p := range res.Problems {
			if p.Line < 1 || p.Column < 1 || p.Message == "" || p.File == "" {
				t.Fatalf("problem without a position or message: %+v", p)
			}
		}
		if res.OK() && res.Config == nil {
			t.Fatalf("no errors but no model for %q", data)
		}
	})
}

// sdkRuleCases are small app.yaml files, one rule each, with the verdict of
// the SDK's own parser (scripts/sdk_oracle.py); TestAppRules checks both
// appcfg and, when the SDK is installed, the recorded verdicts.
var sdkRuleCases = []struct {
	name, yaml string
	sdkOK      bool // the SDK's verdict
	appcfgOK   bool // appcfg's, which differs only where noted
}{
	{"s01", "runtime: go\n", true, true},
	{"s02", "runtime: go\napplication: ''\n", false, false},
	{"s03", "runtime: go\napplication: s~foo\n", true, true},
	{"s04", "runtime: go\napplication: e~example.com:foo-bar\n", true, true},
	{"s05", "runtime: go\napplication: foo-\n", false, false},
	{"s06", "runtime: go\napplication: -foo\n", false, false},
	{"s07", "runtime: go\napplication: example.com:foo\n", true, true},
	{"s08", "runtime: go\napplication: a~b~c\n", false, false},
	{"s09", "runtime: go\napplication: .com:foo\n", true, true},
	{"s10", "runtime: go\napplication: -a.com:foo\n", false, false},
	{"s11", "runtime: go\napplication: 12345\n", true, true},
	{"s12", "runtime: go\nversion: 1.10\n", false, false},
	{"s13", "runtime: go\nversion: 012\n", true, true},
	{"s14", "runtime: go\nversion: yes\n", false, false},
	{"s15", "runtime: go\nversion: ah-builtin-x\n", false, false},
	{"s16", "runtime: go\nversion: '1'\n", true, true},
	{"s17", "runtime: Go\n", false, false},
	{"s18", "runtime: gs://bucket/build.yaml\n", true, true},
	{"s19", "runtime: python3.7\n", true, true},
	{"s20", "api_version: go1\n", false, false},
	{"s21", "runtime: go\napi_version: go1.x\n", true, true},
	{"s22", "runtime: go\napi_version: 'a b'\n", false, false},
	{"s23", "runtime: go\nenv: 3\n", false, false},
	{"s24", "runtime: go\nenv: flexible\n", true, true},
	{"s25", "env: 2\n", true, true},
	{"s26", "vm: true\n", true, true},
	{"s27", "vm: false\n", false, false},
	{"s28", "runtime: vm\n", false, false},
	{"s29", "runtime: vm\nvm_settings:\n  vm_runtime: python27\n", false, false},
	{"s30", "runtime: go\nbeta_settings:\n  vm_runtime: python27\n", false, false},
	{"s31", "runtime: go\nbeta_settings:\n  vm_runtime: python27\nthreadsafe: false\n", true, true},
	{"s32", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  script: a/b.app\n", false, false},
	{"s33", "runtime: python27\nthreadsafe: false\nhandlers:\n- url: /a\n  script: a/b.py\n", true, true},
	{"s34", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  static_dir: s\n  upload: x\n", false, false},
	{"s35", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  static_files: s\n  upload: ''\n", false, false},
	{"s36", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  script: x.app\n  expiration: 1d\n", false, false},
	{"s37", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  script: x.app\n  position: tail\n", false, false},
	{"s38", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  api_endpoint: on\n  script: x.app\n", false, false},
	{"s39", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  api_endpoint: on\n  script: x.app\napi_config:\n  url: /_ah/spi/.*\n  script: x.app\n", true, true},
	{"s40", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  static_dir: s\n  mime_type: text/html\n  http_headers:\n    content-type: text/html\n", false, false},
	{"s41", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  static_dir: s\n  http_headers:\n    X-AppEngine-Foo: 1\n", false, false},
	{"s42", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  static_dir: s\n  http_headers:\n    Connection: close\n", false, false},
	{"s43", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  static_dir: s\n  http_headers:\n    Date: x\n", false, false},
	{"s44", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  static_dir: s\n  http_headers:\n    'Bad Name': x\n", false, false},
	{"s47", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  static_dir: s\n  http_headers:\n    X-Num: 12\n", true, true},
	{"s48", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  script: x.app\n  redirect_http_response_code: 301\n", true, true},
	{"s49", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  script: x.app\n  redirect_http_response_code: 308\n", false, false},
	{"s50", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  script: x.app\n  secure: yes\n", false, false},
	{"s51", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  script: x.app\n  login: ~\n", false, false},
	{"s52", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: (a)\n  script: x.app\n", true, true},
	{"s53", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: (ab$\n  script: x.app\n", false, false},
	{"s54", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: a\n  script: x.app\n", false, false},
	{"s55", "runtime: python27\nthreadsafe: true\nhandlers:\n- script: x.app\n", true, true},
	{"s56", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  script: x.app\n  application_readable: true\n", false, false},
	{"s57", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  static_files: a\n  upload: a\n  require_matching_file: yes\n", true, true},
	{"s58", "runtime: python27\nthreadsafe: true\nlibraries:\n- name: django\n  version: '1.2'\nhandlers:\n- url: /.*\n  script: main.app\n", true, true},
	{"s59", "runtime: python27\nthreadsafe: true\nlibraries:\n- name: ssl\n  version: 2.7.current\nhandlers:\n- url: /.*\n  script: main.app\n", true, true},
	{"s60", "runtime: python27\nthreadsafe: true\nlibraries:\n- name: MySQLdb\n  version: latest\nhandlers:\n- url: /.*\n  script: main.app\n", true, true},
	{"s61", "runtime: python27\nthreadsafe: true\nlibraries:\n- name: mysqldb\n  version: latest\nhandlers:\n- url: /.*\n  script: main.app\n", false, false},
	{"s62", "runtime: python27\nthreadsafe: true\nlibraries:\n- name: numpy\nhandlers:\n- url: /.*\n  script: main.app\n", false, false},
	{"s63", "runtime: python27\nthreadsafe: true\nlibraries:\n- version: latest\nhandlers:\n- url: /.*\n  script: main.app\n", false, false},
	{"s64", "runtime: python27\nthreadsafe: true\nlibraries:\n- name: pycrypto\n  version: 2.6\nhandlers:\n- url: /.*\n  script: main.app\n", true, true},
	{"s65", "runtime: python27\nthreadsafe: true\nbuiltins:\n- appstats: on\n- deferred: yes\n- remote_api: 1\nhandlers:\n- url: /.*\n  script: main.app\n", true, true},
	{"s66", "runtime: python27\nthreadsafe: true\nbuiltins:\n- mapreduce: on\nhandlers:\n- url: /.*\n  script: main.app\n", false, false},
	{"s67", "runtime: python\nbuiltins:\n- mapreduce: on\n- datastore_admin: on\nhandlers:\n- url: /.*\n  script: main.app\n", true, true},
	{"s68", "runtime: python27\nthreadsafe: true\nbuiltins:\n- appstats: on\n  deferred: on\nhandlers:\n- url: /.*\n  script: main.app\n", false, false},
	{"s69", "runtime: python27\nthreadsafe: true\nbuiltins:\n- nosuch: off\nhandlers:\n- url: /.*\n  script: main.app\n", false, false},
	{"s70", "runtime: python27\nthreadsafe: true\nbuiltins:\n- appstats: ~\nhandlers:\n- url: /.*\n  script: main.app\n", true, true},
	{"s71", "runtime: python27\nthreadsafe: true\nbuiltins:\n- {}\nhandlers:\n- url: /.*\n  script: main.app\n", false, false},
	{"s72", "runtime: go\nmanual_scaling:\n  instances: '05'\n", false, false},
	{"s73", "runtime: go\nbasic_scaling:\n  max_instances: 3\n  idle_timeout: 10\n", false, false},
	{"s74", "runtime: go\nautomatic_scaling:\n  min_idle_instances: automatic\n  max_pending_latency: 30.5s\n  max_concurrent_requests: 0\n", false, false},
	{"s75", "runtime: go\nautomatic_scaling:\n  max_instances: 5\n  min_instances: 0\n  target_cpu_utilization: 0.6\n", true, true},
	{"s76", "runtime: go\nautomatic_scaling:\n  cool_down_period_sec: 30\n", false, false},
	{"s77", "runtime: go\nautomatic_scaling:\n  cpu_utilization:\n    target_utilization: 1.5\n", false, false},
	{"s78", "runtime: go\nautomatic_scaling: {}\nmanual_scaling: {instances: 1}\n", false, false},
	{"s79", "runtime: go\ninbound_services:\n- mail\n- warmup\n- sms\n", false, false},
	{"s80", "runtime: go\nerror_handlers:\n- error_code: over_quota\n  file: q.html\n- file: e.html\n", true, true},
	{"s81", "runtime: go\nerror_handlers:\n- error_code: foo\n  file: q.html\n", false, false},
	{"s82", "runtime: go\nerror_handlers:\n- mime_type: text/html\n", false, false},
	{"s83", "runtime: go\nskip_files: ~\n", false, false},
	{"s84", "runtime: go\nskip_files:\n- a\n- (b\n- c)\n", true, true},
	{"s85", "runtime: go\nskip_files: '*.pyc'\n", false, false},
	{"s86", "runtime: go\nenv_variables:\n  A: 1\n  B: yes\n  C: ~\n", true, true},
	{"s87", "runtime: go\nenv_variables:\n  A-B: 1\n", false, false},
	{"s88", "runtime: go\nservice: Default\n", false, false},
	{"s89", "runtime: go\nmodule: foo\n", true, true},
	{"s90", "runtime: go\nservice: foo\nmodule: foo\n", false, false},
	{"s91", "runtime: go\napplication: a\nproject: a\n", false, false},
	{"s92", "runtime: go\nproject: a\n", true, true},
	{"s93", "runtime: go\ndefault_expiration: '10'\n", true, true},
	{"s94", "runtime: go\ndefault_expiration: 10\n", true, true},
	{"s95", "runtime: go\ndefault_expiration: ' 1d  2h '\n", true, true},
	{"s96", "runtime: go\nauto_id_policy: legacy\n", true, true},
	{"s97", "runtime: go\nauto_id_policy: random\n", false, false},
	{"s98", "runtime: go\nbackends:\n- name: b1\n  class: B8\n  options: dynamic, public\n", true, true},
	{"s99", "runtime: go\nbackends:\n- name: -b\n", false, false},
	{"u1", "runtime: go\nversion: '\uff11\uff12'\n", true, true}, // \d is Unicode in Python 3
	{"u2", "runtime: go\napi_version: '\u00e91'\n", true, true},  // so is \w
	{"u3", "runtime: go\napplication: 'a\u0663'\n", true, true},
	{"u4", "runtime: go\ndefault_expiration: '1d\u20032h'\n", true, true}, // and \s
	{"u5", "runtime: go\nendpoints_api_service:\n  name: 'a\u00a0b'\n  config_id: x\n", false, false},
	{"u6", "runtime: go\nversion: '\u00e4'\n", false, false},
	{"t01", "runtime: go\nnetwork:\n  forwarded_ports: [8080, '9090:90/udp', 'x']\n", false, false},
	{"t02", "runtime: go\nnetwork:\n  name: default\n  instance_tag: Bad\n", false, false},
	{"t03", "runtime: go\nresources:\n  cpu: 1\n  memory_gb: 0.5\n  disk_size_gb: 10\n  volumes:\n  - name: v\n    volume_type: tmpfs\n    size_gb: 1\n", true, true},
	{"t04", "runtime: go\nresources:\n  volumes:\n  - name: v\n", false, false},
	{"t05", "runtime: go\nendpoints_api_service:\n  name: foo\n", false, false},
	{"t06", "runtime: go\nendpoints_api_service:\n  name: foo\n  rollout_strategy: managed\n", true, true},
	{"t07", "runtime: go\nendpoints_api_service:\n  name: foo\n  rollout_strategy: managed\n  config_id: x\n", false, false},
	{"t08", "runtime: go\nhealth_check:\n  check_interval_sec: -1\n", false, false},
	{"t09", "runtime: go\nliveness_check:\n  path: /x\n  initial_delay_sec: 5\n", true, true},
	{"t10", "runtime: go\nvpc_access_connector:\n  name: projects/p/locations/l/connectors/c\n  egress_setting: all-traffic\n", true, true},
	{"t11", "runtime: go\nvpc_access_connector:\n  egress_setting: all-traffic\n", false, false},
	{"t12", "runtime: go\nflexible_runtime_settings:\n  operating_system: ubuntu22\n", true, true},
	{"t13", "runtime: go\nentrypoint: gunicorn main:app\n", true, true},
	{"t14", "runtime: go\nzones: [a, 1]\n", true, true},
	{"t15", "runtime: go\nderived_file_type: [java_precompiled, x]\n", false, false},
	{"t16", "runtime: go\nadmin_console:\n  pages:\n  - name: x\n    url: /x\n", true, true},
	{"t17", "runtime: go\nadmin_console:\n  pages:\n  - name: x\n", false, false},
	{"t18", "runtime: go\nincludes: []\nbuiltins: []\nhandlers: []\nlibraries: []\n", true, true},
	{"t19", "runtime: go\nincludes:\n- /etc\n", false, false},
	{"t20", "runtime: go\nbeta_settings:\n  source_reference: 'https://github.com/a/b#abc123'\n", true, true},
	{"t21", "runtime: go\nbeta_settings:\n  source_reference: 'xyz'\n", false, false},
	{"t22", "runtime: go\nruntime_config:\n  python_version: 3\n", true, true},
	{"t23", "runtime: go\nthreadsafe: 'false'\n", true, true}, // a quoted 'false' is true to the SDK's bool(); appcfg warns (--strict refuses)
	{"t24", "runtime: go\nstandard_websocket: true\napp_engine_apis: true\ncode_lock: false\n", true, true},
	{"t25", "runtime: go\nservice_account: a@b.c\ninstance_class: F2\nruntime_channel: beta\nmain: x\n", true, true},
	{"t26", "runtime: go\nmain: ''\n", false, false},
	{"t27", "runtime: go\nsource_language: php-quercus\n", true, true},
	{"t28", "runtime: go\nnobuild_files: ^vendor/.*\n", true, true},
	{"t29", "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /form\n  script: x.app\n", true, true},
	{"t32", "", false, false},
	{"t33", "a: b\n---\nc: d\n", false, false},
	{"t34", "runtime: go\nruntime: python\n", false, false},
	{"t35", "runtime: &a go\n", false, false},
	{"t36", "- a\n", true, true},
	{"t37", "runtime: go\nhandlers:\n- url: /a\n  static_files: a\n  upload: b\n  api_endpoint: off\n", false, false},
	{"t38", "runtime: go\nhandlers:\n- url: /a\n  api_endpoint: maybe\n", false, false},
	{"t39", "runtime: go\nversion: a--b\n", true, true},
	{"t40", "runtime: python27\nthreadsafe: true\nlibraries:\n- name: django\n  version: 1.11\n- name: django\n  version: '1.4'\n", false, false},
	{"t41", "runtime: go\nskip_files:\n- ^(?P<x>a)(?P=x)$\n- (?<=a)b\n", true, true},
	{"t42", "runtime: go\nskip_files: '[z-a]'\n", false, false},
	{"t43", "runtime: go\nautomatic_scaling:\n  custom_metrics:\n  - metric_name: m\n    target_type: GAUGE\n    target_utilization: 0.5\n", true, true},
	{"t44", "runtime: go\nautomatic_scaling:\n  custom_metrics:\n  - metric_name: m\n    target_type: GAUGE\n", false, false},
	{"t45", "runtime: go\nhandlers:\n- url: /a\n  script: x\n  http_headers: {A: b}\n", false, false},
	{"t46", "runtime: go\napplication: \"a\\n\"\n", true, true},
	{"t47", "runtime: go\nversion: \"v1\\n\"\n", true, true},
	{"t48", "runtime: go\nservice: 'a b'\n", false, false},
	{"t49", "runtime: go\nmanual_scaling:\n  instances: 1.5\n", false, false},
	{"t50", "runtime: go\nbasic_scaling:\n  max_instances: 0x10\n", true, true},
}

// manyHandlers is a handlers: list of n script handlers.
func manyHandlers(n int) string {
	var b strings.Builder
	b.WriteString("handlers:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "- url: /a%d\n  script: x\n", i)
	}
	return b.String()
}

// longRuleCases are rules on sizes, built rather than written out.
func longRuleCases() []struct {
	name, yaml      string
	sdkOK, appcfgOK bool
} {
	static := "runtime: python27\nthreadsafe: true\nhandlers:\n- url: /a\n  static_dir: s\n  http_headers:\n"
	return []struct {
		name, yaml      string
		sdkOK, appcfgOK bool
	}{
		{"101 handlers", "runtime: go\n" + manyHandlers(101), false, false},
		{"100 handlers and a builtin", "runtime: go\n" + manyHandlers(100) + "builtins:\n- remote_api: on\n", false, false},
		{"100 handlers", "runtime: go\n" + manyHandlers(100), true, true},
		{"header too long", static + "    X-Long: " + strings.Repeat("a", 490) + "\n", false, false},
		{"long cookie allowed", static + "    Set-Cookie: " + strings.Repeat("a", 3000) + "\n", true, true},
		{"cookie too long", static + "    Set-Cookie: " + strings.Repeat("a", 5000) + "\n", false, false},
	}
}

// TestAppRules checks one rule per case against the SDK's recorded verdict,
// and, when the SDK is installed, that the recorded verdicts are still the
// SDK's.
func TestAppRules(t *testing.T) {
	cases := append(sdkRuleCases[:len(sdkRuleCases):len(sdkRuleCases)], longRuleCases()...)
	dir := t.TempDir()
	var paths []string
	for _, tc := range cases {
		p := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".yaml")
		if err := os.WriteFile(p, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		ok, ps := loadsOK(p)
		if ok != tc.appcfgOK {
			t.Errorf("%s: appcfg ok=%v, want %v; problems %v\n%s", tc.name, ok, tc.appcfgOK, ps, tc.yaml)
		}
	}
	want := make([]bool, len(cases))
	names := make([]string, len(cases))
	for i, tc := range cases {
		want[i], names[i] = tc.sdkOK, tc.name
	}
	checkRecordedVerdicts(t, paths, names, want)
}

// checkRecordedVerdicts confirms, when the SDK is installed, that a table's
// recorded verdicts are still what the SDK says.
func checkRecordedVerdicts(t *testing.T, paths, names []string, sdkOK []bool) {
	t.Helper()
	if _, _, ok := sdktest.Find(); !ok {
		return
	}
	sdk := runOracle(t, paths)
	for i, p := range paths {
		if got := sdk[p].Verdict == "ok"; got != sdkOK[i] {
			t.Errorf("%s: the SDK now says ok=%v (%s), the table %v", names[i], got, sdk[p].Message, sdkOK[i])
		}
	}
}

func TestCheckAppSecondGenAndOverrides(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string // messages (prefixes) of the errors, in order
	}{
		{"skip_files on python39", "runtime: python39\nskip_files:\n- ^tests/.*\n", []string{"skip_files cannot be used with the [python39] runtime"}},
		{"threadsafe on go121", "runtime: go121\nthreadsafe: true\n", []string{"The [threadsafe] field is specified in file"}},
		{"application_readable on nodejs20", "runtime: nodejs20\nhandlers:\n- url: /s\n  static_dir: s\n  application_readable: true\n",
			[]string{"The [application_readable] field is specified in file"}},
		{"skip_files from an include on go121", "runtime: go121\nincludes:\n- skip.yaml\n", []string{"skip_files cannot be used with the [go121] runtime"}},
		{"skip_files on python27", "runtime: python27\nthreadsafe: true\nskip_files: ^x$\n", nil},
		{"skip_files on flex python", "runtime: python\nenv: flex\nskip_files: ^x$\n", nil},
		{"skip_files on java8", "runtime: java8\nskip_files: ^x$\n", nil},
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "skip.yaml"), []byte("skip_files:\n- ^tests/.*\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		p := filepath.Join(dir, "app.yaml")
		res := checkApp(p, []byte(tc.yaml), Options{})
		var got []string
		for _, pr := range res.Problems {
			if !pr.Warning {
				got = append(got, pr.Message)
			}
		}
		if len(got) != len(tc.want) {
			t.Errorf("%s: errors %q, want %q", tc.name, got, tc.want)
			continue
		}
		for i := range got {
			if !strings.HasPrefix(got[i], tc.want[i]) {
				t.Errorf("%s: error %q, want %q", tc.name, got[i], tc.want[i])
			}
		}
	}

	res := checkApp(filepath.Join(dir, "app.yaml"), []byte("application: file-app\nversion: v1\nservice: web\nruntime: go\n"),
		Options{AppID: "flag-app", Service: "api", Version: "v2"})
	app, ok := res.Config.(*appconfig.App)
	if !ok || !res.OK() {
		t.Fatalf("want a valid *appconfig.App, got %T %v", res.Config, res.Problems)
	}
	if app.Application != "flag-app" || app.ServiceName() != "api" || app.Version != "v2" {
		t.Errorf("overrides not applied: %q %q %q", app.Application, app.ServiceName(), app.Version)
	}
}

func TestCheckAppBadOverrides(t *testing.T) {
	res := checkApp(filepath.Join(t.TempDir(), "app.yaml"), []byte("runtime: go\nversion: v1\n"),
		Options{AppID: "Bad_App", Service: "-x", Version: "v1-dot-2"})
	var got []string
	for _, p := range res.Problems {
		got = append(got, fmt.Sprintf("%d:%d %s", p.Line, p.Column, p.Field))
	}
	want := "1:1 application|1:1 service|2:1 version"
	if strings.Join(got, "|") != want {
		t.Errorf("problems at %q, want %q", strings.Join(got, "|"), want)
	}
}

// sdkIncludeCases are apps with includes and builtins, with the SDK's
// verdict on each app.yaml.
var sdkIncludeCases = []struct {
	name  string
	files map[string]string
	sdkOK bool
}{
	{"CGI handler from an include", map[string]string{"app.yaml": "runtime: python27\nthreadsafe: true\nincludes:\n- inc.yaml\nhandlers:\n- url: /.*\n  script: main.app\n", "inc.yaml": "handlers:\n- url: /x\n  script: x/y.py\n"}, false},
	{"app.yaml key in an include", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": "runtime: go\n"}, false},
	{"empty include", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": "# nothing\n"}, true},
	{"include of scalars", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": "- a\n"}, true},
	{"position on a static handler", map[string]string{"app.yaml": "runtime: go\nincludes:\n- sub\n", "sub/include.yaml": "handlers:\n- url: /s\n  static_dir: s\n  position: tail\n"}, false},
	{"bad position", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": "handlers:\n- url: /s\n  script: x\n  position: middle\n"}, false},
	{"bad builtin in a nested include", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": "includes:\n- inc2.yaml\nbuiltins:\n- nosuch: on\n", "inc2.yaml": "handlers:\n- url: /s\n  script: x\n"}, false},
	{"include of app.yaml", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": "includes:\n- app.yaml\n"}, false},
	{"include listed twice and self-include", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n- inc.yaml\n", "inc.yaml": "includes:\n- inc.yaml\nmanual_scaling:\n  instances: 3\n"}, true},
	{"two scaling blocks beside an include", map[string]string{"app.yaml": "runtime: go\nmanual_scaling:\n  instances: 5\nbasic_scaling:\n  max_instances: 1\nincludes:\n- inc.yaml\n", "inc.yaml": "manual_scaling:\n  instances: 3\n"}, false},
	{"include skip_files does not compile", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": "skip_files: (\n"}, false},
	{"include brings handlers over 100", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": manyHandlers(101)}, false},
	{"bad env name in include", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": "env_variables:\n  1A: x\n"}, false},
	{"python27 lacks datastore_admin", map[string]string{"app.yaml": "runtime: python27\nthreadsafe: true\nbuiltins:\n- django_wsgi: on\n- datastore_admin: on\n"}, false},
	{"python has datastore_admin", map[string]string{"app.yaml": "runtime: python\nbuiltins:\n- datastore_admin: on\n- mapreduce: off\n"}, true},
	{"vm from include", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": "vm: true\n"}, true},
	{"include static_files without upload", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": "handlers:\n- url: /x\n  static_files: a\n"}, false},
	{"null position", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": "handlers:\n- url: /x\n  script: a\n  position: ~\n"}, true},
	{"runtime vm without vm_settings", map[string]string{"app.yaml": "runtime: vm\nincludes:\n- inc.yaml\n", "inc.yaml": "vm_settings:\n  vm_runtime: python27\n"}, false},
	{"runtime vm with vm_settings", map[string]string{"app.yaml": "runtime: vm\nvm_settings:\n  x: y\nbuiltins:\n- remote_api: on\n"}, true},
	{"nulls in include", map[string]string{"app.yaml": "runtime: go\nincludes: [inc.yaml]\n", "inc.yaml": "handlers: ~\nincludes: ~\nbuiltins: ~\n"}, true},
	{"builtin twice in an include", map[string]string{"app.yaml": "runtime: go\nincludes:\n- inc.yaml\n", "inc.yaml": "builtins:\n- remote_api: on\n- remote_api: off\n"}, false},
}

// TestAppIncludeRules checks include and builtin merging against the SDK's
// recorded verdicts, and the records against the SDK when it is installed.
func TestAppIncludeRules(t *testing.T) {
	root := t.TempDir()
	var paths []string
	for i, tc := range sdkIncludeCases {
		dir := filepath.Join(root, fmt.Sprintf("case%02d", i))
		for name, body := range tc.files {
			p := filepath.Join(dir, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		p := filepath.Join(dir, "app.yaml")
		paths = append(paths, p)
		ok, ps := loadsOK(p)
		if ok != tc.sdkOK {
			t.Errorf("%s: appcfg ok=%v, the SDK %v; problems %v", tc.name, ok, tc.sdkOK, ps)
		}
	}
	want := make([]bool, len(sdkIncludeCases))
	names := make([]string, len(sdkIncludeCases))
	for i, tc := range sdkIncludeCases {
		want[i], names[i] = tc.sdkOK, tc.name
	}
	checkRecordedVerdicts(t, paths, names, want)
}

func TestCheckAppDeployWarnings(t *testing.T) {
	for y, want := range map[string]string{
		"runtime: python\n":                                "uses the Python 2.5 runtime",
		"runtime: custom\n":                                `runtime "custom" requires that env be explicitly specified.`,
		"runtime: python-compat\n":                         `"python-compat" is not a supported runtime.`,
		"runtime: python27\nenv: flex\nthreadsafe: true\n": `The "python27" is not a valid runtime in env: flex.`,
		"runtime: python27\nthreadsafe: true\nlibraries:\n- name: ssl\n  version: '2.7'\n": "outdated version [2.7] of the Python SSL library",
		"runtime: python\nbuiltins:\n- datastore_admin: on\n":                              "The datastore_admin builtin is deprecated.",
		"runtime: go\nmodule: web\n":                                                       "Field module is deprecated; use service instead.",
		"runtime: go\nauto_id_policy: legacy\n":                                            "datastore auto_id_policy to 'legacy'",
		"runtime: go\nhandlers:\n- url: /form\n  script: x\n":                              `The URL path "/form" is reserved`,
		// The SDK accepts any length; serve sends one year at most.
		"runtime: go\ndefault_expiration: \"1000000d\"\n":                                               `default_expiration "1000000d" is longer than one year`,
		"runtime: go\nhandlers:\n- url: /s\n  static_dir: s\n  expiration: \"366d\"\n":                  `expiration "366d" is longer than one year`,
		"runtime: go\nhandlers:\n- url: /s\n  static_dir: s\n  expiration: \"99999999999999999999d\"\n": `is longer than one year`,
	} {
		res := checkApp(filepath.Join(t.TempDir(), "app.yaml"), []byte(y), Options{})
		if !res.OK() {
			t.Errorf("%q: want only warnings, got %v", y, res.Problems)
			continue
		}
		found := false
		for _, p := range res.Problems {
			found = found || (p.Warning && strings.Contains(p.Message, want))
		}
		if !found {
			t.Errorf("%q: no warning %q in %v", y, want, res.Problems)
		}
	}
}
