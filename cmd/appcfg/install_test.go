package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

func TestFormatVersion(t *testing.T) {
	for _, tt := range []struct {
		bi   *debug.BuildInfo
		want string
	}{
		{nil, "appcfg (devel)"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.4.0"}}, "appcfg v1.4.0 (go1.26.8)"},
		{&debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"}, {Key: "vcs.modified", Value: "true"}}},
			"appcfg (devel) (commit 0123456789ab+dirty, go1.26.8)"},
		{&debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261203170000-0123456789ab"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "false"}}},
			"appcfg v0.0.0-20261203170000-0123456789ab (commit 0123456789ab)"},
	} {
		if got := formatVersion(tt.bi); got != tt.want {
			t.Errorf("formatVersion = %q, want %q", got, tt.want)
		}
	}
	// The running test binary's own line.
	code, stdout, _ := runCLI(t, "version")
	if code != exitOK || !strings.HasPrefix(stdout, "appcfg ") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
}

// TestCompletionScripts: each script parses in its shell, and the bash one
// completes commands, a command's options and the global options wherever
// they stand.
func TestCompletionScripts(t *testing.T) {
	dir := t.TempDir()
	scripts := map[string]string{}
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, stdout, stderr := runCLI(t, "completion", sh)
		if code != exitOK || stdout == "" {
			t.Fatalf("completion %s: exit %d\n%s", sh, code, stderr)
		}
		p := filepath.Join(dir, "appcfg."+sh)
		if err := os.WriteFile(p, []byte(stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		scripts[sh] = p
	}
	if code, _, stderr := runCLI(t, "completion", "tcsh"); code != exitUsage || !strings.Contains(stderr, "bash, zsh and fish") {
		t.Errorf("completion tcsh: exit %d, %s", code, stderr)
	}
	for sh, check := range map[string][]string{"bash": {"-n"}, "zsh": {"-n"}, "fish": {"--no-execute"}} {
		t.Run(sh, func(t *testing.T) {
			if _, err := exec.LookPath(sh); err != nil {
				t.Skipf("%s is not installed: the syntax of its script is not checked here", sh)
			}
			if out, err := exec.Command(sh, append(check, scripts[sh])...).CombinedOutput(); err != nil {
				t.Errorf("%s %s: %v\n%s", sh, strings.Join(check, " "), err, out)
			}
		})
	}
	if _, err := exec.LookPath("bash"); err != nil {
		return
	}
	for _, tt := range []struct {
		line string // the words typed, the last being completed
		want []string
		not  []string
	}{
		{"appcfg upd", []string{"update", "update_cron", "update_indexes"}, []string{"validate", "--quiet"}},
		{"appcfg update --dr", []string{"--dry-run", "--dry_run"}, nil},
		{"appcfg -A myapp request_logs --fol", []string{"--follow", "--follow_interval", "--follow_timeout"}, []string{"--dry-run"}},
		{"appcfg --backend local request_logs --fol", []string{"--follow"}, nil},
		{"appcfg request_logs --impers", []string{"--impersonate_service_account"}, nil},
		{"appcfg --q", []string{"--quiet"}, nil},
		{"appcfg comp", []string{"completion"}, nil},
	} {
		words := strings.Fields(tt.line)
		prog := "source " + scripts["bash"] + "\nCOMP_WORDS=(" + strings.Join(words, " ") + ")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) +
			"\n_appcfg\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
		out, err := exec.Command("bash", "--norc", "--noprofile", "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", tt.line, err, out)
		}
		got := strings.Fields(string(out))
		for _, w := range tt.want {
			if !hasWord(got, w) {
				t.Errorf("%q completes to %q, missing %s", tt.line, got, w)
			}
		}
		for _, w := range tt.not {
			if hasWord(got, w) {
				t.Errorf("%q completes to %q, which holds %s", tt.line, got, w)
			}
		}
	}
}

func hasWord(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
