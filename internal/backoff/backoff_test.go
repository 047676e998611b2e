package backoff

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestJitterStaysWithinTheCap(t *testing.T) {
	for try := range 12 {
		want := min(100*time.Millisecond<<try, time.Second)
		for range 200 {
			if d := Jitter(try, 100*time.Millisecond, time.Second); d <= 0 || d > want {
				t.Fatalf("Jitter(%d) = %v, want in (0, %v]", try, d, want)
			}
		}
	}
	if d := Jitter(3, 0, time.Second); d != 0 {
		t.Fatalf("Jitter with no base = %v, want 0", d)
	}
}

func TestRetryAfter(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 0, "7": 7 * time.Second, " 2 ": 2 * time.Second, "soon": 0, "-3": 0} {
		h := http.Header{}
		if v != "" {
			h.Set("Retry-After", v)
		}
		if got := RetryAfter(h); got != want {
			t.Fatalf("RetryAfter(%q) = %v, want %v", v, got, want)
		}
	}
	h := http.Header{"Retry-After": {time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)}}
	if got := RetryAfter(h); got < 58*time.Minute || got > time.Hour {
		t.Fatalf("RetryAfter(date in an hour) = %v", got)
	}
}

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("Sleep on a cancelled context = %v", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}
