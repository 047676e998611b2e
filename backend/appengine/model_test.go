package appengine

import (
	"testing"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/internal/appmodel"
)

// model reads an app.yaml as a deploy does (appconfig.LoadAppData, includes
// merged), into the typed model a VersionSpec carries. path names the file
// for messages and includes; the tests' configurations may break SDK rules
// (validate's job), so only an unreadable file fails.
func model(t testing.TB, path, yaml string) *appmodel.App {
	t.Helper()
	app, problems := appconfig.LoadAppData(path, []byte(yaml))
	if app == nil {
		t.Fatalf("%s does not parse: %v", path, problems)
	}
	return app
}
