package runtimes

import (
	"fmt"
	"github.com/appcfg/appcfg/internal/lazyre"
	"sort"
	"strings"
	"sync"
	"time"
)

// Runtime is one runtime's lifecycle. A zero date is unknown.
type Runtime struct {
	Name           string
	EndOfSupport   time.Time
	Deprecated     time.Time
	Decommissioned time.Time
}

// TableDate is when the table below was last checked against Google's
// pages (../shared/docs/runtimes.md, written 2026-12-03).
const TableDate = "2026-12-03"

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic("runtimes: bad date in the table: " + s)
	}
	return t
}

// table holds the dates Google's support-schedule and legacy-runtime pages
// give (end of support, deprecation); runtimes whose dates were not found
// are absent, and are accepted. It is built on first use: a deploy or a
// validation asks for it, most commands never do.
var table = sync.OnceValue(func() map[string]Runtime {
	m := map[string]Runtime{}
	add := func(eos, dep string, names ...string) {
		for _, n := range names {
			m[n] = Runtime{Name: n, EndOfSupport: day(eos), Deprecated: day(dep)}
		}
	}
	// The first-generation runtimes: end of support January 2024,
	// deprecated 2026-01-31 (no deploys at all from that day).
	add("2024-01-30", "2026-01-31", "python27", "go111", "php55")
	add("2024-01-31", "2026-01-31", "java8")
	add("2024-01-30", "2025-01-31", "go112", "go113", "go114", "go115", "go116", "go118")
	add("2024-04-30", "2025-04-30", "go119")
	add("2024-11-01", "2025-11-01", "go120")
	add("2024-10-31", "2025-10-31", "java11")
	add("2018-06-27", "2019-10-01", "nodejs8")
	add("2024-01-30", "2025-01-31", "nodejs10", "nodejs12", "nodejs14", "nodejs16")
	add("2025-04-30", "2026-04-30", "nodejs18")
	add("2026-04-30", "2027-04-30", "nodejs20")
	return m
})

// Table returns the shipped table, sorted by name.
func Table() []Runtime {
	out := make([]Runtime, 0, len(table()))
	for _, r := range table() {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the shipped table's entry for name.
func Lookup(name string) (Runtime, bool) {
	r, ok := table()[name]
	return r, ok
}

// successors are the newest runtime of each language Google's runtime
// pages call the latest generally available one.
var successors = []struct {
	family *lazyre.Regexp
	next   string
}{
	{lazyre.New(`^python`), "python314"},
	{lazyre.New(`^java`), "java25"},
	{lazyre.New(`^go`), "go125"},
	{lazyre.New(`^nodejs`), "nodejs22"},
	{lazyre.New(`^php`), "php84"},
	{lazyre.New(`^ruby`), "ruby34"},
}

// Successor is the runtime to move name to: the newest of its language.
func Successor(name string) string {
	for _, s := range successors {
		if s.family.MatchString(name) {
			return s.next
		}
	}
	return ""
}

// DeprecatedError refuses a runtime past its deprecation date.
type DeprecatedError struct{ Runtime Runtime }

func (e *DeprecatedError) Error() string {
	r := e.Runtime
	msg := fmt.Sprintf("runtime %s reached its end of support on %s and was deprecated on %s: Google no longer deploys it, even where an organisation policy re-enabled deploys (versions already deployed keep serving)",
		r.Name, dateOr(r.EndOfSupport), dateOr(r.Deprecated))
	if s := Successor(r.Name); s != "" {
		msg += "; move the app to " + s + ", its successor"
	}
	return msg + "; --allow_deprecated_runtime sends it anyway"
}

// Check applies the lifecycle rule to r on the day now: past deprecation
// (or decommission) an error, past end of support a warning, else nothing.
func Check(r Runtime, now time.Time) (warning string, err error) {
	past := func(t time.Time) bool { return !t.IsZero() && !now.Before(t) }
	switch {
	case past(r.Deprecated) || past(r.Decommissioned):
		return "", &DeprecatedError{Runtime: r}
	case past(r.EndOfSupport):
		w := fmt.Sprintf("runtime %s reached its end of support on %s", r.Name, dateOr(r.EndOfSupport))
		if !r.Deprecated.IsZero() {
			w += " and is deprecated on " + dateOr(r.Deprecated)
		}
		w += ": Google refuses new deploys unless an organisation policy re-enabled them"
		if s := Successor(r.Name); s != "" {
			w += "; move the app to " + s
		}
		return w, nil
	}
	return "", nil
}

func dateOr(t time.Time) string {
	if t.IsZero() {
		return "an unknown date"
	}
	return t.Format(time.DateOnly)
}

// Markdown renders the table as docs/runtimes.md shows it, so a test can
// keep the two equal.
func Markdown() string {
	var b strings.Builder
	b.WriteString("| runtime | end of support | deprecated | successor |\n| --- | --- | --- | --- |\n")
	for _, r := range Table() {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Name, r.EndOfSupport.Format(time.DateOnly), r.Deprecated.Format(time.DateOnly), Successor(r.Name))
	}
	return b.String()
}
