package upload

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/progress"
)

// makeRoom checks the host's cap on an application's versions before
// anything is sent (App Engine refuses the 211th only after the upload and
// the build), and with opts.KeepVersions deletes the service's oldest
// versions beyond that many (the version deployed counts) that receive no
// traffic and are not the previous default, telling each. A dry run names
// them without deleting. At the cap the deploy stops with an error of class
// backend.ErrLimit saying how to make room.
func makeRoom(ctx context.Context, b backend.Backend, opts Options, res *Result, rep progress.Reporter) error {
	limit := b.Properties().MaxVersions
	if limit <= 0 && opts.KeepVersions <= 0 {
		return nil
	}
	vs, ok := b.(backend.Versions)
	if !ok {
		return nil
	}
	list, err := vs.ListVersions(ctx, opts.App, "")
	if err != nil {
		return fmt.Errorf("counting the versions of %s: %w", opts.App, err)
	}
	var mine []backend.Version // the service's, newest first
	for _, v := range list {
		if v.Service != opts.Service {
			continue
		}
		if v.ID == opts.Version {
			return nil // a redeploy replaces the version: no new one
		}
		mine = append(mine, v)
	}
	count := len(list)
	if opts.KeepVersions > 0 {
		sort.SliceStable(mine, func(i, j int) bool { return mine[i].Created.After(mine[j].Created) })
		doomed, err := beyondKept(ctx, b, opts, mine)
		if err != nil {
			return err
		}
		for _, v := range doomed {
			if opts.DryRun {
				warn(res, rep, fmt.Sprintf("would delete version %s of service %s (--keep_versions %d)", v.ID, v.Service, opts.KeepVersions))
				res.DeletedVersions = append(res.DeletedVersions, v.ID)
				count--
				continue
			}
			rep.Status(fmt.Sprintf("Deleting version %s of service %s (created %s; --keep_versions %d).", v.ID, v.Service, v.Created.UTC().Format("2006-01-02 15:04"), opts.KeepVersions))
			if err := vs.DeleteVersion(ctx, opts.App, v.Service, v.ID); err != nil && !errors.Is(err, backend.ErrNotFound) {
				return fmt.Errorf("deleting old version %s of service %s (--keep_versions): %w", v.ID, v.Service, err)
			}
			res.DeletedVersions = append(res.DeletedVersions, v.ID)
			count--
		}
	}
	if limit > 0 && count >= limit {
		return fmt.Errorf("app %s has %d versions and its host takes at most %d, so version %s cannot be created: "+
			"delete old versions (appcfg delete_version -A %s -M SERVICE -V VERSION; list_versions shows them), "+
			"or run update with --keep_versions N to delete the oldest versions of service %s beyond N that receive no traffic: %w",
			opts.App, count, limit, opts.Version, opts.App, opts.Service, backend.ErrLimit)
	}
	return nil
}

// beyondKept returns the versions of mine (newest first) past the
// opts.KeepVersions-1 newest, leaving out every version that receives
// traffic and the previous default, oldest first.
func beyondKept(ctx context.Context, b backend.Backend, opts Options, mine []backend.Version) ([]backend.Version, error) {
	keep := opts.KeepVersions - 1 // the version deployed is one of them
	if len(mine) <= keep {
		return nil, nil
	}
	prev, err := backend.PreviousDefault(ctx, b, opts.App, opts.Service)
	if err != nil && !errors.Is(err, backend.ErrNotFound) {
		return nil, fmt.Errorf("finding the previous default version, which --keep_versions keeps: %w", err)
	}
	var out []backend.Version
	for i := len(mine) - 1; i >= keep; i-- {
		if v := mine[i]; v.Traffic == 0 && v.ID != prev {
			out = append(out, v)
		}
	}
	return out, nil
}
