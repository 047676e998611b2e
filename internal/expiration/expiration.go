package expiration

import (
	"fmt"
	"github.com/appcfg/appcfg/internal/lazyre"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxHTTP is the longest time a response may be cached: HTTP/1.1 (RFC 2616
// §14.21) asks servers not to send an Expires more than one year ahead, and
// a longer max-age means nothing more to a cache.
const MaxHTTP = 365 * 24 * time.Hour

var term = lazyre.New(`^([0-9]+)([DdHhMmSs]?)$`)

// Seconds reads an expiration: whitespace-separated terms, each a number
// with an optional unit d, h, m or s (seconds when absent, either case),
// summed. The SDK computes with Python's unbounded integers; a sum past
// int64 saturates at math.MaxInt64 rather than wrapping to a negative.
func Seconds(s string) (int64, error) {
	terms := strings.Fields(s)
	if len(terms) == 0 {
		return 0, fmt.Errorf("expiration %q is empty: write for example 1d 6h", s)
	}
	var total int64
	for _, t := range terms {
		m := term.FindStringSubmatch(t)
		if m == nil {
			return 0, fmt.Errorf("expiration %q: %q is not a number with an optional unit d, h, m or s", s, t)
		}
		unit := int64(1)
		switch strings.ToLower(m[2]) {
		case "d":
			unit = 86400
		case "h":
			unit = 3600
		case "m":
			unit = 60
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > (math.MaxInt64-total)/unit {
			return math.MaxInt64, nil // only digits, so the error is range
		}
		total += n * unit
	}
	return total, nil
}

// ForHTTP is the expiration as a response's cache lifetime: Seconds capped
// at MaxHTTP. long reports that the cap applied.
func ForHTTP(s string) (d time.Duration, long bool, err error) {
	secs, err := Seconds(s)
	if err != nil {
		return 0, false, err
	}
	if secs > int64(MaxHTTP/time.Second) {
		return MaxHTTP, true, nil
	}
	return time.Duration(secs) * time.Second, false, nil
}
