package bulkload

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Python's strftime/strptime directives, implemented directly: translating
// to a Go layout would misread literal text such as "-07" (a zone in Go).

var (
	shortDays   = []string{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}
	longDays    = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	shortMonths = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	longMonths  = []string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}
)

const strftimeDirectives = "aAbBdfHIjmMpSyYzZ%"

// checkTimeFormat refuses directives we do not implement, when the config
// is loaded rather than on the first row.
func checkTimeFormat(format string) error {
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		if i+1 >= len(format) || !strings.ContainsRune(strftimeDirectives, rune(format[i+1])) {
			d := "%"
			if i+1 < len(format) {
				d += string(format[i+1])
			}
			return fmt.Errorf("time format %q: directive %s is not supported (supported: %%a %%A %%b %%B %%d %%f %%H %%I %%j %%m %%M %%p %%S %%y %%Y %%z %%Z %%%%)", format, d)
		}
		i++
	}
	return nil
}

// strftime formats t as Python's datetime.strftime does.
func strftime(t time.Time, format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			b.WriteByte(c)
			continue
		}
		i++
		switch format[i] {
		case 'a':
			b.WriteString(shortDays[t.Weekday()])
		case 'A':
			b.WriteString(longDays[t.Weekday()])
		case 'b':
			b.WriteString(shortMonths[t.Month()-1])
		case 'B':
			b.WriteString(longMonths[t.Month()-1])
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'f':
			fmt.Fprintf(&b, "%06d", t.Nanosecond()/1000)
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			fmt.Fprintf(&b, "%02d", h)
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'Y':
			fmt.Fprintf(&b, "%d", t.Year())
		case 'z':
			// Naive datetimes (all we store are UTC) print nothing, as Python.
		case 'Z':
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(format[i])
		}
	}
	return b.String()
}

// strptime parses s as Python's datetime.strptime does, giving a UTC time
// (a naive datetime stored as UTC, as Datastore did). %z, when present,
// converts to UTC.
func strptime(s, format string) (time.Time, error) {
	year, month, day, hour, min, sec, nsec := 1900, 1, 1, 0, 0, 0, 0
	yday := 0
	pm, hasPM, twelve := false, false, false
	offset, hasOffset := 0, false
	pos := 0
	bad := func() (time.Time, error) {
		return time.Time{}, fmt.Errorf("time data %q does not match format %q", s, format)
	}
	num := func(maxDigits int) (int, bool) {
		start := pos
		for pos < len(s) && pos-start < maxDigits && s[pos] >= '0' && s[pos] <= '9' {
			pos++
		}
		if pos == start {
			return 0, false
		}
		n, _ := strconv.Atoi(s[start:pos])
		return n, true
	}
	word := func(names []string) (int, bool) {
		for i, n := range names {
			if len(s)-pos >= len(n) && strings.EqualFold(s[pos:pos+len(n)], n) {
				pos += len(n)
				return i, true
			}
		}
		return 0, false
	}
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' || i+1 >= len(format) {
			if c == ' ' {
				// Python: whitespace in the format matches any run of it.
				for pos < len(s) && (s[pos] == ' ' || s[pos] == '\t') {
					pos++
				}
				continue
			}
			if pos >= len(s) || s[pos] != c {
				return bad()
			}
			pos++
			continue
		}
		i++
		var ok bool
		switch format[i] {
		case 'Y':
			year, ok = num(4)
		case 'y':
			year, ok = num(2)
			if year < 69 {
				year += 2000
			} else {
				year += 1900
			}
		case 'm':
			month, ok = num(2)
		case 'd':
			day, ok = num(2)
		case 'H':
			hour, ok = num(2)
		case 'I':
			hour, ok = num(2)
			twelve = true
		case 'M':
			min, ok = num(2)
		case 'S':
			sec, ok = num(2)
		case 'j':
			yday, ok = num(3)
		case 'f':
			start := pos
			var us int
			us, ok = num(6)
			for k := pos - start; k < 6; k++ {
				us *= 10
			}
			nsec = us * 1000
		case 'p':
			var idx int
			idx, ok = word([]string{"AM", "PM"})
			pm, hasPM = idx == 1, true
		case 'b', 'B':
			month, ok = word(append(append([]string{}, longMonths...), shortMonths...))
			month = month%12 + 1
		case 'a', 'A':
			_, ok = word(append(append([]string{}, longDays...), shortDays...))
		case 'z':
			if pos < len(s) && (s[pos] == '+' || s[pos] == '-') {
				sign := 1
				if s[pos] == '-' {
					sign = -1
				}
				pos++
				var hhmm int
				start := pos
				hhmm, ok = num(4)
				ok = ok && pos-start == 4
				offset, hasOffset = sign*((hhmm/100)*3600+(hhmm%100)*60), true
			}
		case 'Z':
			_, ok = word([]string{"UTC", "GMT"})
		case '%':
			ok = pos < len(s) && s[pos] == '%'
			pos++
		}
		if !ok {
			return bad()
		}
	}
	if pos != len(s) {
		return time.Time{}, fmt.Errorf("unconverted data remains: %q", s[pos:])
	}
	if twelve || hasPM {
		if hour < 1 || hour > 12 {
			return bad()
		}
		hour %= 12
		if pm {
			hour += 12
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 61 {
		return bad()
	}
	t := time.Date(year, time.Month(month), day, hour, min, sec, nsec, time.UTC)
	if t.Day() != day {
		return time.Time{}, fmt.Errorf("day is out of range for month in %q", s)
	}
	if yday > 0 {
		t = time.Date(year, 1, yday, hour, min, sec, nsec, time.UTC)
	}
	if hasOffset {
		t = t.Add(-time.Duration(offset) * time.Second)
	}
	return t, nil
}
