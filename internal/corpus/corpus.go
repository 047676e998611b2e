// Package corpus reads the shared test corpus of real App Engine
// configuration files and Google's verdicts on them (shared/corpus), for the
// tests of several packages.
package corpus

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Entry is one row of verdicts.tsv with the file it names resolved on disk.
type Entry struct {
	ID, Kind, Verdict, Exception, Message string
	Fields                                map[string]string // every column, unescaped
	Path                                  string            // the file on disk
}

// Dir finds the corpus: $APPCFG_CORPUS, or shared/corpus beside the
// repository. It returns "" when there is none.
func Dir() string {
	if d := os.Getenv("APPCFG_CORPUS"); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	d := filepath.Join(filepath.Dir(file), "..", "..", "..", "shared", "corpus")
	if _, err := os.Stat(filepath.Join(d, "verdicts.tsv")); err != nil {
		return ""
	}
	return d
}

// Sources maps entry ids to their SOURCES.tsv row.
func Sources(dir string) (map[string]map[string]string, error) {
	rows, err := readTSV(filepath.Join(dir, "SOURCES.tsv"))
	if err != nil {
		return nil, err
	}
	m := make(map[string]map[string]string, len(rows))
	for _, r := range rows {
		m[r["id"]] = r
	}
	return m, nil
}

// AppRoot is the root folder of a whole app entry ("wapp-NN").
func AppRoot(dir string, src map[string]string) string {
	owner, name, _ := strings.Cut(src["repo"], "/")
	return filepath.Join(dir, "apps", owner+"__"+name, src["path"])
}

// Verdicts reads verdicts.tsv and resolves each entry's file.
func Verdicts(dir string) ([]Entry, error) {
	srcs, err := Sources(dir)
	if err != nil {
		return nil, err
	}
	rows, err := readTSV(filepath.Join(dir, "verdicts.tsv"))
	if err != nil {
		return nil, err
	}
	out := make([]Entry, 0, len(rows))
	for _, r := range rows {
		e := Entry{ID: r["id"], Kind: r["kind"], Verdict: r["verdict"], Exception: r["exception"], Message: r["message"], Fields: r}
		if wapp, file, ok := strings.Cut(e.ID, ":"); ok {
			src, found := srcs[wapp]
			if !found {
				return nil, fmt.Errorf("verdicts.tsv: %s not in SOURCES.tsv", wapp)
			}
			e.Path = filepath.Join(AppRoot(dir, src), file)
		} else {
			src, found := srcs[e.ID]
			if !found {
				return nil, fmt.Errorf("verdicts.tsv: %s not in SOURCES.tsv", e.ID)
			}
			owner, name, _ := strings.Cut(src["repo"], "/")
			e.Path = filepath.Join(dir, "files", owner+"__"+name, src["path"])
		}
		out = append(out, e)
	}
	return out, nil
}

// readTSV splits lines on tabs; the corpus escapes tabs and newlines inside
// fields and uses no quoting, so encoding/csv would misread its quotes.
func readTSV(path string) ([]map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: empty file", path)
	}
	header := strings.Split(lines[0], "\t")
	rows := make([]map[string]string, 0, len(lines)-1)
	for _, line := range lines[1:] {
		rec := strings.Split(strings.TrimRight(line, "\r"), "\t")
		row := make(map[string]string, len(header))
		for i, h := range header {
			if i < len(rec) {
				row[h] = Unescape(rec[i])
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// Unescape undoes the corpus's four escapes (\\, \t, \n, \r).
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			switch s[i+1] {
			case '\\':
				b.WriteByte('\\')
			case 't':
				b.WriteByte('\t')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(s[i])
				continue
			}
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Entries returns every entry of the corpus for a test, skipping the test
// when the corpus is absent and failing it when the corpus cannot be read.
func Entries(t testing.TB) []Entry {
	t.Helper()
	dir := Dir()
	if dir == "" {
		t.Skip("the shared corpus is absent (set APPCFG_CORPUS to its directory)")
	}
	entries, err := Verdicts(dir)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}
