package backend

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// SplitBy is how a host assigns each request to a version of a split.
type SplitBy string

// Split methods, as App Engine's shardBy.
const (
	SplitByIP     SplitBy = "ip"
	SplitByCookie SplitBy = "cookie"
	SplitByRandom SplitBy = "random"
)

// TrafficSplitter is implemented by hosts that can split traffic by more
// than one method (App Engine: IP, cookie or random).
type TrafficSplitter interface {
	// SetTrafficSplit is Versions.SetTraffic (without migration) with the
	// split method given.
	SetTrafficSplit(ctx context.Context, app, service string, split map[string]float64, by SplitBy) error
}

// TrafficChange is one past split of a service.
type TrafficChange struct {
	At    time.Time
	Split map[string]float64
}

// TrafficHistory is implemented by hosts that remember a service's past
// traffic splits, which tell the previous default version.
type TrafficHistory interface {
	// TrafficHistory returns the service's splits, newest first (the
	// current one among them), as far back as the host remembers.
	TrafficHistory(ctx context.Context, app, service string) ([]TrafficChange, error)
}

// MainVersion returns the version with the largest share of split (ties:
// the first by name; "" for none).
func MainVersion(split map[string]float64) string {
	best := ""
	for v, s := range split {
		if best == "" || s > split[best] || s == split[best] && v < best {
			best = v
		}
	}
	return best
}

// PreviousDefault returns the version that served the service before its
// current default (the version with the largest share now), which a
// one-line revert routes the traffic back to and a clean-up never deletes.
// It reads the host's traffic history where the host keeps one; else (or
// when the history does not reach back) it takes the newest version created
// before the current default, the one a promoting deploy replaced. It
// returns an error wrapping ErrNotFound when there is none.
func PreviousDefault(ctx context.Context, b Backend, app, service string) (string, error) {
	vs, err := As[Versions](b, "versions")
	if err != nil {
		return "", err
	}
	list, err := vs.ListVersions(ctx, app, service)
	if err != nil {
		return "", err
	}
	have := map[string]Version{}
	now := map[string]float64{}
	for _, v := range list {
		have[v.ID] = v
		if v.Traffic > 0 {
			now[v.ID] = v.Traffic
		}
	}
	current := MainVersion(now)
	if current == "" {
		return "", fmt.Errorf("service %s of app %s has no version receiving traffic: %w", service, app, ErrNotFound)
	}
	if h, ok := b.(TrafficHistory); ok {
		changes, err := h.TrafficHistory(ctx, app, service)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return "", err
		}
		for _, c := range changes {
			if m := MainVersion(c.Split); m != "" && m != current {
				if _, ok := have[m]; ok {
					return m, nil
				}
			}
		}
	}
	var older []Version
	for _, v := range list {
		if v.ID != current && v.Created.Before(have[current].Created) {
			older = append(older, v)
		}
	}
	if len(older) == 0 {
		return "", fmt.Errorf("service %s of app %s has no version before %s: %w", service, app, current, ErrNotFound)
	}
	sort.Slice(older, func(i, j int) bool { return older[i].Created.After(older[j].Created) })
	return older[0].ID, nil
}
