package validate

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testKey = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACAEn3Ssxh31EokeiBs3/orkbqlDu+r3fnqb9jM/4M2yFAAAAJCvI2c7ryNn
-----END OPENSSH PRIVATE KEY-----
`

// TestIncludedKeyIsNeverQuoted: an include naming a private key outside
// the app keeps the SDK's verdict (a scalar configures nothing: a
// warning), is a warning naming the path, and no message or hint quotes
// any part of the key.
func TestIncludedKeyIsNeverQuoted(t *testing.T) {
	home := t.TempDir()
	key := filepath.Join(home, ".ssh", "id_rsa")
	app := filepath.Join(home, "app")
	for p, data := range map[string]string{
		key:                                  "" + testKey,
		filepath.Join(app, "app.yaml"):       "runtime: python27\napi_version: 1\nthreadsafe: true\nincludes:\n- " + key + "\n- inc/notes.yaml\nhandlers:\n- url: /.*\n  script: main.app\n",
		filepath.Join(app, "inc/notes.yaml"): "first line of some notes that goes on and on and on well past sixty characters\nsecond line\n",
	} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	res := File(context.Background(), filepath.Join(app, "app.yaml"), KindApp, Options{})
	if !res.OK() {
		t.Errorf("the SDK accepts a scalar include; problems: %v", res.Problems)
	}
	js, _ := json.Marshal(res.Problems)
	all := string(js)
	for _, p := range res.Problems {
		all += "\n" + p.String()
	}
	for _, part := range []string{"BEGIN", "b3BlbnNzaC1rZXkt", "QyNTUxOQ", "second line", "past sixty"} {
		if strings.Contains(all, part) {
			t.Errorf("the problems quote %q of a file:\n%s", part, all)
		}
	}
	var outside, nothing bool
	for _, p := range res.Problems {
		if p.Warning && strings.Contains(p.Message, key) && strings.Contains(p.Message, "outside the application directory") {
			outside = true
		}
		if p.Warning && p.File == key && strings.Contains(p.Message, "not a mapping") {
			nothing = true
		}
	}
	if !outside {
		t.Errorf("no warning names the include %s outside the app:\n%s", key, all)
	}
	if !nothing {
		t.Errorf("the SDK's verdict on the key (a scalar configures nothing) is gone:\n%s", all)
	}
}
