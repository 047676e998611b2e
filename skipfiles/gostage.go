package skipfiles

import (
	"os"
	"path/filepath"
	"strings"
)

// MainPackageFile is the file gcloud's Go stager (go-app-stager) adds to a
// module-mode Go app: the app directory relative to the module root, "."
// at the root, with no newline. The server-side build reads it to find the
// main package.
const MainPackageFile = "_main-package-path"

// goStaged is gcloud's staging registry entry for Go in the standard
// environment (command_lib/app/staging.py, env.GO_TI_RUNTIME_EXPR), matched
// as runtime_registry does, from the start to the end:
//
//	go|go1\..+|go1\d\d(\w+\d)?
//
// Read by hand (ASCII \d and \w, "." anything but a newline): compiled,
// it cost every ls_files and update of any app a tenth of a millisecond
// before the walk.
func goStaged(runtime string) bool {
	if runtime == "go" {
		return true
	}
	if rest, ok := strings.CutPrefix(runtime, "go1."); ok {
		return rest != "" && !strings.Contains(rest, "\n")
	}
	rest, ok := strings.CutPrefix(runtime, "go1")
	if !ok || len(rest) < 2 || !isDigit(rest[0]) || !isDigit(rest[1]) {
		return false
	}
	tail := rest[2:] // (\w+\d)?
	if tail == "" {
		return true
	}
	if len(tail) < 2 || !isDigit(tail[len(tail)-1]) {
		return false
	}
	for i := 0; i < len(tail); i++ {
		if c := tail[i]; !isDigit(c) && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// goStage is what go-app-stager makes of the Go app in appDir before
// gcloud chooses the files: in module mode (a go.mod in appDir or a parent)
// the whole module from its root, without .git directories, plus
// MainPackageFile. ok is false when the runtime is not staged or no go.mod
// is found (GOPATH mode, where an app importing only the standard library
// or its own vendor tree is copied as it is).
func goStage(appDir, runtime, env string) (root, mainPackage string, ok bool) {
	if (env != "" && env != "standard") || !goStaged(runtime) {
		return "", "", false
	}
	for dir := appDir; ; {
		if st, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil && st.Mode().IsRegular() {
			rel, err := filepath.Rel(dir, appDir)
			if err != nil {
				return "", "", false
			}
			return dir, filepath.ToSlash(rel), true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", "", false
		}
		dir = parent
	}
}
