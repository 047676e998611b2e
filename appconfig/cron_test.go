package appconfig

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseCron(t *testing.T) {
	info, probs := ParseCron("cron.yaml", []byte(`application: my-app
cron:
- description: daily summary job
  url: /tasks/summary
  schedule: every 24 hours
  timezone: America/New_York
  target: beta
  retry_parameters:
    job_retry_limit: 5
    job_age_limit: 2d
    min_backoff_seconds: 2.5
`))
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	e := info.Cron[0]
	if info.Application != "my-app" || e.URL != "/tasks/summary" || e.Schedule != "every 24 hours" ||
		e.Timezone != "America/New_York" || e.Target != "beta" || e.Description != "daily summary job" {
		t.Errorf("entry = %+v", e)
	}
	rp := e.RetryParameters
	if rp == nil || *rp.JobRetryLimit != 5 || rp.JobAgeLimit != "2d" || *rp.MinBackoffSeconds != 2.5 || rp.MaxDoublings != nil {
		t.Errorf("retry parameters = %+v", rp)
	}
}

// The SDK refuses a cron.yaml without any document, but a document that is
// null, a lone value or a list of values parses (to no jobs).
func TestParseCronDocuments(t *testing.T) {
	tests := []struct {
		src, problem      string
		warning, nilModel bool
	}{
		{"", "Empty cron configuration.", false, true},
		{"# nothing\n", "Empty cron configuration.", false, true},
		{"~\n", "", false, false},
		{"---\n", "", false, false},
		{"cron:\n", "", false, false},
		{"hello\n", "the file holds only the value 'hello', so it configures nothing", true, false},
		{"- a\n- b\n", "the file holds only a list of values, so it configures nothing", true, false},
		{"- url: /a\n", "the file must be a mapping of keys to values, not a list", false, true},
		{"cron:\n- url: /a\n---\ncron:\n", "the file holds 2 YAML documents", false, false},
	}
	for _, tt := range tests {
		info, probs := ParseCron("cron.yaml", []byte(tt.src))
		var got []string
		for _, p := range probs {
			got = append(got, p.Message)
		}
		all := strings.Join(got, "\n")
		if tt.problem == "" && len(probs) > 0 || !strings.Contains(all, tt.problem) {
			t.Errorf("%q: problems %q, want %q", tt.src, all, tt.problem)
		}
		if tt.problem != "" && len(probs) > 0 && probs[0].Warning != tt.warning {
			t.Errorf("%q: warning = %v, want %v", tt.src, probs[0].Warning, tt.warning)
		}
		if (info == nil) != tt.nilModel {
			t.Errorf("%q: model %+v", tt.src, info)
		}
	}
}

func TestParseCronStringFields(t *testing.T) {
	_, probs := ParseCron("cron.yaml", []byte("cron:\n- url: /a\n  schedule: 5\n  timezone: 1.5\n  retry_parameters:\n    job_age_limit: 10\n"))
	want := []string{
		"3:13 schedule must be a string, not '<class 'int'>'",
		"4:13 timezone must be a string, not '<class 'float'>'",
		"6:20 Value '10' for job_age_limit is not a string (must be a non-negative number followed by a time unit, such as 1h or 3.5d)",
	}
	var got []string
	for _, p := range probs {
		got = append(got, fmt.Sprintf("%d:%d %s", p.Line, p.Column, p.Message))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
