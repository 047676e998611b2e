package expiration_test

import (
	"math"
	"testing"
	"time"

	"github.com/appcfg/appcfg/internal/expiration"
)

func TestSeconds(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"10", 10, true},
		{"1d 6h", 30 * 3600, true},
		{"5m 30", 5*60 + 30, true},
		{"7d 7d 7d", 21 * 86400, true},
		{"2D 3H 4M 5S", 2*86400 + 3*3600 + 4*60 + 5, true},
		{"1000000d", 86400 * 1000000, true},
		{"99999999999999999999d", math.MaxInt64, true},
		{"106751991167301d 106751991167301d", math.MaxInt64, true},
		{"1w", 0, false},
		{"1.5h", 0, false},
		{"1h30m", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := expiration.Seconds(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("Seconds(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// A lifetime past a year is capped, never wrapped to a negative max-age.
func TestForHTTP(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		long bool
	}{
		{"7d 1h", 7*24*time.Hour + time.Hour, false},
		{"365d", expiration.MaxHTTP, false},
		{"366d", expiration.MaxHTTP, true},
		{"1000000d", expiration.MaxHTTP, true},
		{"99999999999999999999999", expiration.MaxHTTP, true},
	}
	for _, tt := range tests {
		got, long, err := expiration.ForHTTP(tt.in)
		if err != nil || got != tt.want || long != tt.long {
			t.Errorf("ForHTTP(%q) = %v, %v, %v; want %v, %v", tt.in, got, long, err, tt.want, tt.long)
		}
	}
}
