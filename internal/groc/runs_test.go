package groc

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestCronRunsKnownSchedules checks the run times cron_info prints against times
// worked out by hand from the calendar, daylight-saving changes included.
// 2026-03-07 is a Saturday; the US moves to summer time on 2026-03-08, the
// EU on 2026-03-29, and Sydney back to standard time on 2026-04-05.
func TestCronRunsKnownSchedules(t *testing.T) {
	start := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		schedule, tz string
		start        time.Time
		want         []string // UTC
	}{
		{"every 5 minutes", "", start, []string{"2026-03-07 12:05", "2026-03-07 12:10", "2026-03-07 12:15"}},
		{"every 24 hours", "", start, []string{"2026-03-08 12:00", "2026-03-09 12:00", "2026-03-10 12:00"}},
		{"every 2 hours from 10:00 to 14:00", "UTC", start, []string{"2026-03-07 14:00", "2026-03-08 10:00", "2026-03-08 12:00"}},
		{"every monday,wednesday 12:00", "", start, []string{"2026-03-09 12:00", "2026-03-11 12:00", "2026-03-16 12:00"}},
		// 09:00 EST before the change would be 14:00Z; after it, 13:00Z.
		{"every monday 09:00", "America/New_York", start, []string{"2026-03-09 13:00", "2026-03-16 13:00", "2026-03-23 13:00"}},
		{"every day 00:00", "Europe/Paris", time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC),
			[]string{"2026-03-27 23:00", "2026-03-28 23:00", "2026-03-29 22:00"}},
		// Synchronized runs fall on the zone's whole hours: :30 in UTC for India.
		{"every 1 hours synchronized", "Asia/Kolkata", start, []string{"2026-03-07 12:30", "2026-03-07 13:30", "2026-03-07 14:30"}},
		{"1 of month 00:00", "Australia/Sydney", start, []string{"2026-03-31 13:00", "2026-04-30 14:00", "2026-05-31 14:00"}},
		{"1st,3rd monday of sep,oct,nov 17:00", "", start, []string{"2026-09-07 17:00", "2026-09-21 17:00", "2026-10-05 17:00"}},
		{"first sunday of quarter 00:00", "", start, []string{"2026-04-05 00:00", "2026-07-05 00:00", "2026-10-04 00:00"}},
		{"2nd day of month 10:00", "", start, []string{"2026-04-02 10:00", "2026-05-02 10:00", "2026-06-02 10:00"}},
	}
	for _, tt := range tests {
		runs, _, err := NextRuns(tt.schedule, tt.tz, tt.start, len(tt.want))
		if err != nil {
			t.Errorf("%q (%s): %v", tt.schedule, tt.tz, err)
			continue
		}
		var got []string
		for _, r := range runs {
			got = append(got, r.UTC().Format("2006-01-02 15:04"))
		}
		if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
			t.Errorf("%q (%s) after %s:\n got %v\nwant %v", tt.schedule, tt.tz, tt.start.Format(time.RFC3339), got, tt.want)
		}
	}
}

func TestNextRunsErrors(t *testing.T) {
	start := time.Date(2026, 3, 7, 12, 0, 0, 0, time.UTC)
	if _, _, err := NextRuns("every 5 fortnights", "", start, 1); err == nil || !strings.Contains(err.Error(), "failed to parse") {
		t.Errorf("a bad schedule gave %v, want a parse error", err)
	}
	for _, tz := range []string{"Local", "Mars/Olympus", " UTC"} {
		if _, _, err := NextRuns("every 5 minutes", tz, start, 1); err == nil || !strings.Contains(err.Error(), "is unknown") {
			t.Errorf("timezone %q gave %v, want it unknown", tz, err)
		}
	}
	if _, err := LoadZone(""); !errors.Is(err, ErrUnknownZone) {
		t.Errorf("LoadZone(\"\") = %v, want ErrUnknownZone", err)
	}
	runs, loc, err := NextRuns("5th monday of feb 10:00", "Europe/Paris", start, 3)
	if err != nil || loc.String() != "Europe/Paris" || len(runs) != 3 || runs[0].Year() != 2044 {
		t.Errorf("NextRuns = %v, %v, %v; want 3 runs from 2044 in Europe/Paris", runs, loc, err)
	}
}
