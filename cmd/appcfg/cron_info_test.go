package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/internal/corpus"
	"github.com/appcfg/appcfg/internal/groc"
	"github.com/appcfg/appcfg/validate"
)

func TestPrintCronInfoLegacyLayout(t *testing.T) {
	info := &appconfig.CronInfo{Cron: []*appconfig.CronEntry{
		{URL: "/tasks/a", Schedule: "every 90 minutes"},
		{URL: "/tasks/b", Schedule: "5th monday of feb 10:00", Description: "rare"},
	}}
	var out bytes.Buffer
	// A fifth Monday in February needs a leap year whose February starts
	// on a Monday: 2044, then 2072. Deltas are in whole seconds, whatever
	// the start's fraction.
	start := time.Date(2026, 1, 1, 0, 0, 0, 123456000, time.UTC)
	if err := printCronInfo(&out, info, start, 2, true); err != nil {
		t.Fatal(err)
	}
	want := "\n<no description>:\nURL: /tasks/a\nSchedule: every 90 minutes (UTC)\n" +
		"2026-01-01 01:30:00Z, 1:30:00 from now\n" +
		"2026-01-01 03:00:00Z, 3:00:00 from now\n" +
		"\nrare:\nURL: /tasks/b\nSchedule: 5th monday of feb 10:00 (UTC)\n" +
		"2044-02-29 10:00:00Z, 6633 days, 10:00:00 from now\n" +
		"2072-02-29 10:00:00Z, 16860 days, 10:00:00 from now\n"
	if out.String() != want {
		t.Fatalf("cron_info printed\n%s\nwant\n%s", out.String(), want)
	}
}

// TestCronInfoOneDeltaFormat: runs counted from now and runs at fixed times
// print their distance from now the same way, in whole seconds, when now
// has a fraction of a second.
func TestCronInfoOneDeltaFormat(t *testing.T) {
	info := &appconfig.CronInfo{Cron: []*appconfig.CronEntry{
		{URL: "/a", Schedule: "every 24 hours"},
		{URL: "/b", Schedule: "every day 18:45"},
		{URL: "/c", Schedule: "every 5 minutes from 10:00 to 23:00", Timezone: "Asia/Kolkata"},
	}}
	start := time.Date(2026, 12, 3, 15, 46, 47, 193745000, time.UTC)
	var out bytes.Buffer
	if err := printCronInfo(&out, info, start, 3, true); err != nil {
		t.Fatal(err)
	}
	delta := regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, (\d+ days?, )?\d+:\d\d:\d\d from now( \(.*\))?$`)
	runs := 0
	for _, line := range strings.Split(out.String(), "\n") {
		if !strings.HasSuffix(line, "from now") && !strings.Contains(line, "from now (") {
			continue
		}
		runs++
		if !delta.MatchString(line) {
			t.Errorf("run line %q: want the distance as [D days, ]H:MM:SS, without a fraction", line)
		}
	}
	if runs != 9 {
		t.Fatalf("cron_info printed %d run lines, want 9:\n%s", runs, out.String())
	}
}

func TestPyTimedelta(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0:00:00"},
		{59 * time.Second, "0:00:59"},
		{90*time.Minute + 500*time.Millisecond, "1:30:00"},
		{24 * time.Hour, "1 day, 0:00:00"},
		{49*time.Hour + time.Microsecond, "2 days, 1:00:00"},
		{-time.Second, "-1 day, 23:59:59"},
	}
	for _, tt := range tests {
		if got := pyTimedelta(tt.d); got != tt.want {
			t.Errorf("pyTimedelta(%s) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

// TestCronInfoCorpus: every schedule of every corpus cron.yaml that the SDK
// accepts parses with the groc grammar, and its next runs after a fixed
// start are strictly increasing, in the future, and each one the next run
// after the one before.
func TestCronInfoCorpus(t *testing.T) {
	entries := corpus.Entries(t)
	start := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	var files, schedules, zoned int
	for _, e := range entries {
		if e.Kind != "cron" || e.Verdict != "ok" {
			continue
		}
		files++
		r := validate.File(t.Context(), e.Path, validate.KindCron, validate.Options{})
		info, _ := r.Config.(*appconfig.CronInfo)
		if !r.OK() || info == nil {
			t.Errorf("%s: the SDK accepts it but validate finds %v", e.ID, r.Problems)
			continue
		}
		for _, job := range info.Cron {
			schedules++
			if job.Timezone != "" && job.Timezone != "UTC" {
				zoned++
			}
			if _, err := groc.Parse(job.Schedule); err != nil {
				t.Errorf("%s: schedule %q: %v", e.ID, job.Schedule, err)
				continue
			}
			runs, loc, err := groc.NextRuns(job.Schedule, job.Timezone, start, 5)
			if err != nil {
				t.Errorf("%s: %v", e.ID, err)
				continue
			}
			if len(runs) != 5 {
				t.Errorf("%s: schedule %q gives %d runs, want 5", e.ID, job.Schedule, len(runs))
			}
			prev := start
			for _, r := range runs {
				if !r.After(prev) {
					t.Errorf("%s: schedule %q: run %s is not after %s", e.ID, job.Schedule, r, prev)
				}
				if r.Location() != loc && !r.Equal(r.In(loc)) {
					t.Errorf("%s: schedule %q: run %s is not in %s", e.ID, job.Schedule, r, loc)
				}
				prev = r
			}
			var out bytes.Buffer
			if err := printCronInfo(&out, &appconfig.CronInfo{Cron: []*appconfig.CronEntry{job}}, start, 5, false); err != nil {
				t.Errorf("%s: cron_info: %v", e.ID, err)
			} else if n := strings.Count(out.String(), "Z, "); n != 5 {
				t.Errorf("%s: cron_info printed %d run lines for %q, want 5:\n%s", e.ID, n, job.Schedule, out.String())
			}
		}
	}
	if files == 0 {
		t.Fatal("the corpus has no cron.yaml with verdict ok")
	}
	t.Logf("corpus cron_info: %d files, %d schedules (%d with a timezone) parse and give 5 ordered runs", files, schedules, zoned)
}
