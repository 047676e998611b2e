package appconfig

import (
	"errors"
	"github.com/appcfg/appcfg/internal/lazyre"
	"math"
	"strconv"
	"strings"
	"time"
)

// TimeValueFault is what is wrong with a time value (job_age_limit,
// task_age_limit), so validate can word each as the SDK does.
type TimeValueFault int

// The faults of a time value.
const (
	TimeValueOK TimeValueFault = iota
	TimeValueEmpty
	TimeValueNoUnit   // the last character is not s, m, h or d
	TimeValueNotFloat // the number is not one Python's float() reads
	TimeValueNegative
)

// ParseTimeValue reads a time value such as 30s, 1.5h or 3.5d as the SDK's
// validation.TimeValue does: a number Python's float() reads followed by
// one unit. It is the one reader of the format: validate checks with it,
// serve's cron runner waits with it. A value too large for a Duration
// saturates.
func ParseTimeValue(v string) (time.Duration, TimeValueFault) {
	if v == "" {
		return 0, TimeValueEmpty
	}
	var unit float64
	switch v[len(v)-1] {
	case 's':
		unit = 1
	case 'm':
		unit = 60
	case 'h':
		unit = 3600
	case 'd':
		unit = 86400
	default:
		return 0, TimeValueNoUnit
	}
	f, ok := pyFloat(v[:len(v)-1])
	switch {
	case !ok:
		return 0, TimeValueNotFloat
	case f < 0:
		return 0, TimeValueNegative
	}
	secs := f * unit
	if math.IsNaN(secs) {
		return 0, TimeValueOK
	}
	if secs >= float64(math.MaxInt64)/float64(time.Second) {
		return time.Duration(math.MaxInt64), TimeValueOK
	}
	return time.Duration(secs * float64(time.Second)), TimeValueOK
}

var underscoreDigits = lazyre.New(`^[0-9]+(?:_[0-9]+)*$`)

// pyFloat converts text as Python's float() does: surrounding blanks,
// inf/infinity/nan in any case, and underscores between digits are
// accepted; hexadecimal is not.
func pyFloat(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "xXpP") && !strings.Contains(strings.ToLower(s), "inf") {
		return 0, false
	}
	if strings.Contains(s, "_") {
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune("+-.eE", r) }) {
			if strings.Contains(part, "_") && !underscoreDigits.MatchString(part) {
				return 0, false
			}
		}
		s = strings.ReplaceAll(s, "_", "")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f, true
		}
		return 0, false
	}
	return f, true
}
