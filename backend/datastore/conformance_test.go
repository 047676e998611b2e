//go:build unix

package datastore_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/backend/backendtest"
	"github.com/appcfg/appcfg/backend/datastore"
)

// conformanceEnv hands the emulator's host:port to the child test.
const conformanceEnv = "APPCFG_DATASTORE_CONFORMANCE_EMULATOR"

// TestConformanceChild runs the conformance suite at an emulator. The
// datastore backend has only the Entities capability (no backend.Deployer):
// every other group would only skip, so TestConformanceEntitiesOnEmulator
// runs this in a child process selecting the Entities group.
func TestConformanceChild(t *testing.T) {
	host := os.Getenv(conformanceEnv)
	if host == "" {
		t.Skip("run by TestConformanceEntitiesOnEmulator, which selects the Entities group of the suite")
	}
	// In parallel: each case waits on the emulator, under a project of
	// its own.
	backendtest.RunWith(t, func(t *testing.T) backend.Backend { return openBackend(t, host) }, backendtest.Options{Parallel: true})
}

func TestConformanceEntitiesOnEmulator(t *testing.T) {
	t.Parallel() // the emulator is shared; each test has its own project
	host := datastore.StartEmulator(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestConformanceChild$/^Entities$", "-test.v")
	cmd.Env = append(os.Environ(), conformanceEnv+"="+host)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("the Entities conformance group failed at the emulator (%v):\n%s", err, out.String())
	}
	text := out.String()
	// Only the cases of optional capabilities this backend lacks may skip.
	skips := strings.Count(text, "--- SKIP: TestConformanceChild/Entities")
	if !strings.Contains(text, "--- PASS: TestConformanceChild/Entities") || skips > strings.Count(text, "optional capability") {
		t.Fatalf("the Entities group did not run in full:\n%s", text)
	}
	t.Logf("%d Entities conformance cases passed at the emulator", strings.Count(text, "    --- PASS: TestConformanceChild/Entities/"))
}
