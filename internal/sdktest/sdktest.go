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

// Python returns the Python that runs the SDK's own code (the one it
// bundles, else python3 on PATH) and the SDK root, or skips t, saying
// what is missing, when the SDK is not installed.
func Python(t testing.TB) (python, root string) {
	t.Helper()
	root = Root()
	if _, err := os.Stat(filepath.Join(root, "lib", "googlecloudsdk")); err != nil {
		t.Skipf("the Cloud SDK is not installed at %s (set CLOUDSDK_ROOT); skipping the comparison with Google's own code", root)
	}
	for _, p := range []string{filepath.Join(root, "platform", "bundledpythonunix", "bin", "python3"), "python3"} {
		if lp, err := exec.LookPath(p); err == nil {
			return lp, root
		}
	}
	t.Skipf("no python3 to run the Cloud SDK at %s; skipping the comparison with Google's own code", root)
	return "", ""
}
