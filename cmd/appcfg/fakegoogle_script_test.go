package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptFakes are the fakeGoogle servers of running scripts.
var scriptFakes sync.Map // *testscript.TestScript → *fakeGoogle

// cmdFakeGoogle is the script command
//
//	fakegoogle [busy=N] [deny=PERMISSION] [versions=SERVICE:N] [runtimes=FILE]
//
// which starts a fake of Google's APIs for the script (or changes the
// running one) and points appcfg at it: APPCFG_BACKEND=appengine://p, a
// static token. busy answers the next N changes of a service 409 ABORTED
// (-1: for ever), deny refuses versions.create with a 403 naming
// PERMISSION, versions deploys N versions to SERVICE first, runtimes
// answers apps.listRuntimes with the JSON list in FILE.
//
//	fakegoogle calls
//
// prints the requests the fake received, one "METHOD PATH" a line.
func cmdFakeGoogle(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! fakegoogle")
	}
	v, running := scriptFakes.Load(ts)
	if len(args) == 1 && args[0] == "calls" {
		if !running {
			ts.Fatalf("fakegoogle calls: no fake is running")
		}
		fmt.Fprintln(ts.Stdout(), strings.Join(v.(*fakeGoogle).callLog(), "\n"))
		return
	}
	if !running {
		f := startFakeGoogle()
		ts.Defer(func() { f.srv.Close(); scriptFakes.Delete(ts) })
		scriptFakes.Store(ts, f)
		for k, val := range f.envVars() {
			ts.Setenv(k, val)
		}
		ts.Setenv("APPCFG_BACKEND", "appengine://p")
		ts.Setenv("APPCFG_OAUTH2_ACCESS_TOKEN", "ya29.script-token")
		v = f
	}
	f := v.(*fakeGoogle)
	for _, a := range args {
		key, val, _ := strings.Cut(a, "=")
		switch key {
		case "busy":
			n, err := strconv.Atoi(val)
			ts.Check(err)
			f.mu.Lock()
			f.busy = n
			f.mu.Unlock()
		case "fail":
			// Every request answered with this HTTP status (503: a
			// server that keeps failing).
			code, err := strconv.Atoi(val)
			ts.Check(err)
			f.mu.Lock()
			f.echo = code
			f.mu.Unlock()
		case "deny":
			f.mu.Lock()
			f.deny = val
			f.mu.Unlock()
		case "versions":
			svc, n, _ := strings.Cut(val, ":")
			count, err := strconv.Atoi(n)
			ts.Check(err)
			f.addVersions("p", svc, count)
		case "runtimes":
			var rts []map[string]any
			ts.Check(json.Unmarshal([]byte(ts.ReadFile(val)), &rts))
			f.mu.Lock()
			f.runtimes = rts
			f.mu.Unlock()
		default:
			ts.Fatalf("fakegoogle: unknown setting %q", a)
		}
	}
}
