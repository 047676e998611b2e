package serve

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// defaultExpiration is how long static files may be cached when neither
// the handler nor default_expiration says, as on App Engine.
const defaultExpiration = 10 * time.Minute

var expirationTerm = regexp.MustCompile(`^([0-9]+)([DdHhMmSs]?)$`)

// ParseExpiration reads an expiration as app.yaml writes it: whitespace-
// separated terms, each a number with an optional unit d, h, m or s
// (seconds when absent), summed ("1d 6h").
func ParseExpiration(s string) (time.Duration, error) {
	terms := strings.Fields(s)
	if len(terms) == 0 {
		return 0, fmt.Errorf("expiration %q is empty: write for example 1d 6h", s)
	}
	var total time.Duration
	for _, t := range terms {
		m := expirationTerm.FindStringSubmatch(t)
		if m == nil {
			return 0, fmt.Errorf("expiration %q: %q is not a number with an optional unit d, h, m or s", s, t)
		}
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || n > 1<<40 {
			return 0, fmt.Errorf("expiration %q: %q is too large", s, t)
		}
		unit := time.Second
		switch strings.ToLower(m[2]) {
		case "d":
			unit = 24 * time.Hour
		case "h":
			unit = time.Hour
		case "m":
			unit = time.Minute
		}
		total += time.Duration(n) * unit
	}
	return total, nil
}
