package sdktest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Root is the Cloud SDK install: $CLOUDSDK_ROOT, else the one gcloud on
// PATH belongs to, else where the Debian package puts it.
func Root() string {
	if r := os.Getenv("CLOUDSDK_ROOT"); r != "" {
		return r
	}
	if g, err := exec.LookPath("gcloud"); err == nil {
		if real, err := filepath.EvalSymlinks(g); err == nil {
			root := filepath.Dir(filepath.Dir(real))
			if _, err := os.Stat(filepath.Join(root, "lib", "googlecloudsdk")); err == nil {
				return root
			}
		}
	}
	return "/usr/lib/google-cloud-sdk"
}

// Find returns the Python that runs the SDK's own code (the one it
// bundles, else python3 on PATH) and the SDK root; ok is false when the
// SDK or a python3 is missing.
func Find() (python, root string, ok bool) {
	root = Root()
	if _, err := os.Stat(filepath.Join(root, "lib", "googlecloudsdk")); err != nil {
		return "", root, false
	}
	for _, p := range []string{filepath.Join(root, "platform", "bundledpythonunix", "bin", "python3"), "python3"} {
		if lp, err := exec.LookPath(p); err == nil {
			return lp, root, true
		}
	}
	return "", root, false
}

// Python is Find, skipping t with a message naming what is missing when
// the SDK or its python is absent.
func Python(t testing.TB) (python, root string) {
	t.Helper()
	python, root, ok := Find()
	if !ok {
		t.Skipf("the Cloud SDK (with a python3) is not installed at %s (set CLOUDSDK_ROOT); skipping the comparison with Google's own code", root)
	}
	return python, root
}
