package appengine

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/appcfg/appcfg/appconfig/appconfigtest"
	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/backendtest"
)

const testToken = "ya29.test-token"

// newTestBackend returns a backend on a fresh fake cloud, authorised with a
// static token the fake checks.
func newTestBackend(t testing.TB) (*Backend, *fakeCloud) {
	t.Helper()
	return newTestBackendOf(t, "p")
}

// newTestBackendOf is newTestBackend for the location appengine://project
// ("": the bare appengine, where each call names its project).
func newTestBackendOf(t testing.TB, project string) (*Backend, *fakeCloud) {
	t.Helper()
	f := newFakeCloud(t)
	f.tokenOK = func(tok string) bool { return tok == testToken }
	hc := oauth2.NewClient(context.Background(), oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken}))
	b, err := New(Options{Project: project, HTTPClient: hc, Endpoints: f.endpoints(),
		PollInitial: time.Millisecond, PollInterval: time.Millisecond, RetryBase: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b, f
}

// withoutConfigStore hides ConfigStore from the conformance suite: this
// backend stores dispatch only (cron and queue moved to other Google APIs),
// while the suite's config group stores cron and queue. Dispatch is tested
// in TestDispatch.
//
// LogWriter is the fake's own: Cloud Logging takes no App Engine request
// logs from users, so the suite's logs are seeded straight into the fake,
// and ReadLogs reads them back through entries:list.
//
// Entities go to the real Datastore emulator (one for the whole suite;
// every subtest uses its own project), through the fake, which checks each
// call against the Datastore discovery document on the way.
type withoutConfigStore struct {
	backend.Backend
	backend.Deployer
	backend.Versions
	backend.IndexManager
	backend.LogReader
	backend.LogWriter
}

// withEntities adds the Entities capability when the emulator runs.
type withEntities struct {
	withoutConfigStore
	backend.Entities
}

func TestConformance(t *testing.T) {
	emulator, why := datastoreEmulator(t)
	if emulator == "" {
		t.Logf("the Entities group will skip: %s", why)
	}
	// In parallel: most of the suite's time is spent waiting on the
	// fakes and the emulator, and every case has a fake of its own.
	backendtest.RunWith(t, func(t *testing.T) backend.Backend {
		// The suite names a project of its own in each call: a location
		// naming one would refuse them.
		b, f := newTestBackendOf(t, "")
		w := withoutConfigStore{b, b, b, b, b, fakeLogWriter{f}}
		if emulator == "" {
			return w
		}
		f.emulator = emulator
		return withEntities{w, b}
	}, backendtest.Options{Parallel: true})
}

// fakeLogWriter stores request logs in the fake as the LogEntry JSON App
// Engine writes (logName request_log, protoPayload RequestLog).
type fakeLogWriter struct{ f *fakeCloud }

var severityNames = map[backend.Severity]string{backend.Debug: "DEBUG", backend.Info: "INFO",
	backend.Warning: "WARNING", backend.Error: "ERROR", backend.Critical: "CRITICAL"}

func (w fakeLogWriter) WriteLogs(ctx context.Context, app string, logs []backend.RequestLog) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f := w.f
	f.mu.Lock()
	defer f.mu.Unlock()
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
	for _, l := range logs {
		f.nextID++
		var lines []any
		for _, al := range l.AppLogs {
			lines = append(lines, map[string]any{"time": ts(al.Time), "severity": severityNames[al.Level], "logMessage": al.Message})
		}
		payload := map[string]any{
			"@type": "type.googleapis.com/google.appengine.logging.v1.RequestLog",
			"appId": "s~" + app, "moduleId": l.Service, "versionId": l.Version, "ip": l.IP,
			"method": l.Method, "resource": l.Resource, "httpVersion": l.HTTPVersion,
			"status": l.Status, "responseSize": strconv.FormatInt(l.Bytes, 10),
			"referrer": l.Referrer, "userAgent": l.UserAgent, "host": l.Host,
			"latency":   strconv.FormatFloat(l.Latency.Seconds(), 'f', -1, 64) + "s",
			"startTime": ts(l.Time), "endTime": ts(l.Time.Add(l.Latency)),
		}
		if lines != nil {
			payload["line"] = lines
		}
		e := map[string]any{
			"logName":   "projects/" + app + "/logs/appengine.googleapis.com%2Frequest_log",
			"resource":  map[string]any{"type": "gae_app", "labels": map[string]any{"project_id": app, "module_id": l.Service, "version_id": l.Version}},
			"timestamp": ts(l.Time), "receiveTimestamp": ts(l.Time.Add(l.Latency)),
			"insertId": fmt.Sprintf("%012d", f.nextID), "severity": "INFO", "protoPayload": payload,
		}
		// The fake's entries obey the LogEntry schema too.
		raw, _ := json.Marshal(e)
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		dec.Decode(&v)
		if probs := f.docs["logging"].validate(v, &dschema{Ref: "LogEntry"}, "LogEntry", false); len(probs) > 0 {
			return fmt.Errorf("fake log entry: %v", probs)
		}
		f.logs[app] = append(f.logs[app], e)
	}
	return nil
}

func sha1hex(b []byte) string {
	s := sha1.Sum(b)
	return hex.EncodeToString(s[:])
}

// TestGoldenVersionBody: our versions.create body for google-apis.md
// §1.4's app equals, field by field, the one gcloud 528 sent
// (testdata/golden, recorded by capture.sh).
func TestGoldenVersionBody(t *testing.T) {
	want := map[string]any{}
	data, err := os.ReadFile("testdata/golden/version_body.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	b, f := newTestBackend(t)
	ctx := t.Context()
	cfg, err := os.ReadFile("testdata/golden/app/app.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := backend.VersionSpec{App: "p", Service: "default", Version: "v2", Runtime: "python312", Model: appconfigtest.Model(t, "testdata/golden/app/app.yaml", string(cfg))}
	for _, p := range []string{"app.yaml", "main.py", "requirements.txt", "static/empty.txt", "static/style.css"} {
		content, err := os.ReadFile("testdata/golden/app/" + p)
		if err != nil {
			t.Fatal(err)
		}
		d := sha1hex(content)
		if err := b.PutBlob(ctx, "p", d, int64(len(content)), bytes.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		spec.Files = append(spec.Files, backend.FileRef{Path: p, SHA1: d, Size: int64(len(content))})
	}
	if _, err := b.CreateVersion(ctx, spec); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	sent := f.apps["p"].services["default"].versions["v2"]
	f.mu.Unlock()
	got := map[string]any{}
	for k, v := range sent {
		switch k {
		case "name", "servingStatus", "createTime", "createdBy", "diskUsageBytes":
			continue // set by the fake server, not sent
		}
		got[k] = v
	}
	compareJSON(t, "", want, got)
}

// compareJSON reports every differing field by its path.
func compareJSON(t *testing.T, at string, want, got any) {
	t.Helper()
	wm, wok := want.(map[string]any)
	gm, gok := got.(map[string]any)
	if wok && gok {
		for k := range wm {
			if _, ok := gm[k]; !ok {
				t.Errorf("%s.%s: missing, gcloud sent %v", at, k, wm[k])
				continue
			}
			compareJSON(t, at+"."+k, wm[k], gm[k])
		}
		for k := range gm {
			if _, ok := wm[k]; !ok {
				t.Errorf("%s.%s: sent %v, gcloud did not send it", at, k, gm[k])
			}
		}
		return
	}
	wl, wok := want.([]any)
	gl, gok := got.([]any)
	if wok && gok {
		if len(wl) != len(gl) {
			t.Errorf("%s: %d elements, gcloud sent %d", at, len(gl), len(wl))
			return
		}
		for i := range wl {
			compareJSON(t, at+"["+string(rune('0'+i))+"]", wl[i], gl[i])
		}
		return
	}
	// Normalise numbers: both sides through JSON.
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	var wn, gn any
	json.Unmarshal(wj, &wn)
	json.Unmarshal(gj, &gn)
	if !reflect.DeepEqual(wn, gn) {
		t.Errorf("%s = %s, gcloud sent %s", at, gj, wj)
	}
}

func TestConversionRules(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want string // JSON of the expected subset
	}{
		{"runtime: go122\nentrypoint: exec ./server\n", `{"runtime":"go122","entrypoint":{"shell":"./server"}}`},
		{"runtime: go122\n", `{"runtime":"go122","entrypoint":{"shell":""}}`},
		{"runtime: python27\napi_version: 1\nthreadsafe: yes\nlibraries:\n- name: jinja2\n  version: 2.6\n",
			`{"runtime":"python27","runtimeApiVersion":"1","threadsafe":true,"libraries":[{"name":"jinja2","version":"2.6"}],"entrypoint":{"shell":""}}`},
		{"runtime: java8\nbasic_scaling:\n  max_instances: 3\n  idle_timeout: 10m\ninstance_class: B2\n",
			`{"runtime":"java8","basicScaling":{"maxInstances":3,"idleTimeout":"600s"},"instanceClass":"B2","entrypoint":{"shell":""}}`},
		// beta_settings values are str() of what YAML 1.1 read (the SDK's
		// VALUE_VALIDATOR = str): yes is "True".
		{"runtime: php83\nmanual_scaling:\n  instances: 2\ndefault_expiration: 4d 5h\nbeta_settings:\n  a: yes\nvm_settings:\n  b: 1\n",
			`{"runtime":"php83","manualScaling":{"instances":2},"defaultExpiration":"363600s","betaSettings":{"a":"True","b":"1"},"entrypoint":{"shell":""}}`},
		// beta_settings wins over what vm_settings merges into it, whatever
		// order the map is read in.
		{"runtime: php82\nbeta_settings:\n  a: x\nvm_settings:\n  a: y\n  c: 2\n",
			`{"runtime":"php82","betaSettings":{"a":"x","c":"2"},"entrypoint":{"shell":""}}`},
		{"runtime: nodejs20\nerror_handlers:\n- error_code: over_quota\n  file: q.html\nhandlers:\n- url: /r\n  static_files: r.html\n  upload: r\\.html\n  redirect_http_response_code: 301\n  http_headers:\n    X-A: 1\n",
			`{"runtime":"nodejs20","entrypoint":{"shell":""},"errorHandlers":[{"errorCode":"ERROR_CODE_OVER_QUOTA","staticFile":"q.html"}],"handlers":[{"urlRegex":"/r","securityLevel":"SECURE_OPTIONAL","redirectHttpResponseCode":"REDIRECT_HTTP_RESPONSE_CODE_301","staticFiles":{"path":"r.html","uploadPathRegex":"r\\.html","httpHeaders":{"X-A":"1"}}}]}`},
		{"runtime: python312\nunknown_key: 1\nservice: api\nvpc_access_connector:\n  name: projects/p/locations/l/connectors/c\n  egress_setting: all-traffic\n",
			`{"runtime":"python312","entrypoint":{"shell":""},"vpcAccessConnector":{"name":"projects/p/locations/l/connectors/c","egressSetting":"ALL_TRAFFIC"}}`},
		// appinfo's ToDict drops a value equal to its default, written or
		// not: login optional, auth_fail_action redirect, api_config's
		// secure default, an empty handlers list.
		{"runtime: python312\nhandlers:\n- url: /a\n  script: auto\n  login: optional\n  auth_fail_action: redirect\n- url: /b\n  script: auto\n  secure: default\n  login: admin\n  auth_fail_action: unauthorized\n",
			`{"runtime":"python312","entrypoint":{"shell":""},"handlers":[{"urlRegex":"/a","securityLevel":"SECURE_OPTIONAL","script":{"scriptPath":"auto"}},{"urlRegex":"/b","securityLevel":"SECURE_OPTIONAL","login":"LOGIN_ADMIN","authFailAction":"AUTH_FAIL_ACTION_UNAUTHORIZED","script":{"scriptPath":"auto"}}]}`},
		{"runtime: python27\nhandlers: []\napi_config:\n  url: /_ah/spi/.*\n  script: api.app\n  login: optional\n  auth_fail_action: redirect\n  secure: default\n",
			`{"runtime":"python27","entrypoint":{"shell":""},"apiConfig":{"url":"/_ah/spi/.*","script":"api.app"}}`},
		// nobuild_files is a RegexStr: a list is joined with |, the
		// default ^$ is dropped.
		{"runtime: go112\nnobuild_files:\n- node_modules\n- src\n",
			`{"runtime":"go112","entrypoint":{"shell":""},"nobuildFilesRegex":"node_modules|src"}`},
		{"runtime: go112\nnobuild_files: ^$\n", `{"runtime":"go112","entrypoint":{"shell":""}}`},
	} {
		got, err := VersionResource(appconfigtest.Model(t, "app.yaml", tc.yaml))
		if err != nil {
			t.Fatalf("%q: %v", tc.yaml, err)
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
			t.Fatal(err)
		}
		t.Run(strings.SplitN(tc.yaml, "\n", 2)[0], func(t *testing.T) { compareJSON(t, "", want, got) })
	}
	if _, err := VersionResource(appconfigtest.Model(t, "app.yaml", "runtime: x\nhandlers:\n- url: /(a)\n  static_dir: s\n")); err == nil {
		t.Error("a static_dir url with a regex group converted without error")
	}
}
