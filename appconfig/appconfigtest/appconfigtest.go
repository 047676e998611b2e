package appconfigtest

import (
	"testing"

	"github.com/appcfg/appcfg/appconfig"
)

// Model reads an app.yaml as a deploy does (appconfig.LoadAppData,
// includes merged) into the typed model a backend.VersionSpec carries.
// path names the file for messages and includes. The tests' configurations
// may break SDK rules (validate's job), so only a file that yields no model
// fails the test.
func Model(t testing.TB, path, yaml string) *appconfig.App {
	t.Helper()
	app, problems := appconfig.LoadAppData(path, []byte(yaml))
	if app == nil {
		t.Fatalf("%s does not parse: %v", path, problems)
	}
	return app
}
