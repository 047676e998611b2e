// Package appconfigtest holds the test helpers that build configuration
// models, shared by the tests of the packages that carry a model (logs,
// serve, the backends) so each reads an app.yaml the one way a deploy does.
// Only tests import it.
package appconfigtest
