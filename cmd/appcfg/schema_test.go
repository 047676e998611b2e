package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The JSON Schemas of docs/schemas are checked against the real output of
// every command: testscripts run the binary with --format json or ndjson
// and pass stdout to `jsonschema`.

const schemaDir = "../../docs/schemas"

const schemaBase = "https://appcfg.dev/schemas/"

var schemas struct {
	once sync.Once
	c    *jsonschema.Compiler
	err  error
	mu   sync.Mutex
	done map[string]*jsonschema.Schema
}

// compiledSchema returns docs/schemas/NAME.json compiled, with every other
// schema of the folder loaded for its references; format (date-time, uri)
// is asserted.
func compiledSchema(name string) (*jsonschema.Schema, error) {
	schemas.once.Do(func() {
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		files, err := filepath.Glob(filepath.Join(schemaDir, "*.json"))
		if err == nil && len(files) == 0 {
			err = fmt.Errorf("no schema in %s", schemaDir)
		}
		for _, f := range files {
			if err != nil {
				break
			}
			var r *os.File
			if r, err = os.Open(f); err != nil {
				break
			}
			var doc any
			doc, err = jsonschema.UnmarshalJSON(r)
			r.Close()
			if err == nil {
				err = c.AddResource(schemaBase+filepath.Base(f), doc)
			}
		}
		schemas.c, schemas.err, schemas.done = c, err, map[string]*jsonschema.Schema{}
	})
	if schemas.err != nil {
		return nil, schemas.err
	}
	schemas.mu.Lock()
	defer schemas.mu.Unlock()
	if s, ok := schemas.done[name]; ok {
		return s, nil
	}
	s, err := schemas.c.Compile(schemaBase + name + ".json")
	if err != nil {
		return nil, err
	}
	schemas.done[name] = s
	return s, nil
}

func validateJSON(name, text string) error {
	s, err := compiledSchema(name)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	return s.Validate(inst)
}

// cmdJSONSchema is the script command `jsonschema [-ndjson] NAME FILE`:
// FILE (or stdout) must be one JSON document valid against
// docs/schemas/NAME.json; with -ndjson, every line must be an event
// (event.json), at least one, and the result event's result valid against
// NAME.
func cmdJSONSchema(ts *testscript.TestScript, neg bool, args []string) {
	lines := len(args) == 3 && args[0] == "-ndjson"
	if lines {
		args = args[1:]
	}
	if len(args) != 2 || neg {
		ts.Fatalf("usage: jsonschema [-ndjson] NAME FILE")
	}
	name, text := args[0], ts.ReadFile(args[1])
	if !lines {
		if err := validateJSON(name, text); err != nil {
			ts.Fatalf("%s is not a valid %s result: %v\n%s", args[1], name, err, text)
		}
		return
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(nil, 16<<20)
	n, results := 0, 0
	for sc.Scan() {
		n++
		if err := validateJSON("event", sc.Text()); err != nil {
			ts.Fatalf("line %d of %s is not a valid event: %v\n%s", n, args[1], err, sc.Text())
		}
		var ev struct {
			Event  string          `json:"event"`
			Result json.RawMessage `json:"result"`
		}
		json.Unmarshal(sc.Bytes(), &ev)
		if ev.Event == "result" {
			results++
			if err := validateJSON(name, string(ev.Result)); err != nil {
				ts.Fatalf("the result event of %s is not a valid %s result: %v\n%s", args[1], name, err, ev.Result)
			}
		}
	}
	if n == 0 || (results != 1 && name != "error") {
		ts.Fatalf("%s has %d events and %d results; want events and one result", args[1], n, results)
	}
}

// commandSchemas names the schema of each command's result; "" for the
// commands that print no result (serve runs until stopped, help and
// version, completion print text for people). A command added without an entry fails
// TestEveryCommandHasASchema.
var commandSchemas = map[string]string{
	"validate": "validate", "ls_files": "ls_files", "update": "update", "rollback": "rollback",
	"request_logs": "request_logs", "verify": "verify", "list_versions": "list_versions",
	"set_default_version": "version_change", "migrate_traffic": "version_change", "delete_version": "version_change",
	"start_module_version": "version_change", "stop_module_version": "version_change",
	"set_traffic": "version_change",
	"upload_data": "bulkload", "download_data": "bulkload",
	"update_indexes": "update_indexes", "vacuum_indexes": "vacuum_indexes",
	"update_cron": "config_push", "update_queues": "config_push", "update_dos": "config_push", "update_dispatch": "config_push",
	"cron_info": "cron_info", "download_app": "download_app", "resource_limits_info": "resource_limits_info",
	"create_bulkloader_config": "create_bulkloader_config", "backends": "backends",
	// Refused on purpose (exit 6, the JSON error object).
	"debug": "", "lock": "", "prepare_vm_runtime": "",
	"serve": "", "version": "", "help": "", "exit-codes": "", "completion": "",
}

// TestEveryCommandHasASchema: every command is listed in commandSchemas,
// every schema of docs/schemas is valid and used, and each command's
// schema is checked against its real output by some testscript
// (`jsonschema NAME` after a run of the command).
func TestEveryCommandHasASchema(t *testing.T) {
	app := newApp(stdio{})
	scripts, err := filepath.Glob("testdata/script/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for _, s := range scripts {
		data, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(data)
	}
	checked := map[string]bool{} // schema names some script validates
	for _, m := range regexp.MustCompile(`(?m)^\s*(?:\[[^\]]*\]\s*)?jsonschema (-ndjson )?(\w+)`).FindAllStringSubmatch(all.String(), -1) {
		checked[m[2]] = true
		if m[1] != "" {
			checked["event"] = true // each line is checked against event.json
		}
	}
	ran := map[string]bool{} // commands some script runs with --format json/ndjson or --json
	for _, line := range strings.Split(all.String(), "\n") {
		if !strings.Contains(line, "exec appcfg") || !(strings.Contains(line, "--json") || strings.Contains(line, "--format json") || strings.Contains(line, "--format ndjson")) {
			continue
		}
		for _, f := range strings.Fields(line) {
			ran[f] = true
		}
	}
	for _, c := range app.Commands {
		schema, ok := commandSchemas[c.Name]
		switch {
		case !ok:
			t.Errorf("command %s has no entry in commandSchemas: give its result a schema in docs/schemas", c.Name)
		case schema == "":
		case !ran[c.Name]:
			t.Errorf("no testscript runs %s with --format json", c.Name)
		case !checked[schema]:
			t.Errorf("no testscript checks %s's output against docs/schemas/%s.json", c.Name, schema)
		}
	}
	files, _ := filepath.Glob(filepath.Join(schemaDir, "*.json"))
	var unused []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if _, err := compiledSchema(name); err != nil {
			t.Errorf("docs/schemas/%s.json: %v", name, err)
		}
		if !checked[name] {
			unused = append(unused, name)
		}
	}
	sort.Strings(unused)
	if len(unused) > 0 {
		t.Errorf("schemas no testscript checks: %s", strings.Join(unused, ", "))
	}
}

// TestSchemasRejectWhatTheyShould: the schemas are not vacuous: the bugs
// they guard against fail them.
func TestSchemasRejectWhatTheyShould(t *testing.T) {
	base := `{"app":"a","project":"a","service":"default","version":"v1","dry_run":false,"files":1,"bytes":1,"blobs":1,"missing":0,"missing_bytes":0,` +
		`"promoted":true,"files_sent":0,"bytes_sent":0,"started":"2026-01-01T00:00:00Z","seconds":0.1`
	for _, tt := range []struct{ name, schema, doc string }{
		{"uploaded null", "update", base + `,"uploaded":null,"traffic":1}`},
		{"promoted without traffic", "update", base + `,"uploaded":[],"traffic":0}`},
		{"count as string", "update", strings.Replace(base, `"files":1`, `"files":"1"`, 1) + `,"uploaded":[],"traffic":1}`},
		{"error without class", "error", `{"error":{"exit_code":3,"message":"x"}}`},
		{"unknown event", "event", `{"event":"nope","time":"2026-01-01T00:00:00Z"}`},
	} {
		if err := validateJSON(tt.schema, tt.doc); err == nil {
			t.Errorf("%s: %s.json accepts %s", tt.name, tt.schema, tt.doc)
		}
	}
	if err := validateJSON("update", base+`,"uploaded":[],"traffic":1}`); err != nil {
		t.Errorf("a good update result fails: %v", err)
	}
}
