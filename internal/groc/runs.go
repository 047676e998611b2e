package groc

import (
	"errors"
	"fmt"
	"strings"
	"time"
	// The IANA zone names must not depend on what the host has installed
	// (Debian moved US/Eastern and friends to an optional package).
	_ "time/tzdata"
)

// ErrUnknownZone is returned by LoadZone for a name that is no IANA zone.
var ErrUnknownZone = errors.New("unknown time zone")

// LoadZone finds the IANA time zone a cron job's timezone: names, as the
// SDK's pytz does: the empty name, names only Go gives a meaning ("Local")
// and names padded with spaces are refused. It is the one reading of
// timezone: for validate and for the run times.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" || strings.TrimSpace(name) != name {
		return nil, ErrUnknownZone
	}
	return time.LoadLocation(name)
}

// NextRuns parses schedule and returns its next n runs strictly after
// start, computed in the zone named timezone ("" or "UTC" for UTC), and
// that zone. A schedule that never runs again gives fewer than n.
func NextRuns(schedule, timezone string, start time.Time, n int) ([]time.Time, *time.Location, error) {
	s, err := Parse(schedule)
	if err != nil {
		return nil, nil, fmt.Errorf("schedule '%s' failed to parse: %w", schedule, err)
	}
	loc := time.UTC
	if timezone != "" && timezone != "UTC" {
		if loc, err = LoadZone(timezone); err != nil {
			return nil, nil, fmt.Errorf("timezone '%s' is unknown: %w", timezone, err)
		}
	}
	return s.Runs(start, loc, n), loc, nil
}

// Runs is the schedule's next n runs strictly after start, with its times
// of day read in loc (UTC when nil); fewer when it never runs again.
func (s Schedule) Runs(start time.Time, loc *time.Location, n int) []time.Time {
	var runs []time.Time
	t := start
	for range n {
		if t = s.Next(t, loc); t.IsZero() {
			break
		}
		runs = append(runs, t)
	}
	return runs
}
