package validate

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/internal/sdktest"
)

type companionCase struct {
	name string
	kind Kind
	src  string
	// want is every error as "line:col: message" (warnings excluded); empty
	// means the file is valid.
	want []string
	// sdk is the Cloud SDK's verdict when it differs from ours: it runs on
	// Python 3 without groc, pytz and ipaddr, so it skips the schedule, time
	// zone and subnet checks that the App Engine SDK (and this tool) make.
	// The YAML decoder also refuses a list where the SDK takes str() of it.
	sdk string
}

var companionCases = []companionCase{
	// index.yaml
	{"index ok", KindIndex, "indexes:\n- kind: Cat\n  ancestor: no\n  properties:\n  - name: name\n  - name: age\n    direction: descending\n", nil, ""},
	{"index empty file", KindIndex, "# no indexes yet\n", nil, ""},
	{"index no properties", KindIndex, "indexes:\n- kind: A\n  properties:\n", nil, ""},
	{"index geospatial", KindIndex, "indexes:\n- kind: M\n  properties:\n  - name: name\n  - name: location\n    mode: geospatial\n", nil, ""},
	{"index vector", KindIndex, "indexes:\n- kind: Doc\n  properties:\n  - name: tag\n  - name: embedding\n    vectorConfig:\n      dimension: 3\n      flat: {}\n", nil, ""},
	{"index two vectors", KindIndex, "indexes:\n- kind: Doc\n  properties:\n  - name: a\n    vectorConfig: {dimension: 3, flat: {}}\n  - name: b\n    vectorConfig: {dimension: 3, flat: {}}\n",
		[]string{"7:19: only one vector property is allowed"}, ""},
	{"index vector without flat", KindIndex, "indexes:\n- kind: Doc\n  properties:\n  - name: a\n    vectorConfig: {dimension: 3}\n",
		[]string{"5:19: Missing required value [flat]."}, ""},
	{"index unknown direction", KindIndex, "indexes:\n- kind: A\n  properties:\n  - name: a\n    direction: up\n",
		[]string{"5:16: Value 'up' for direction not in asc (ascending), desc (descending)."}, ""},
	{"index direction and mode", KindIndex, "indexes:\n- kind: A\n  properties:\n  - name: a\n    direction: asc\n    mode: geospatial\n",
		[]string{"4:5: direction, mode, and vectorConfig are mutually exclusive"}, ""},
	{"index direction in geospatial", KindIndex, "indexes:\n- kind: A\n  properties:\n  - name: a\n    direction: asc\n  - name: b\n    mode: geospatial\n",
		[]string{"5:16: direction not supported in a geospatial index"}, ""},
	{"index bad mode", KindIndex, "indexes:\n- kind: A\n  properties:\n  - name: a\n    mode: flat\n",
		[]string{"5:11: Value 'flat' for mode not in geospatial."}, ""},
	{"index ancestor int", KindIndex, "indexes:\n- kind: A\n  ancestor: 1\n", []string{"3:13: Value 1 for ancestor is not of the expected type bool"}, ""},
	{"index ancestor null", KindIndex, "indexes:\n- kind: A\n  ancestor:\n", []string{"3:3: Missing required value [ancestor]."}, ""},
	{"index kind number", KindIndex, "indexes:\n- kind: 1\n", []string{"2:9: Value 1 for kind is not of the expected type str"}, ""},
	{"index property named y", KindIndex, "indexes:\n- kind: A\n  properties:\n  - name: y\n",
		[]string{"4:11: Value True for name is not of the expected type str"}, ""},
	{"index missing kind", KindIndex, "indexes:\n- properties:\n  - name: a\n", []string{"2:3: Missing required value [kind]."}, ""},
	{"index missing name", KindIndex, "indexes:\n- kind: A\n  properties:\n  - direction: asc\n", []string{"4:5: Missing required value [name]."}, ""},
	{"index unknown key", KindIndex, "indexes:\n- kind: A\n  ancestors: yes\n", []string{"3:3: Unexpected attribute 'ancestors' for object of type Index."}, ""},
	{"index bad application", KindIndex, "application: My_App\nindexes:\n- kind: A\n",
		[]string{"1:14: Value 'My_App' for application does not match expression '" + applicationPattern.py + "'"}, ""},
	{"index two documents", KindIndex, "indexes:\n- kind: A\n---\nindexes:\n- kind: B\n",
		[]string{"3:1: the file holds 2 YAML documents; a configuration file must hold exactly one"}, ""},

	// cron.yaml
	{"cron ok", KindCron, "cron:\n- description: daily summary\n  url: /tasks/summary\n  schedule: every 24 hours\n  timezone: Australia/NSW\n  target: beta\n  retry_parameters:\n    job_retry_limit: 5\n    job_age_limit: 2d\n    min_backoff_seconds: 2.5\n    max_doublings: 3\n", nil, ""},
	{"cron empty file", KindCron, "# nothing scheduled\n", []string{"1:1: Empty cron configuration."}, ""},
	{"cron null document", KindCron, "~\n", nil, ""},
	{"cron no entries", KindCron, "cron:\n", nil, ""},
	{"cron bad schedule", KindCron, "cron:\n- url: /a\n  schedule: every 5 minuts\n",
		[]string{`3:13: schedule 'every 5 minuts' failed to parse: unexpected "minuts" at column 9: expected 'hours', 'mins' or 'minutes'`}, "ok"},
	{"cron synchronized odd period", KindCron, "cron:\n- url: /a\n  schedule: every 7 minutes synchronized\n",
		[]string{"3:13: schedule 'every 7 minutes synchronized' failed to parse: can only use synchronized for periods that divide evenly into 24 hours"}, "ok"},
	{"cron schedule number", KindCron, "cron:\n- url: /a\n  schedule: 5\n", []string{"3:13: schedule must be a string, not '<class 'int'>'"}, ""},
	{"cron missing schedule", KindCron, "cron:\n- url: /a\n", []string{"2:3: Missing required value [schedule]."}, ""},
	{"cron bad url", KindCron, "cron:\n- url: tasks/a\n  schedule: every 5 minutes\n",
		[]string{"2:8: Value 'tasks/a' for url does not match expression '^(?:^/.*$)$'"}, ""},
	{"cron unknown timezone", KindCron, "cron:\n- url: /a\n  schedule: every day 09:00\n  timezone: Mars/Olympus\n",
		[]string{"4:13: timezone 'Mars/Olympus' is unknown"}, "ok"},
	{"cron bad target", KindCron, "cron:\n- url: /a\n  schedule: every 5 minutes\n  target: -beta\n",
		[]string{"4:11: Value '-beta' for target does not match expression '" + cronTarget.py + "'"}, ""},
	{"cron job age limit unit", KindCron, "cron:\n- url: /a\n  schedule: every 5 minutes\n  retry_parameters:\n    job_age_limit: 5w\n",
		[]string{"5:20: Value '5w' for job_age_limit must end with a time unit, one of s (seconds), m (minutes), h (hours), or d (days)"}, ""},
	{"cron job age limit number", KindCron, "cron:\n- url: /a\n  schedule: every 5 minutes\n  retry_parameters:\n    job_age_limit: 5\n",
		[]string{"5:20: Value '5' for job_age_limit is not a string (must be a non-negative number followed by a time unit, such as 1h or 3.5d)"}, ""},
	{"cron negative retry limit", KindCron, "cron:\n- url: /a\n  schedule: every 5 minutes\n  retry_parameters:\n    job_retry_limit: -1\n    max_doublings: -2\n    min_backoff_seconds: -0.5\n",
		[]string{"5:22: Value '-1' for job_retry_limit is out of range 0 - 9223372036854775807", "6:20: Value '-2' for max_doublings less than 0",
			"7:26: Value '-0.5' for min_backoff_seconds less than 0.0"}, ""},
	{"cron url block scalar", KindCron, "cron:\n- url: |\n    /tasks/a\n  schedule: every 5 minutes\n", nil, ""},
	{"cron unknown top key", KindCron, "crons:\n- url: /a\n", []string{"1:1: Unexpected attribute 'crons' for object of type CronInfoExternal."}, ""},
	{"cron list of entries at top", KindCron, "- url: /a\n  schedule: every 5 minutes\n", []string{"1:1: the file must be a mapping of keys to values, not a list"}, ""},
	{"cron description list", KindCron, "cron:\n- url: /a\n  schedule: every 5 minutes\n  description: [a, b]\n",
		[]string{"4:16: Value for description should be a single value, not a list"}, "ok"},

	// queue.yaml
	{"queue ok", KindQueue, "total_storage_limit: 120M\nqueue:\n- name: default\n  rate: 5/s\n  bucket_size: 10\n  max_concurrent_requests: 3\n  target: v1.worker\n  retry_parameters:\n    task_retry_limit: 7\n    task_age_limit: 1.5d\n    min_backoff_seconds: 0.1\n- name: pull-q\n  mode: pull\n  acl:\n  - user_email: a@example.com\n  - writer_email: b@example.com\n", nil, ""},
	{"queue rate zero", KindQueue, "queue:\n- name: paused\n  rate: 0\n", nil, ""},
	{"queue empty file", KindQueue, "\n", []string{"1:1: Empty queue configuration."}, ""},
	{"queue bad rate", KindQueue, "queue:\n- name: q\n  rate: 5 per second\n",
		[]string{"3:9: Value '5 per second' for rate does not match expression '^(?:^(0|[0-9]+(\\.[0-9]*)?/[smhd]))$'"}, ""},
	{"queue bad mode", KindQueue, "queue:\n- name: q\n  mode: poll\n", []string{"3:9: Value 'poll' for mode does not match expression '^(?:(pull)|(push))$'"}, ""},
	{"queue bad name", KindQueue, "queue:\n- name: my_queue\n", []string{"2:9: Value 'my_queue' for name does not match expression '^(?:^[A-Za-z0-9-]{0,499}$)$'"}, ""},
	{"queue missing name", KindQueue, "queue:\n- rate: 1/s\n", []string{"2:3: Missing required value [name]."}, ""},
	{"queue bucket size text", KindQueue, "queue:\n- name: q\n  bucket_size: lots\n", []string{"3:16: Value 'lots' for bucket_size could not be converted to type int."}, ""},
	{"queue bad storage limit", KindQueue, "total_storage_limit: 1.5X\n",
		[]string{"1:22: Value '1.5X' for total_storage_limit does not match expression '^(?:^([0-9]+(\\.[0-9]*)?[BKMGT]?))$'"}, ""},
	{"queue task age limit negative", KindQueue, "queue:\n- name: q\n  retry_parameters:\n    task_age_limit: -1h\n",
		[]string{"4:21: Value '-1h' for task_age_limit is negative (must be a non-negative number followed by a time unit, such as 1h or 3.5d)"}, ""},
	{"queue unknown acl key", KindQueue, "queue:\n- name: q\n  acl:\n  - reader_email: a@example.com\n",
		[]string{"4:5: Unexpected attribute 'reader_email' for object of type Acl."}, ""},

	// dispatch.yaml
	{"dispatch ok", KindDispatch, "application: my-app\ndispatch:\n- url: \"*/favicon.ico\"\n  service: default\n- url: \"simple-sample.appspot.com/\"\n  service: default\n- url: \"*.example.com/mobile/*\"\n  module: mobile-frontend\n", nil, ""},
	{"dispatch wildcard host", KindDispatch, "dispatch:\n- url: \"*/*\"\n  service: s\n- url: \"*example.com/a\"\n  service: s\n", nil, ""},
	{"dispatch empty file", KindDispatch, "", nil, ""},
	{"dispatch url without path", KindDispatch, "dispatch:\n- url: example.com\n  service: s\n", []string{"2:8: invalid url 'example.com'"}, ""},
	{"dispatch bad host", KindDispatch, "dispatch:\n- url: Example.com/*\n  service: s\n", []string{"2:8: invalid host_pattern 'Example.com'"}, ""},
	{"dispatch bad suffix host", KindDispatch, "dispatch:\n- url: \"*-.example.com/*\"\n  service: s\n", []string{"2:8: invalid host_pattern '*-.example.com'"}, ""},
	{"dispatch ipv4 host", KindDispatch, "dispatch:\n- url: 10.0.0.1/*\n  service: s\n", []string{"2:8: Host may not match an ipv4 address '10.0.0.1'"}, ""},
	{"dispatch both service and module", KindDispatch, "dispatch:\n- url: \"*/a\"\n  service: s\n  module: m\n",
		[]string{"4:3: Only one of the two fields [service] (preferred) and [module] (deprecated) may be set."}, ""},
	{"dispatch no service", KindDispatch, "dispatch:\n- url: \"*/a\"\n", []string{"2:3: Missing required value [service]."}, ""},
	{"dispatch bad service", KindDispatch, "dispatch:\n- url: \"*/a\"\n  service: Web_UI\n",
		[]string{"3:12: Value 'Web_UI' for service does not match expression '^(?:^(?!-)[a-z\\d\\-]{0,62}[a-z\\d]$)$'"}, ""},
	{"dispatch url number", KindDispatch, "dispatch:\n- url: 12\n  service: s\n", []string{"2:8: url must be a string, not '<class 'int'>'"}, ""},

	// dos.yaml
	{"dos ok", KindDOS, "blacklist:\n- subnet: 1.2.3.4\n  description: a bad actor\n- subnet: 1.2.3.0/24\n- subnet: 2001:db8::/32\n", nil, ""},
	{"dos empty file", KindDOS, "", nil, ""},
	{"dos dotted mask", KindDOS, "blacklist:\n- subnet: 1.2.3.0/255.255.255.0\n",
		[]string{"2:11: Prefix length of subnet 1.2.3.0/255.255.255.0 must be an integer (quad-dotted masks are not supported)"}, ""},
	{"dos bad subnet", KindDOS, "blacklist:\n- subnet: 1.2.3.400\n", []string{"2:11: 1.2.3.400 is not a valid IPv4 or IPv6 subnet"}, "ok"},
	{"dos prefix too long", KindDOS, "blacklist:\n- subnet: 10.0.0.0/33\n", []string{"2:11: 10.0.0.0/33 is not a valid IPv4 or IPv6 subnet"}, "ok"},
	{"dos missing subnet", KindDOS, "blacklist:\n- description: nobody\n", []string{"2:3: Missing required value [subnet]."}, ""},
	{"dos long description", KindDOS, "blacklist:\n- subnet: 1.2.3.4\n  description: " + strings.Repeat("x", 500) + "\n",
		[]string{"3:16: Value '" + strings.Repeat("x", 500) + "' for description does not match expression '^(?:^.{0,499}$)$'"}, ""},
}

func writeCase(t *testing.T, dir string, i int, c companionCase) string {
	t.Helper()
	p := filepath.Join(dir, fmt.Sprintf("%02d", i), string(c.kind)+".yaml")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(c.src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCompanionProblems(t *testing.T) {
	dir := t.TempDir()
	for i, c := range companionCases {
		t.Run(c.name, func(t *testing.T) {
			p := writeCase(t, dir, i, c)
			res := File(context.Background(), p, c.kind, Options{})
			var got []string
			for _, pr := range res.Problems {
				if pr.File != p {
					t.Errorf("problem names file %q, want %q", pr.File, p)
				}
				if !pr.Warning {
					got = append(got, fmt.Sprintf("%d:%d: %s", pr.Line, pr.Column, pr.Message))
				}
			}
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if res.OK() != (len(c.want) == 0) {
				t.Errorf("OK() = %v with problems %v", res.OK(), res.Problems)
			}
			for _, pr := range res.Problems {
				// "Value for … should be a single value" comes from the shared YAML decoder.
				if !pr.Warning && pr.Hint == "" && !strings.HasPrefix(pr.Message, "Value for ") {
					t.Errorf("%s has no hint saying what to do", pr)
				}
			}
		})
	}
}

// sdkOracle finds the Cloud SDK's python and scripts/sdk_oracle.py.
func sdkOracle(t *testing.T) (python, script, root string) {
	t.Helper()
	python, root = sdktest.Python(t)
	_, self, _, _ := runtime.Caller(0)
	return python, filepath.Join(filepath.Dir(self), "..", "scripts", "sdk_oracle.py"), root
}

// TestCompanionsAgainstSDK runs every case through the SDK's own loaders and
// checks that the verdicts agree, apart from the documented differences.
func TestCompanionsAgainstSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Cloud SDK's python")
	}
	python, script, root := sdkOracle(t)
	dir := t.TempDir()
	args := []string{script}
	for i, c := range companionCases {
		args = append(args, string(c.kind), writeCase(t, dir, i, c))
	}
	cmd := exec.Command(python, args...)
	cmd.Env = append(os.Environ(), "CLOUDSDK_ROOT="+root)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sdk_oracle.py: %v\n%s", err, stderr.String())
	}
	var verdicts []struct{ Verdict, Message string }
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var v struct{ Verdict, Message string }
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("sdk_oracle.py output %q: %v", sc.Text(), err)
		}
		verdicts = append(verdicts, v)
	}
	if len(verdicts) != len(companionCases) {
		t.Fatalf("sdk_oracle.py gave %d verdicts for %d files\n%s", len(verdicts), len(companionCases), stderr.String())
	}
	for i, c := range companionCases {
		want := "ok"
		if len(c.want) > 0 {
			want = "error"
		}
		if c.sdk != "" {
			want = c.sdk
		}
		if verdicts[i].Verdict != want {
			t.Errorf("%s: SDK says %s (%s), the table expects %s", c.name, verdicts[i].Verdict, verdicts[i].Message, want)
		}
	}
}

func parseConfig(t *testing.T, kind Kind, src string) any {
	t.Helper()
	p := filepath.Join(t.TempDir(), string(kind)+".yaml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	res := File(context.Background(), p, kind, Options{AppID: "override"})
	if !res.OK() {
		t.Fatalf("%s: %v", kind, res.Problems)
	}
	return res.Config
}

func TestCompanionConfigs(t *testing.T) {
	defs := parseConfig(t, KindIndex, "application: mine\nindexes:\n- kind: A\n  properties:\n  - name: x\n  - name: z\n    direction: descending\n  - name: __key__\n").(*appconfig.IndexDefinitions)
	if defs.Application != "override" {
		t.Errorf("application = %q, want the -A override", defs.Application)
	}
	ix := defs.Indexes[0]
	if ix.Properties[0].Direction != "asc" || ix.Properties[1].Direction != "desc" {
		t.Errorf("directions not normalised: %+v", ix.Properties)
	}
	if k := ix.Key(); k.Properties != `"x" asc, "z" desc` {
		t.Errorf("key = %+v", k)
	}
	empty := parseConfig(t, KindIndex, "").(*appconfig.IndexDefinitions)
	if len(empty.Indexes) != 0 {
		t.Errorf("empty index.yaml gave %+v", empty)
	}
	cron := parseConfig(t, KindCron, "cron:\n- url: /a\n  schedule: every 5 minutes\n  timezone: US/Eastern\n").(*appconfig.CronInfo)
	if len(cron.Cron) != 1 || cron.Cron[0].Schedule != "every 5 minutes" || cron.Cron[0].Timezone != "US/Eastern" {
		t.Errorf("cron = %+v", cron.Cron)
	}
	d := parseConfig(t, KindDispatch, "dispatch:\n- url: \"*/m/*\"\n  module: mobile\n").(*appconfig.DispatchInfo)
	if d.Dispatch[0].ServiceName() != "mobile" {
		t.Errorf("dispatch service = %q", d.Dispatch[0].ServiceName())
	}
	q := parseConfig(t, KindQueue, "queue:\n- name: q\n  bucket_size: 7\n").(*appconfig.QueueInfo)
	if q.Queue[0].BucketSize == nil || *q.Queue[0].BucketSize != 7 {
		t.Errorf("queue = %+v", q.Queue[0])
	}
	dos := parseConfig(t, KindDOS, "blacklist:\n- subnet: ::1\n").(*appconfig.DOSInfo)
	if dos.Blacklist[0].Subnet != "::1" {
		t.Errorf("dos = %+v", dos.Blacklist[0])
	}
}

func TestUnparseableCompanionHasNoConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "queue.yaml")
	if err := os.WriteFile(p, []byte("queue: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := File(context.Background(), p, KindQueue, Options{})
	if res.OK() || res.Config != nil {
		t.Errorf("broken YAML: OK=%v config=%v", res.OK(), res.Config)
	}
}
