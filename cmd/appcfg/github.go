package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/internal/human"
)

// GitHub Actions: when appcfg runs as a workflow step (GITHUB_ACTIONS=true),
// validation problems also become annotations on the files, and update
// hands its url, version and service to the next steps ($GITHUB_OUTPUT)
// and writes a short summary of the deploy ($GITHUB_STEP_SUMMARY). Outside
// GitHub Actions none of this happens.

func (io stdio) env(name string) string {
	if io.getenv == nil {
		return ""
	}
	return io.getenv(name)
}

func inGitHubActions(io stdio) bool { return io.env("GITHUB_ACTIONS") == "true" }

// githubAnnotate prints each problem as a workflow command
// (::error file=F,line=L,col=C::message) on stdout, where the runner reads
// them. With --format json or ndjson, whose stdout is one JSON document or
// event stream, they go to stderr, which the runner reads too.
func githubAnnotate(io stdio, g globals, problems []appconfig.Problem) {
	if !inGitHubActions(io) {
		return
	}
	w := io.out
	if g.format.machine() {
		w = io.err
	}
	ws := io.env("GITHUB_WORKSPACE")
	for _, p := range problems {
		level := "error"
		if p.Warning && !g.strict {
			level = "warning"
		}
		file := p.File
		if ws != "" && filepath.IsAbs(file) {
			if rel, err := filepath.Rel(ws, file); err == nil && !strings.HasPrefix(rel, "..") {
				file = filepath.ToSlash(rel)
			}
		}
		msg := p.Message
		if p.Hint != "" {
			msg += " (" + p.Hint + ")"
		}
		props := "file=" + ghProperty(file)
		if p.Line > 0 {
			props += fmt.Sprintf(",line=%d", p.Line)
			if p.Column > 0 {
				props += fmt.Sprintf(",col=%d", p.Column)
			}
		}
		if p.Field != "" {
			props += ",title=" + ghProperty(p.Field)
		}
		fmt.Fprintf(w, "::%s %s::%s\n", level, props, ghData(msg))
	}
}

// ghData escapes a workflow command's message as the runner unescapes it.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

// githubDeployOutputs appends url, version, service (and service_url,
// project) of the deploy to $GITHUB_OUTPUT, and a Markdown table of what
// was deployed to $GITHUB_STEP_SUMMARY. With several services the outputs
// name the last one deployed; the summary lists each.
func githubDeployOutputs(io stdio, results []*updateResult) error {
	if !inGitHubActions(io) || len(results) == 0 {
		return nil
	}
	var deployed []*updateResult
	for _, r := range results {
		if r.Version != "" && !r.DryRun {
			deployed = append(deployed, r)
		}
	}
	if len(deployed) == 0 {
		return nil
	}
	if path := io.env("GITHUB_OUTPUT"); path != "" {
		last := deployed[len(deployed)-1]
		var b strings.Builder
		for _, kv := range [][2]string{{"url", last.URL}, {"service_url", last.ServiceURL},
			{"version", last.Version}, {"service", last.Service}, {"project", last.Project}} {
			fmt.Fprintf(&b, "%s=%s\n", kv[0], oneLine(kv[1]))
		}
		if err := appendFile(path, b.String()); err != nil {
			return fmt.Errorf("writing the step's outputs to $GITHUB_OUTPUT (%s): %w", path, err)
		}
	}
	if path := io.env("GITHUB_STEP_SUMMARY"); path != "" {
		var b strings.Builder
		b.WriteString("### appcfg update\n\n| project | service | version | traffic | files sent | URL |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, r := range deployed {
			fmt.Fprintf(&b, "| %s | %s | %s | %s%% | %d of %d (%s) | %s |\n", mdCell(r.Project), mdCell(r.Service), mdCell(r.Version),
				trimFloat(r.Traffic*100), r.FilesSent, r.Files, human.Size(r.BytesSent), mdCell(r.URL))
		}
		b.WriteString("\n")
		if err := appendFile(path, b.String()); err != nil {
			return fmt.Errorf("writing the step summary to $GITHUB_STEP_SUMMARY (%s): %w", path, err)
		}
	}
	return nil
}

// oneLine keeps a value on its line of $GITHUB_OUTPUT: a newline would
// start another output.
func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }

func mdCell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// appendFile appends text in one write, as the runner's files expect
// (other steps append to them too).
func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
