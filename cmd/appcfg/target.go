package main

import (
	"fmt"

	"github.com/appcfg/appcfg/backend/all"
)

// The application (Google Cloud project) a command acts on is decided here
// and nowhere else, for every command that takes --backend:
//
//  1. the project the --backend location names (appengine://P,
//     datastore://P): the user named the host to change, and a staging
//     deploy must not land in the project app.yaml was written for;
//  2. else -A/--application;
//  3. else the files' application: (app.yaml's, or a companion's own).
//
// -A naming another project than the location is a usage error, found by
// readGlobals before any file is read or request sent; a file naming
// another one earns a warning naming both.

// locationProject is the project the --backend location names, "" when it
// names none. A malformed location is left for openBackend to report.
func locationProject(location string) string {
	p, err := all.Registry(all.Options{}).Project(location)
	if err != nil {
		return ""
	}
	return p
}

// checkTarget refuses -A contradicting the location's project.
func (g globals) checkTarget() error {
	if g.project != "" && g.appID != "" && g.appID != g.project {
		return usagef("-A %s contradicts --backend %s, which names project %s: drop -A, or name the same project in both",
			g.appID, g.backend, g.project)
	}
	return nil
}

// app is the application a command acts on when no file names one: the
// location's project, else -A ("" when neither says).
func (g globals) app() string {
	return firstNonEmpty(g.project, g.appID)
}

// targetApp is the application a command acts on, given what the file
// says (fromFile, "" when it says nothing). A file naming another project
// than the location's is overruled with a warning on stderr.
func (g globals) targetApp(io stdio, fromFile, file string) string {
	fromFile = projectID(fromFile)
	if g.project != "" && fromFile != "" && fromFile != g.project {
		fmt.Fprintf(io.err, "warning: %s names application %s, but --backend %s names project %s: acting on %s\n",
			file, fromFile, g.backend, g.project, g.project)
	}
	return firstNonEmpty(g.app(), fromFile)
}
