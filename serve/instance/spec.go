package instance

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// Scaling is how App Engine scales a version, which decides its start
// request and its idle stop.
type Scaling int

// The scaling kinds.
const (
	Automatic Scaling = iota
	Basic
	Manual
)

// Key names one version of one service of the application served.
type Key struct{ Service, Version string }

func (k Key) String() string { return fmt.Sprintf("version %s of service %s", k.Version, k.Service) }

// Spec is what an instance of a version runs: the version's settings from
// its app.yaml and where its files are.
type Spec struct {
	Project string // the application (project) id, without region prefix
	Key
	Runtime string
	// Entrypoint is app.yaml's entrypoint, "" for the runtime's default.
	Entrypoint string
	// Main is app.yaml's main: (Go), the package to build; "" for the
	// root.
	Main string
	// Env is env_variables; BuildEnv is build_env_variables, given to the
	// dependency install and the build only.
	Env, BuildEnv map[string]string
	// Libraries is a python27 version's libraries: (name to version,
	// "latest" resolved), the SDK's bundled library versions it asks for.
	Libraries map[string]string
	// InstanceClass decides GAE_MEMORY_MB.
	InstanceClass string
	// Dir is the version's files, laid out read-only
	// (backend.Materializer); its path changes when the version is
	// redeployed.
	Dir string
	// Warmup: inbound_services lists warmup, so a new instance gets
	// GET /_ah/warmup before traffic.
	Warmup  bool
	Scaling Scaling
	// IdleTimeout is basic scaling's idle_timeout (0: App Engine's 5m).
	IdleTimeout time.Duration
}

// passedEnv are the variables of serve's own environment an instance
// gets: what a process needs to find its interpreter and tools (pyenv's
// shims read PYENV_*), and nothing else, so no credential or appcfg
// setting of the user's shell reaches the app.
var passedEnv = []string{"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TMPDIR", "PYENV_ROOT", "PYENV_VERSION", "SYSTEMROOT"}

// reservedEnv are the names the runtime sets, which env_variables may not
// replace.
var reservedEnv = map[string]bool{"PORT": true, "GAE_APPLICATION": true, "GAE_DEPLOYMENT_ID": true, "GAE_ENV": true,
	"GAE_INSTANCE": true, "GAE_MEMORY_MB": true, "GAE_RUNTIME": true, "GAE_SERVICE": true, "GAE_VERSION": true,
	"GOOGLE_CLOUD_PROJECT": true}

// memoryMB is each second-generation instance class's memory.
var memoryMB = map[string]int{"F1": 384, "F2": 768, "F4": 1536, "F4_1G": 3072,
	"B1": 384, "B2": 768, "B4": 1536, "B4_1G": 3072, "B8": 3072}

// environ builds an instance's environment from scratch: the essentials
// of passedEnv from getenv, the runtime's variables, then env_variables.
func (s Spec) environ(getenv func(string) string, prefix, instanceID string, port int, extra map[string]string) []string {
	env := map[string]string{}
	for _, k := range passedEnv {
		if v := getenv(k); v != "" {
			env[k] = v
		}
	}
	for k, v := range extra {
		env[k] = v
	}
	class := s.InstanceClass
	if class == "" {
		class = "F1"
		if s.Scaling != Automatic {
			class = "B2"
		}
	}
	mem := memoryMB[strings.ToUpper(class)]
	if mem == 0 {
		mem = memoryMB["F1"]
	}
	for k, v := range s.Env {
		if !reservedEnv[k] {
			env[k] = v
		}
	}
	for k, v := range map[string]string{
		"PORT":                 fmt.Sprint(port),
		"GAE_APPLICATION":      prefix + "~" + s.Project,
		"GAE_DEPLOYMENT_ID":    deploymentID(s.Dir),
		"GAE_ENV":              "standard",
		"GAE_INSTANCE":         instanceID,
		"GAE_MEMORY_MB":        fmt.Sprint(mem),
		"GAE_RUNTIME":          s.Runtime,
		"GAE_SERVICE":          s.Service,
		"GAE_VERSION":          s.Version,
		"GOOGLE_CLOUD_PROJECT": s.Project,
	} {
		env[k] = v
	}
	if strings.HasPrefix(s.Runtime, "nodejs") {
		env["NODE_ENV"] = "production"
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// deploymentID is the layout's name, which changes with each deploy.
func deploymentID(dir string) string {
	i := strings.LastIndexAny(dir, `/\`)
	return dir[i+1:]
}

// hostEnv is serve's own environment, for the tools that prepare a version
// (pip, npm, go build), which need the user's proxies and caches.
func hostEnv() []string { return os.Environ() }
