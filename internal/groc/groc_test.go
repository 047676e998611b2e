package groc

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/internal/sdktest"
)

func TestParse(t *testing.T) {
	all := func(lo, hi int) []int {
		var s []int
		for i := lo; i <= hi; i++ {
			s = append(s, i)
		}
		return s
	}
	tests := []struct {
		in   string
		want Schedule
	}{
		{"every 5 minutes", Schedule{Every: 5, Period: "minutes"}},
		{"every 1 mins", Schedule{Every: 1, Period: "minutes"}},
		{"every  24 hours", Schedule{Every: 24, Period: "hours"}},
		{"every 2 hours from 10:00 to 14:00", Schedule{Every: 2, Period: "hours", HasRange: true, From: TimeOfDay{10, 0}, To: TimeOfDay{14, 0}}},
		{"every 1 hours synchronized", Schedule{Every: 1, Period: "hours", Synchronized: true, HasRange: true, To: TimeOfDay{23, 59}}},
		{"every day 09:00", Schedule{Ordinals: all(1, 5), Weekdays: all(0, 6), Months: all(1, 12), At: TimeOfDay{9, 0}}},
		{"everyday 9:05", Schedule{Ordinals: all(1, 5), Weekdays: all(0, 6), Months: all(1, 12), At: TimeOfDay{9, 5}}},
		{"every monday 09:00", Schedule{Ordinals: all(1, 5), Weekdays: []int{1}, Months: all(1, 12), At: TimeOfDay{9, 0}}},
		{"every monday,wednesday 12:00", Schedule{Ordinals: all(1, 5), Weekdays: []int{1, 3}, Months: all(1, 12), At: TimeOfDay{12, 0}}},
		{"1st,3rd monday of sep,oct,nov 17:00", Schedule{Ordinals: []int{1, 3}, Weekdays: []int{1}, Months: []int{9, 10, 11}, At: TimeOfDay{17, 0}}},
		{"first sunday of quarter 00:00", Schedule{Ordinals: []int{1}, Weekdays: []int{0}, Months: []int{1, 4, 7, 10}, At: TimeOfDay{0, 0}}},
		{"2nd,third mon of 1st,3rd month of quarter 23:59", Schedule{Ordinals: []int{2, 3}, Weekdays: []int{1}, Months: []int{1, 3, 4, 6, 7, 9, 10, 12}, At: TimeOfDay{23, 59}}},
		{"1 of month 00:00", Schedule{Months: all(1, 12), Monthdays: []int{1}, At: TimeOfDay{0, 0}}},
		{"1,15 of jan,july 6:30", Schedule{Months: []int{1, 7}, Monthdays: []int{1, 15}, At: TimeOfDay{6, 30}}},
		{"2nd day of month 10:00", Schedule{Months: all(1, 12), Monthdays: []int{2}, At: TimeOfDay{10, 0}}},
		{"fourth,fifth friday of month 10:00", Schedule{Ordinals: []int{4, 5}, Weekdays: []int{5}, Months: all(1, 12), At: TimeOfDay{10, 0}}},
		{"Every Monday 09:00", Schedule{Ordinals: all(1, 5), Weekdays: []int{1}, Months: all(1, 12), At: TimeOfDay{9, 0}}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		tt.want.text = tt.in
		if got.Ordinals == nil && tt.want.Ordinals != nil || len(got.Ordinals) == 0 && len(tt.want.Ordinals) == 0 {
			got.Ordinals, tt.want.Ordinals = nil, nil
		}
		if len(got.Weekdays) == 0 && len(tt.want.Weekdays) == 0 {
			got.Weekdays, tt.want.Weekdays = nil, nil
		}
		if len(got.Months) == 0 && len(tt.want.Months) == 0 {
			got.Months, tt.want.Months = nil, nil
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) =\n %+v, want\n %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("String() = %q, want %q", got.String(), tt.in)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"every 5 minuts", `unexpected "minuts" at column 9: expected 'hours', 'mins' or 'minutes'`},
		{"every 5", "ends too early: expected 'hours', 'mins' or 'minutes'"},
		{"every 0 minutes", "interval must be greater than zero"},
		{"every 7 minutes synchronized", "can only use synchronized for periods that divide evenly into 24 hours"},
		{"every 48 hours synchronized", "can only use synchronized"},
		{"every 2 hours from 10:00", "ends too early: expected 'to'"},
		{"every 2 hours from 10:00 to 24:00", `unexpected "24:00" at column 29: expected a time of day`},
		{"every 2 hours synchronized from 10:00 to 11:00", `unexpected "from" at column 28: expected the end of the schedule`},
		{"every monday", "ends too early: expected a time of day"},
		{"every mondays 09:00", `unexpected "mondays" at column 7`},
		{"every monday 9:60", `unexpected "9:60"`},
		{"30 of feb 10:00", "invalid day of month, got day 30 of month 2"},
		{"0 of month 10:00", "day of month must be greater than 0"},
		{"32 of month 10:00", "day of month must be less than 32"},
		{"monday 10:00", `unexpected "monday" at column 1: expected 'every' or an ordinal`},
		{"", "ends too early"},
		{"every day 10:00 utc", `unexpected "utc" at column 17: expected the end of the schedule`},
		{"every 123456 minutes", `unexpected "123456" at column 7`},
		{"1st monday of 4th month of quarter 10:00", `unexpected "4th"`},
		{"every hour", `unexpected "hour" at column 7`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var se *SyntaxError
		if err == nil || !errors.As(err, &se) {
			t.Errorf("Parse(%q) error = %v, want a SyntaxError", tt.in, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.in, err, tt.want)
		}
	}
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available: %v", name, err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// Expected values were computed with the SDK's groctimespecification.
func TestNext(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	tests := []struct {
		sched, start string
		loc          *time.Location
		want         []string
	}{
		{"every 5 minutes", "2020-01-01T10:03:17Z", nil, []string{"2020-01-01T10:08:00Z", "2020-01-01T10:13:00Z"}},
		{"every 2 hours from 10:00 to 14:00", "2020-01-01T13:30:00Z", nil, []string{"2020-01-01T14:00:00Z", "2020-01-02T10:00:00Z"}},
		{"every 1 hours synchronized", "2020-01-01T23:30:00Z", nil, []string{"2020-01-02T00:00:00Z", "2020-01-02T01:00:00Z"}},
		{"every day 09:00", "2020-01-01T10:03:00Z", ny, []string{"2020-01-01T14:00:00Z", "2020-01-02T14:00:00Z"}},
		{"1st,3rd monday of sep,oct,nov 17:00", "2020-01-01T10:03:00Z", ny, []string{"2020-09-07T21:00:00Z", "2020-09-21T21:00:00Z", "2020-10-05T21:00:00Z"}},
		// 02:30 does not exist on 2021-03-14 in New York: that day is skipped.
		{"every day 02:30", "2021-03-13T08:00:00Z", ny, []string{"2021-03-15T06:30:00Z"}},
		// 01:30 happens twice on 2021-11-07, and the SDK runs at both.
		{"every day 01:30", "2021-11-06T12:00:00Z", ny, []string{"2021-11-07T05:30:00Z", "2021-11-07T06:30:00Z", "2021-11-08T06:30:00Z"}},
		{"every 30 minutes from 02:15 to 02:45", "2021-03-14T05:00:00Z", ny, []string{"2021-03-14T07:00:00Z", "2021-03-15T06:15:00Z"}},
	}
	for _, tt := range tests {
		s, err := Parse(tt.sched)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.sched, err)
		}
		at := utc(tt.start)
		for i, w := range tt.want {
			at = s.Next(at, tt.loc)
			if !at.Equal(utc(w)) {
				t.Errorf("%q from %s: run %d = %s, want %s", tt.sched, tt.start, i+1, at.UTC().Format(time.RFC3339), w)
				break
			}
		}
	}
}

func TestNextNeverMatches(t *testing.T) {
	s := Schedule{Months: []int{2}, Monthdays: []int{30}, At: TimeOfDay{1, 0}}
	if got := s.Next(utc("2020-01-01T00:00:00Z"), nil); !got.IsZero() {
		t.Errorf("Next = %s, want the zero time", got)
	}
}

type refRequest struct {
	Schedule string `json:"schedule"`
	Start    string `json:"start"`
	TZ       string `json:"tz"`
	N        int    `json:"n"`
}

type refResult struct {
	Schedule string   `json:"schedule"`
	OK       bool     `json:"ok"`
	Error    string   `json:"error"`
	Next     []string `json:"next"`
}

// differentialCases is a fixed table of real-world schedules plus a seeded,
// bounded set of word salads built from the grammar's own words, so that the
// comparison covers refusals as well as run times.
func differentialCases() []string {
	cases := []string{
		"every 5 minutes", "every 1 mins", "every 24 hours", "every 720 hours", "every  24 hours",
		"every 90 minutes from 07:00 to 22:00", "every 30 minutes from 9:00 to 23:59",
		"every 1 hours from 0:00 to 5:59", "every 20 minutes from 22:00 to 04:00",
		"every 1 hours synchronized", "every 5 minutes synchronized", "every 3 hours synchronized",
		"every 10 mins synchronized", "every 45 minutes synchronized", "every 48 hours synchronized",
		"every day 00:00", "every day 23:55", "every day 0:00", "every day 02:30", "every day 01:30",
		"every monday 09:00", "every mon,tue,wed,thu,fri 09:30", "every sunday 03:00",
		"1st monday of sep,oct,nov 17:00", "1st,3rd tuesday of month 12:00", "first sunday of quarter 00:00",
		"2nd,third mon of 1st,3rd month of quarter 23:59", "1 of month 00:00", "1,15 of jan,july 6:30",
		"31 of month 10:00", "29 of feb 10:00", "30 of feb 10:00", "5th sunday of feb 10:00",
		"2nd day of month 10:00", "every 0 minutes", "every 5 minuts", "everyday 10:00",
		"every5 minutes", "1st,3rdmonday of month 10:00", "every day 24:00", "fourth monday of month 10:00",
		"every mondays 09:00", "every day 10:00 ", " every day 10:00",
	}
	words := []string{"every", "5", "10", "1", "2", "24", "90", "0", "00", "123456", "minutes", "mins",
		"hours", "synchronized", "from", "to", "09:00", "9:30", "23:59", "24:00", "0:15", "day", "monday",
		"mon", "tue", "sunday", "sat", "1st", "2nd", "3rd", "4th", "5th", "first", "fourth", "of", "month",
		"quarter", "jan", "feb", "sep", "december", ",", "15", "31", "29", "x"}
	rng := rand.New(rand.NewSource(1))
	pickList := func(items []string) string {
		n := 1 + rng.Intn(3)
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, items[rng.Intn(len(items))])
		}
		return strings.Join(out, ",")
	}
	clock := func() string {
		return fmt.Sprintf("%02d:%02d", rng.Intn(24), []int{0, 15, 30, 45, 59, 5}[rng.Intn(6)])
	}
	weekdays := []string{"monday", "tue", "wednesday", "thu", "friday", "sat", "sunday"}
	months := []string{"jan", "february", "mar", "april", "may", "jun", "july", "aug", "september", "oct", "nov", "december"}
	ordinals := []string{"1st", "2nd", "third", "4th", "fifth", "first"}
	for i := 0; i < 400; i++ {
		var c string
		switch i % 5 {
		case 0:
			c = fmt.Sprintf("every %d %s", []int{1, 2, 3, 5, 7, 10, 15, 20, 30, 45, 90, 4, 6, 8, 12, 24}[rng.Intn(16)],
				[]string{"minutes", "mins", "hours"}[rng.Intn(3)])
			switch rng.Intn(3) {
			case 0:
				c += " from " + clock() + " to " + clock()
			case 1:
				c += " synchronized"
			}
		case 1:
			c = "every " + pickList(weekdays) + " " + clock()
		case 2:
			c = pickList(ordinals) + " " + pickList(weekdays) + " of " + []string{pickList(months), "month", "quarter"}[rng.Intn(3)] + " " + clock()
		case 3:
			c = fmt.Sprintf("%d,%d of %s %s", 1+rng.Intn(31), 1+rng.Intn(31), pickList(months), clock())
		default:
			c = "every day " + clock()
		}
		cases = append(cases, c)
	}
	for i := 0; i < 1500; i++ {
		var b strings.Builder
		n := 2 + rng.Intn(6)
		for j := 0; j < n; j++ {
			if j > 0 && rng.Intn(8) != 0 {
				b.WriteByte(' ')
			}
			b.WriteString(words[rng.Intn(len(words))])
		}
		cases = append(cases, b.String())
	}
	return cases
}

// TestDifferentialSDK compares Parse and Next with the SDK's own groc code
// (scripts/groc_ref.py): the same schedules are accepted, and accepted ones
// give the same next run times, in several time zones and across
// daylight-saving changes.
func TestDifferentialSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Cloud SDK's python")
	}
	python, root := sdktest.Python(t)
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "..", "scripts", "groc_ref.py")
	starts := []string{"2021-03-14T06:30:00Z", "2021-11-07T05:59:00Z", "2024-02-28T23:59:30Z",
		"2023-12-31T23:00:00Z", "2021-10-31T00:45:00Z", "2022-04-03T15:10:00Z"}
	zones := []string{"", "America/New_York", "Europe/London", "Australia/Sydney", "Asia/Tokyo", "America/Los_Angeles"}
	var reqs []refRequest
	for i, c := range differentialCases() {
		reqs = append(reqs, refRequest{Schedule: c, Start: starts[i%len(starts)], TZ: zones[(i/len(starts))%len(zones)], N: 4})
	}
	var in bytes.Buffer
	enc := json.NewEncoder(&in)
	for _, r := range reqs {
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(python, script)
	cmd.Env = append(os.Environ(), "CLOUDSDK_ROOT="+root)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("groc_ref.py: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	var results []refResult
	for sc.Scan() {
		var r refResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("groc_ref.py output %q: %v", sc.Text(), err)
		}
		results = append(results, r)
	}
	if len(results) != len(reqs) {
		t.Fatalf("groc_ref.py answered %d of %d requests\n%s", len(results), len(reqs), stderr.String())
	}
	accepted, compared := 0, 0
	for i, req := range reqs {
		ref := results[i]
		s, err := Parse(req.Schedule)
		if (err == nil) != ref.OK {
			t.Errorf("Parse(%q): err = %v; SDK ok = %v %s", req.Schedule, err, ref.OK, ref.Error)
			continue
		}
		if err != nil {
			continue
		}
		accepted++
		var loc *time.Location
		if req.TZ != "" {
			loc = mustLoad(t, req.TZ)
		}
		at := utc(req.Start)
		for k, w := range ref.Next {
			at = s.Next(at, loc)
			compared++
			if got := at.UTC().Format("2006-01-02T15:04:05Z"); got != w {
				t.Errorf("%q in %q from %s: run %d = %s, SDK %s", req.Schedule, req.TZ, req.Start, k+1, got, w)
				break
			}
		}
	}
	t.Logf("%d schedules, %d accepted, %d run times compared with the SDK", len(reqs), accepted, compared)
	if accepted < 300 {
		t.Errorf("only %d accepted schedules compared; the table should exercise more valid ones", accepted)
	}
}
