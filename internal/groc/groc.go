package groc

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed cron schedule. It is either an interval ("every N
// minutes|hours", optionally within a daily time range or synchronized to
// midnight) or a specific time of day on chosen days.
type Schedule struct {
	text string

	// Interval form: Every > 0.
	Every        int    // number of Period units between runs
	Period       string // "minutes" or "hours"
	Synchronized bool
	HasRange     bool      // runs only between From and To each day
	From, To     TimeOfDay // the daily range, inclusive

	// Specific-time form.
	Ordinals  []int // which occurrences of Weekdays in a month, 1..5
	Weekdays  []int // 0 = Sunday … 6 = Saturday
	Months    []int // 1..12
	Monthdays []int // days of the month; when set, Ordinals and Weekdays are not used
	At        TimeOfDay
}

// TimeOfDay is an hour and minute of the day.
type TimeOfDay struct{ Hour, Minute int }

func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t.Hour, t.Minute) }

// String is the schedule as it was written.
func (s Schedule) String() string { return s.text }

// IsInterval reports whether the schedule is of the "every N minutes|hours" form.
func (s Schedule) IsInterval() bool { return s.Every > 0 }

// SyntaxError is a schedule the grammar does not accept, or whose values are
// out of range.
type SyntaxError struct {
	Schedule string
	Column   int    // 1-based position of the offending token; 0 when the whole schedule is at fault
	Token    string // the offending text, "" at the end of the schedule
	Msg      string
}

func (e *SyntaxError) Error() string {
	switch {
	case e.Column == 0:
		return e.Msg
	case e.Token == "":
		return fmt.Sprintf("the schedule ends too early: %s", e.Msg)
	}
	return fmt.Sprintf("unexpected %q at column %d: %s", e.Token, e.Column, e.Msg)
}

type tokType int

const (
	tEOF tokType = iota
	tTime
	tSynchronized
	tFirst
	tSecond
	tThird
	tFourth
	tFifth
	tDay
	tMonday
	tTuesday
	tWednesday
	tThursday
	tFriday
	tSaturday
	tSunday
	tJanuary
	tFebruary
	tMarch
	tApril
	tMay
	tJune
	tJuly
	tAugust
	tSeptember
	tOctober
	tNovember
	tDecember
	tMonth
	tQuarter
	tEvery
	tHours
	tMinutes
	tComma
	tOf
	tFrom
	tTo
	tDigit
	tDigits
	tUnknown
)

// keywords are the grammar's literal tokens (Groc.g), every spelling.
var keywords = []struct {
	text string
	typ  tokType
}{
	{"synchronized", tSynchronized},
	{"1st", tFirst}, {"first", tFirst},
	{"2nd", tSecond}, {"second", tSecond},
	{"3rd", tThird}, {"third", tThird},
	{"4th", tFourth}, {"fourth", tFourth},
	{"5th", tFifth}, {"fifth", tFifth},
	{"day", tDay},
	{"mon", tMonday}, {"monday", tMonday},
	{"tue", tTuesday}, {"tuesday", tTuesday},
	{"wed", tWednesday}, {"wednesday", tWednesday},
	{"thu", tThursday}, {"thursday", tThursday},
	{"fri", tFriday}, {"friday", tFriday},
	{"sat", tSaturday}, {"saturday", tSaturday},
	{"sun", tSunday}, {"sunday", tSunday},
	{"jan", tJanuary}, {"january", tJanuary},
	{"feb", tFebruary}, {"february", tFebruary},
	{"mar", tMarch}, {"march", tMarch},
	{"apr", tApril}, {"april", tApril},
	{"may", tMay},
	{"jun", tJune}, {"june", tJune},
	{"jul", tJuly}, {"july", tJuly},
	{"aug", tAugust}, {"august", tAugust},
	{"sep", tSeptember}, {"september", tSeptember},
	{"oct", tOctober}, {"october", tOctober},
	{"nov", tNovember}, {"november", tNovember},
	{"dec", tDecember}, {"december", tDecember},
	{"month", tMonth},
	{"quarter", tQuarter},
	{"every", tEvery},
	{"hours", tHours},
	{"mins", tMinutes}, {"minutes", tMinutes},
	{",", tComma},
	{"of", tOf},
	{"from", tFrom},
	{"to", tTo},
}

type token struct {
	typ  tokType
	text string
	col  int // 1-based
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// timeLen is the length of a TIME token at the start of s, or 0: H:MM with
// any one-digit hour, or HH:MM with hours 00-23.
func timeLen(s string) int {
	minutes := func(s string) bool { return len(s) >= 2 && s[0] >= '0' && s[0] <= '5' && isDigit(s[1]) }
	if len(s) >= 5 && s[2] == ':' && minutes(s[3:]) &&
		((s[0] == '0' || s[0] == '1') && isDigit(s[1]) || s[0] == '2' && s[1] >= '0' && s[1] <= '3') {
		return 5
	}
	if len(s) >= 4 && isDigit(s[0]) && s[1] == ':' && minutes(s[2:]) {
		return 4
	}
	return 0
}

// lex splits s into tokens by longest match, as the grammar's lexer does for
// every input it accepts. Blanks separate tokens but are not required
// between them ("everyday" is "every day").
func lex(s string) []token {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			i++
			continue
		}
		best, typ := 0, tUnknown
		for _, k := range keywords {
			if len(k.text) > best && strings.HasPrefix(s[i:], k.text) {
				best, typ = len(k.text), k.typ
			}
		}
		if n := timeLen(s[i:]); n > best {
			best, typ = n, tTime
		}
		digits := 0
		for digits < 5 && i+digits < len(s) && isDigit(s[i+digits]) {
			digits++
		}
		switch {
		case digits > best && digits >= 2:
			best, typ = digits, tDigits
		case digits > best:
			best, typ = 1, tDigit
		}
		if best == 0 {
			best = 1
		}
		toks = append(toks, token{typ: typ, text: s[i : i+best], col: i + 1})
		i += best
	}
	return append(toks, token{typ: tEOF, col: len(s) + 1})
}

type parser struct {
	src  string
	toks []token
	pos  int

	ordinals, weekdays, months, monthdays map[int]bool
	at                                    string
	every                                 int
	period                                string
	synchronized                          bool
	from, to                              string
}

func (p *parser) peek(n int) token {
	if p.pos+n < len(p.toks) {
		return p.toks[p.pos+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.peek(0)
	if p.pos < len(p.toks)-1 {
		p.pos++
	}
	return t
}

// fail reports the current token as unexpected, naming the whole word it
// is part of ("mondays", not its stray "s"), since that is what the user typed.
func (p *parser) fail(expected string) error {
	t := p.peek(0)
	e := &SyntaxError{Schedule: p.src, Column: t.col, Msg: "expected " + expected}
	if t.typ == tEOF {
		return e
	}
	start, end := t.col-1, t.col-1+len(t.text)
	for start > 0 && !isSeparator(p.src[start-1]) {
		start--
	}
	for end < len(p.src) && !isSeparator(p.src[end]) {
		end++
	}
	if t.typ == tComma {
		start, end = t.col-1, t.col
	}
	e.Column, e.Token = start+1, p.src[start:end]
	return e
}

func isSeparator(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' }

func (p *parser) expect(typ tokType, expected string) (token, error) {
	if p.peek(0).typ != typ {
		return token{}, p.fail(expected)
	}
	return p.next(), nil
}

func between(t, lo, hi tokType) bool { return t >= lo && t <= hi }

const (
	wantWeekday = "a day of the week (monday … sunday, mon … sun) or 'day'"
	wantMonth   = "a month (january … december, jan … dec), 'month' or 'quarter'"
	wantTime    = "a time of day such as 09:30"
	wantStart   = "'every' or an ordinal such as 1st, or a day of the month such as 15"
)

// Parse reads a cron schedule.
func Parse(schedule string) (Schedule, error) {
	src := strings.ToLower(schedule)
	p := &parser{src: src, toks: lex(src), ordinals: map[int]bool{}, weekdays: map[int]bool{},
		months: map[int]bool{}, monthdays: map[int]bool{}}
	t0, t1 := p.peek(0).typ, p.peek(1).typ
	var err error
	switch {
	case t0 == tEvery && (t1 == tDigit || t1 == tDigits):
		err = p.interval()
	case t0 == tEvery && between(t1, tDay, tSunday),
		t0 == tDigit || t0 == tDigits || between(t0, tFirst, tFifth):
		err = p.specific()
	case t0 == tEvery:
		p.next()
		err = p.fail("a number of minutes or hours, " + wantWeekday)
	default:
		err = p.fail(wantStart)
	}
	if err != nil {
		return Schedule{}, err
	}
	if p.peek(0).typ != tEOF {
		return Schedule{}, p.fail("the end of the schedule")
	}
	s := Schedule{text: schedule}
	if p.period != "" {
		return s, p.buildInterval(&s)
	}
	return s, p.buildSpecific(&s)
}

func (p *parser) interval() error {
	p.next() // every
	n, _ := strconv.Atoi(p.next().text)
	p.every = n
	switch p.peek(0).typ {
	case tHours:
		p.period = "hours"
	case tMinutes:
		p.period = "minutes"
	default:
		return p.fail("'hours', 'mins' or 'minutes'")
	}
	p.next()
	switch p.peek(0).typ {
	case tFrom:
		p.next()
		from, err := p.expect(tTime, wantTime)
		if err != nil {
			return err
		}
		if _, err := p.expect(tTo, "'to'"); err != nil {
			return err
		}
		to, err := p.expect(tTime, wantTime)
		if err != nil {
			return err
		}
		p.from, p.to = from.text, to.text
	case tSynchronized:
		p.next()
		p.synchronized = true
	case tEOF:
	default:
		return p.fail("'from', 'synchronized' or the end of the schedule")
	}
	return nil
}

func (p *parser) specific() error {
	t := p.peek(0).typ
	if t == tDigit || t == tDigits {
		if err := p.list(tDigit, tDigits, "a day of the month", func(tok token) {
			n, _ := strconv.Atoi(tok.text)
			p.monthdays[n] = true
		}); err != nil {
			return err
		}
		if _, err := p.expect(tOf, "'of'"); err != nil {
			return err
		}
		if err := p.monthspec(); err != nil {
			return err
		}
	} else {
		if err := p.ordinalsWeekdays(); err != nil {
			return err
		}
		if p.peek(0).typ == tOf {
			p.next()
			if err := p.monthspec(); err != nil {
				return err
			}
		} else {
			for m := 1; m <= 12; m++ {
				p.months[m] = true
			}
		}
	}
	at, err := p.expect(tTime, wantTime)
	if err != nil {
		return err
	}
	p.at = at.text
	return nil
}

// list reads item (',' item)* where an item is a token of type lo..hi.
func (p *parser) list(lo, hi tokType, what string, add func(token)) error {
	for {
		if !between(p.peek(0).typ, lo, hi) {
			return p.fail(what)
		}
		add(p.next())
		if p.peek(0).typ != tComma {
			return nil
		}
		p.next()
	}
}

// value is the number the grammar gives a day, month or ordinal token.
func value(t tokType) int {
	switch {
	case between(t, tFirst, tFifth):
		return int(t-tFirst) + 1
	case between(t, tMonday, tSaturday):
		return int(t-tMonday) + 1
	case t == tSunday:
		return 0
	case between(t, tJanuary, tDecember):
		return int(t-tJanuary) + 1
	}
	return -1
}

func (p *parser) ordinalsWeekdays() error {
	if p.peek(0).typ == tEvery {
		p.next()
	} else if err := p.list(tFirst, tFifth, "an ordinal such as 1st or third", func(tok token) {
		p.ordinals[value(tok.typ)] = true
	}); err != nil {
		return err
	}
	if p.peek(0).typ == tDay {
		p.next()
		if len(p.ordinals) > 0 {
			// "<ordinal> day" is that day of the month, not every day of the <ordinal> week.
			p.monthdays, p.ordinals = p.ordinals, map[int]bool{}
		} else {
			for i := 1; i <= 5; i++ {
				p.ordinals[i] = true
			}
			for d := 0; d < 7; d++ {
				p.weekdays[d] = true
			}
		}
		return nil
	}
	if err := p.list(tMonday, tSunday, wantWeekday, func(tok token) { p.weekdays[value(tok.typ)] = true }); err != nil {
		return err
	}
	if len(p.ordinals) == 0 {
		for i := 1; i <= 5; i++ {
			p.ordinals[i] = true
		}
	}
	return nil
}

func (p *parser) monthspec() error {
	switch t := p.peek(0).typ; {
	case t == tMonth:
		p.next()
		for m := 1; m <= 12; m++ {
			p.months[m] = true
		}
	case between(t, tJanuary, tDecember):
		return p.list(tJanuary, tDecember, "a month", func(tok token) { p.months[value(tok.typ)] = true })
	case t == tQuarter:
		p.next()
		for _, m := range []int{1, 4, 7, 10} {
			p.months[m] = true
		}
	case between(t, tFirst, tThird):
		if err := p.list(tFirst, tThird, "1st, 2nd or 3rd (month of the quarter)", func(tok token) {
			off := value(tok.typ) - 1
			for _, m := range []int{1, 4, 7, 10} {
				p.months[m+off] = true
			}
		}); err != nil {
			return err
		}
		if _, err := p.expect(tMonth, "'month'"); err != nil {
			return err
		}
		if _, err := p.expect(tOf, "'of'"); err != nil {
			return err
		}
		if _, err := p.expect(tQuarter, "'quarter'"); err != nil {
			return err
		}
	default:
		return p.fail(wantMonth)
	}
	return nil
}

func (p *parser) semantic(format string, args ...any) error {
	return &SyntaxError{Schedule: p.src, Msg: fmt.Sprintf(format, args...)}
}

func parseTime(s string) TimeOfDay {
	h, m, _ := strings.Cut(s, ":")
	hh, _ := strconv.Atoi(h)
	mm, _ := strconv.Atoi(m)
	return TimeOfDay{hh, mm}
}

func (p *parser) buildInterval(s *Schedule) error {
	if p.every < 1 {
		return p.semantic("interval must be greater than zero")
	}
	s.Every, s.Period, s.Synchronized = p.every, p.period, p.synchronized
	if p.synchronized {
		if sec := s.seconds(); sec > 86400 || 86400%sec != 0 {
			return p.semantic("can only use synchronized for periods that divide evenly into 24 hours")
		}
		// synchronized is the range covering the whole day
		s.HasRange, s.From, s.To = true, TimeOfDay{0, 0}, TimeOfDay{23, 59}
	} else if p.from != "" {
		s.HasRange, s.From, s.To = true, parseTime(p.from), parseTime(p.to)
	}
	return nil
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}

func (p *parser) buildSpecific(s *Schedule) error {
	s.Ordinals, s.Weekdays, s.Months = sortedKeys(p.ordinals), sortedKeys(p.weekdays), sortedKeys(p.months)
	if len(s.Ordinals) > 0 && (s.Ordinals[0] < 1 || s.Ordinals[len(s.Ordinals)-1] > 5) {
		return p.semantic("ordinals must be between 1 and 5 inclusive")
	}
	if days := sortedKeys(p.monthdays); len(days) > 0 {
		if days[0] < 1 {
			return p.semantic("day of month must be greater than 0")
		}
		if days[len(days)-1] > 31 {
			return p.semantic("day of month must be less than 32")
		}
		valid := false
		for _, m := range s.Months {
			if days[0] <= daysIn(2004, m) { // any leap year
				valid = true
				break
			}
		}
		if !valid && len(s.Months) > 0 {
			return p.semantic("invalid day of month, got day %d of month %d", days[len(days)-1], s.Months[len(s.Months)-1])
		}
		s.Monthdays = days
	}
	s.At = parseTime(p.at)
	return nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (s Schedule) seconds() int {
	if s.Period == "hours" {
		return s.Every * 3600
	}
	return s.Every * 60
}

// Next is the first run of the schedule strictly after after, with the
// schedule's times of day read in loc (UTC when nil). It returns the zero
// Time when the schedule never runs again (a day such as the 5th Monday of
// February that no year within the 400-year calendar cycle has).
func (s Schedule) Next(after time.Time, loc *time.Location) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	if s.Every > 0 {
		return s.nextInterval(after, loc).In(loc)
	}
	return s.nextSpecific(after, loc)
}

func (s Schedule) nextInterval(start time.Time, loc *time.Location) time.Time {
	period := time.Duration(s.seconds()) * time.Second
	if !s.HasRange {
		// The SDK rounds down to the whole minute by dropping the seconds
		// (but not the fraction) of the start's wall clock.
		r := start.Add(period)
		return r.Add(-time.Duration(r.Second()) * time.Second)
	}
	t := start.In(loc)
	rangeStart := previousAt(t, s.From, loc)
	elapsed := int64(t.Sub(rangeStart) / time.Second)
	n := (elapsed + int64(s.seconds())) / int64(s.seconds())
	candidate := rangeStart.Add(time.Duration(n) * period)
	nextStart := nextAt(t, s.From, loc)
	if s.inRange(t, loc) && s.inRange(candidate, loc) && candidate.Before(nextStart) {
		return candidate
	}
	return nextStart
}

// inRange reports whether t falls between the range's start and end, inclusive.
func (s Schedule) inRange(t time.Time, loc *time.Location) bool {
	prevStart := previousAt(t, s.From, loc)
	prevEnd := previousAt(t, s.To, loc)
	return prevStart.After(prevEnd) || t.Equal(prevEnd)
}

// previousAt is the latest instant not after t at which loc's clock shows at.
func previousAt(t time.Time, at TimeOfDay, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	for i := 0; ; i++ {
		r := combine(y, m, d-i, at, loc)
		if !r.After(t) {
			return r
		}
	}
}

// nextAt is the earliest instant after t at which loc's clock shows at.
func nextAt(t time.Time, at TimeOfDay, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	for i := 0; ; i++ {
		r := combine(y, m, d+i, at, loc)
		if r.After(t) {
			return r
		}
	}
}

// combine is the instant of a wall-clock time in loc. A time that happens
// twice (clocks going back) is taken the first time; a time that does not
// happen (clocks going forward) moves on a minute at a time until it does.
func combine(y int, m time.Month, d int, at TimeOfDay, loc *time.Location) time.Time {
	wall := time.Date(y, m, d, at.Hour, at.Minute, 0, 0, time.UTC)
	for {
		c := localize(wall, loc)
		if len(c) > 0 {
			return c[0].t
		}
		wall = wall.Add(time.Minute)
	}
}

type candidate struct {
	t   time.Time
	dst bool
}

// localize finds the instants at which loc's clock shows wall (given as
// UTC fields), earliest first, the way pytz's localize does: it tries the
// offsets in force a day before and a day after.
func localize(wall time.Time, loc *time.Location) []candidate {
	var out []candidate
	for _, probe := range []time.Time{wall.AddDate(0, 0, -1), wall.AddDate(0, 0, 1)} {
		_, off := time.Unix(probe.Unix(), 0).In(loc).Zone()
		u := wall.Add(-time.Duration(off) * time.Second)
		lt := u.In(loc)
		_, off2 := lt.Zone()
		if u.Add(time.Duration(off2)*time.Second).Equal(wall) && (len(out) == 0 || !out[0].t.Equal(u)) {
			out = append(out, candidate{u.In(loc), lt.IsDST()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].t.Before(out[j].t) })
	return out
}

// pick chooses between the two instants of an ambiguous wall time as pytz's
// localize(is_dst=...) does: the one whose daylight-saving flag is dst when
// exactly one is, else the earliest for dst and the latest otherwise.
func pick(c []candidate, dst bool) time.Time {
	var match []time.Time
	for _, x := range c {
		if x.dst == dst {
			match = append(match, x.t)
		}
	}
	if len(match) == 1 {
		return match[0]
	}
	if dst {
		return c[0].t
	}
	return c[len(c)-1].t
}

func (s Schedule) nextSpecific(start time.Time, loc *time.Location) time.Time {
	local := start.In(loc)
	sy, sm, sd := local.Date()
	if len(s.Months) == 0 {
		return time.Time{}
	}
	// Walk the chosen months from the start's month on; 400 years is the
	// Gregorian cycle, after which nothing new can match.
	month, year := int(sm), sy
	for steps := 0; steps < 400*12; steps++ {
		i := sort.SearchInts(s.Months, month)
		if i == len(s.Months) {
			year++
			i = 0
		}
		month = s.Months[i]
		for _, day := range s.matchingDays(year, month) {
			if year == sy && month == int(sm) && day < sd {
				continue
			}
			wall := time.Date(year, time.Month(month), day, s.At.Hour, s.At.Minute, 0, 0, time.UTC)
			var out time.Time
			switch c := localize(wall, loc); len(c) {
			case 0:
				continue // the time does not exist that day: skip the day
			case 1:
				out = c[0].t
			default:
				// The time happens twice: the first one unless the start is
				// already past it.
				first := pick(c, true)
				if start.Before(first) {
					out = first
				} else {
					out = pick(c, false)
				}
			}
			if start.Before(out) {
				return out.In(loc)
			}
		}
		month++
	}
	return time.Time{}
}

// matchingDays lists the days of the month that the schedule runs on.
func (s Schedule) matchingDays(year, month int) []int {
	last := daysIn(year, month)
	var out []int
	if len(s.Monthdays) > 0 {
		for _, d := range s.Monthdays {
			if d <= last {
				out = append(out, d)
			}
		}
		return out
	}
	first := int(time.Date(year, time.Month(month), 1, 0, 0, 0, 0, time.UTC).Weekday()) // Sunday = 0
	for _, o := range s.Ordinals {
		for _, w := range s.Weekdays {
			d := (w-first+7)%7 + 1 + 7*(o-1)
			if d <= last {
				out = append(out, d)
			}
		}
	}
	sort.Ints(out)
	return out
}
