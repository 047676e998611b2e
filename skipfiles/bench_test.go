package skipfiles

import (
	"fmt"
	"testing"
)

// benchUserList is a 20-pattern skip_files list of the kind real apps use.
var benchUserList = []string{
	`^(.*/)?#.*#$`, `^(.*/)?.*~$`, `^(.*/)?.*\.py[co]$`, `^(.*/)?.*/RCS/.*$`, `^(.*/)?\..*$`,
	`^(.*/)?.*\.bak$`, `^node_modules/.*`, `^tests?/.*`, `^docs/.*\.md$`, `^(.*/)?__pycache__/.*`,
	`^(.*/)?.*\.sw[op]$`, `^static/src/.*`, `^(.*/)?Thumbs\.db$`, `^(.*/)?\.DS_Store$`, `^vendor/.*/test/.*`,
	`^(.*/)?.*\.(psd|ai|sketch)$`, `^build/`, `^(.*/)?(?i)readme(\.md)?$`, `^coverage/.*`, `^tmp/.*`,
}

// benchPaths makes n app-like relative paths.
func benchPaths(n int) []string {
	dirs := []string{"", "static/", "static/css/", "lib/vendor/pkg/", "templates/", "app/models/", "node_modules/x/", "tests/"}
	exts := []string{".py", ".pyc", ".html", ".css", ".js", ".png", "~", ".md"}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%sfile_%d%s", dirs[i%len(dirs)], i, exts[(i/len(dirs))%len(exts)])
	}
	return out
}

// BenchmarkSkipMatch100k matches 100,000 paths against the default rules
// and against a 20-pattern user list, as the walk does for each entry.
// Goal: at most 0.2 s per 100k paths.
func BenchmarkSkipMatch100k(b *testing.B) {
	paths := benchPaths(100000)
	for _, tc := range []struct {
		name string
		list []string
	}{{"default", nil}, {"user20", benchUserList}} {
		re, probs := compileSkipFiles(tc.list, "app.yaml", nil, false)
		if probs != nil {
			b.Fatal(probs)
		}
		m := &Matcher{mode: ModeSkipFiles, re: re}
		b.Run(tc.name, func(b *testing.B) {
			skipped := 0
			for b.Loop() {
				skipped = 0
				for _, p := range paths {
					if s, _ := m.Match(p, false); s {
						skipped++
					}
				}
			}
			b.ReportMetric(float64(skipped), "skipped/op")
		})
	}
}
