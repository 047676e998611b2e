// Package backend is the contract between appcfg's commands and a hosting
// backend: the place where an application's versions, files, indexes and
// configuration live.
//
// # Overview
//
// Every backend implements the small required interface [Backend]: its
// location, its properties and Close. Everything else is an optional
// capability, a separate interface a backend may implement: [Deployer]
// (content addressed blobs and versions made from them), [Versions],
// [Locker], [ConfigStore], [IndexManager], [Entities]… Callers reach a
// capability with [As], which returns an error wrapping [ErrUnsupported]
// that names the backend and the missing capability, so a user reads
// "backend local:/x does not support indexes" rather than a type assertion
// failure; [AsDeployer] does the same for deploys ("backend datastore://p
// cannot deploy versions; …").
//
// Some capabilities only make a path faster, and callers fall back when a
// backend lacks them: [LogBlockReader] and [LogLineReader] hand request
// logs over in blocks or as ready lines (request_logs; the lines are the
// consumer's [LineFormat], opaque to the store), [EntityBatchPutter]
// stores several batches in one commit (upload_data). Their results must
// equal the plain path's; the conformance suite checks that.
//
// # Choosing a backend
//
// Backends are chosen by a location string (for example "local",
// "local:/srv/appcfg" or "appengine://my-project"). A [Registry] maps the
// scheme of the location to a [Factory]. The registry is built explicitly by
// package backend/all; there is no init-time registration.
//
// # Adding a backend
//
// Write a package under backend/, give it a Factory, add it to backend/all,
// and run the conformance suite in backend/backendtest from its tests.
//
// This package imports only the standard library and internal/appmodel, the
// typed app.yaml a deploy carries ([VersionSpec].Model): backends and
// commands both depend on it, never the other way round.
package backend
