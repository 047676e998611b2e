package serve

import (
	"time"

	"github.com/appcfg/appcfg/internal/expiration"
)

// defaultExpiration is how long static files may be cached when neither
// the handler nor default_expiration says, as on App Engine.
const defaultExpiration = 10 * time.Minute

// cacheLifetime is an expiration as sent in Cache-Control and Expires,
// capped at one year (validate warns about a longer one).
func cacheLifetime(s string) (time.Duration, error) {
	d, _, err := expiration.ForHTTP(s)
	return d, err
}
