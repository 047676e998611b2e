package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/backend"
)

// setTrafficCmd is set_traffic: a service's traffic split among
// versions (a canary: --splits v1=.9,v2=.1), as gcloud app services
// set-traffic.
func setTrafficCmd(io stdio) *cli.Command {
	return &cli.Command{
		Name:      "set_traffic",
		Usage:     "split a service's traffic among versions (-M SERVICE --splits v1=.9,v2=.1 [--split_by ip|cookie|random])",
		ArgsUsage: "[DIR]  (or -A APP_ID [-M SERVICE])",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "splits", Required: true, Usage: "VERSION=SHARE,... (shares are weights: they are scaled to add up to 1)"},
			&cli.StringFlag{Name: "split_by", Value: string(backend.SplitByIP), Usage: "how requests are assigned: ip, cookie or random"},
		},
		Action: action(io, func(c *cli.Context) (versionsOptions, error) {
			opts, err := versionsOptionsFrom(c)
			if err != nil {
				return opts, err
			}
			opts.splitBy = backend.SplitBy(c.String("split_by"))
			opts.split, err = parseSplits(c.String("splits"))
			return opts, err
		}, runSetTraffic),
	}
}

// runSetTraffic splits the service's traffic as opts says.
func runSetTraffic(ctx context.Context, opts versionsOptions, d deps) error {
	g, io, split, by := opts.globals, d.io, opts.split, opts.splitBy
	if by != backend.SplitByIP && by != backend.SplitByCookie && by != backend.SplitByRandom {
		return usagef("option --split_by: invalid choice: '%s' (choose from 'ip', 'cookie', 'random')", by)
	}
	id, err := resolveIdent(ctx, io, opts, false)
	if err != nil {
		return err
	}
	return d.onHost(ctx, g, func(ctx context.Context, b backend.Backend) error {
		if err := setSplit(ctx, io, b, id, split, by); err != nil {
			return fmt.Errorf("splitting the traffic of service %s: %w", id.service, err)
		}
		res := versionResult{Action: "set_traffic", App: id.app, Services: []string{id.service},
			Version: backend.MainVersion(split), Split: split, SplitBy: string(by)}
		return emit(io, g, res, func() {
			fmt.Fprintf(io.out, "Traffic of service %s of app %s split by %s: %s.\n", id.service, id.app, by, formatSplit(split))
		})
	})
}

// setSplit routes the split with the method by where the host offers a
// choice; a host that splits one way only (the local one, by client IP)
// gets the split with a warning when another method was asked for.
func setSplit(ctx context.Context, io stdio, b backend.Backend, id ident, split map[string]float64, by backend.SplitBy) error {
	if ts, ok := b.(backend.TrafficSplitter); ok {
		return ts.SetTrafficSplit(ctx, id.app, id.service, split, by)
	}
	vs, err := backend.As[backend.Versions](b, "versions")
	if err != nil {
		return err
	}
	if by != backend.SplitByIP {
		fmt.Fprintf(io.err, "warning: %s splits traffic by client IP only; --split_by %s applies on App Engine\n", b.Location(), by)
	}
	return vs.SetTraffic(ctx, id.app, id.service, split, false)
}

// parseSplits reads VERSION=SHARE,... and scales the shares to add up to
// 1, as gcloud's --splits does with its weights.
func parseSplits(s string) (map[string]float64, error) {
	split := map[string]float64{}
	sum := 0.0
	for _, part := range strings.Split(s, ",") {
		v, share, ok := strings.Cut(strings.TrimSpace(part), "=")
		x, err := strconv.ParseFloat(share, 64)
		if !ok || v == "" || err != nil || !(x > 0) || x > 1e9 {
			return nil, usagef("option --splits: invalid value %q: give VERSION=SHARE pairs with positive shares, like v1=.9,v2=.1", part)
		}
		if _, dup := split[v]; dup {
			return nil, usagef("option --splits: version %s is named twice", v)
		}
		split[v] = x
		sum += x
	}
	for v := range split {
		split[v] /= sum
	}
	return split, nil
}

// formatSplit is "v1 90%, v2 10%", largest first.
func formatSplit(split map[string]float64) string {
	vs := make([]string, 0, len(split))
	for v := range split {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool {
		return split[vs[i]] > split[vs[j]] || split[vs[i]] == split[vs[j]] && vs[i] < vs[j]
	})
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = v + " " + trimFloat(split[v]*100) + "%"
	}
	return strings.Join(parts, ", ")
}
