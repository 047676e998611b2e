package skipfiles

import (
	"errors"
	"fmt"
	"github.com/appcfg/appcfg/internal/lazyre"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/appcfg/appcfg/internal/appmodel"
	"github.com/appcfg/appcfg/internal/human"
)

// IgnoreFileName is the ignore file gcloud reads at the top of an app.
const IgnoreFileName = ".gcloudignore"

// defaultIgnoreFile is gcloudignore.DEFAULT_IGNORE_FILE.
const defaultIgnoreFile = `# This file specifies files that are *not* uploaded to Google Cloud
# using gcloud. It follows the same syntax as .gitignore, with the addition of
# "#!include" directives (which insert the entries of the given .gitignore-style
# file at that point).
#
# For more information, run:
#   $ gcloud topic gcloudignore
#
.gcloudignore
# If you would like to upload your .git directory, .gitignore file or files
# from your .gitignore file, remove the corresponding line
# below:
.git
.gitignore
`

// secondGenExtra is the end of the default ignore file gcloud writes for
// each second-generation runtime family (appmodel.SecondGenFamily; the
// families of source_files_util._GCLOUDIGNORE_REGISTRY).
var secondGenExtra = map[string]string{
	"nodejs":  "# Node.js dependencies:\nnode_modules/",
	"php":     "# PHP Composer dependencies:\n/vendor/",
	"python3": "# Python pycache:\n__pycache__/\n# Ignored by the build system\n/setup.cfg",
	"go": "# Binaries for programs and plugins\n*.exe\n*.exe~\n*.dll\n*.so\n*.dylib\n" +
		"# Test binary, build with `go test -c`\n*.test\n# Output of the go coverage tool, specifically when used with LiteIDE\n*.out",
	"java": "# Target directory for maven builds\ntarget/",
}

// SecondGen reports whether gcloud refuses skip_files for this runtime and
// environment and uses only an ignore file, and gives the default ignore
// file it would generate.
func SecondGen(runtime, env string) (defaultIgnore string, ok bool) {
	if isFlex(env) {
		return "", false
	}
	if f := appmodel.SecondGenFamily(runtime); f != "" {
		// gcloud joins DEFAULT_IGNORE_FILE and the extra lines with "\n".
		return defaultIgnoreFile + "\n" + secondGenExtra[f], true
	}
	return "", false
}

func isFlex(env string) bool {
	return env == "flex" || env == "flexible" || env == "2"
}

// ignorePattern is one line of an ignore file, as gcloud's glob.Glob.
type ignorePattern struct {
	parts     []globPart // the pattern split on "/"
	negated   bool
	mustBeDir bool
	rule      Rule
}

// globPart is one "/"-separated part of a pattern: as written, and as a
// doublestar pattern with Python fnmatch's meaning.
type globPart struct{ raw, glob string }

// ignoreRules is a parsed ignore file with its includes.
type ignoreRules struct {
	pats []ignorePattern
}

// BadIgnoreFileError reports an ignore file, or a file it includes, that
// cannot be used.
type BadIgnoreFileError struct {
	File string
	Line int
	Msg  string
}

func (e *BadIgnoreFileError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:1: %s", human.Path(e.File), e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", human.Path(e.File), e.Msg)
}

// parseIgnoreFile reads an ignore file; includes are honoured only in it,
// not in the files it includes (gcloud's recurse=1).
func parseIgnoreFile(file string, kind string) (*ignoreRules, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pats, err := parseIgnore(file, string(data), filepath.Dir(file), 1, kind)
	if err != nil {
		return nil, err
	}
	return &ignoreRules{pats: pats}, nil
}

const includeDirective = "!include:"

// parseIgnore follows gcloudignore.FileChooser.FromString line by line.
func parseIgnore(file, text, dir string, recurse int, kind string) ([]ignorePattern, error) {
	var pats []ignorePattern
	for i, line := range splitLines(text) {
		lineNo := i + 1
		if strings.HasPrefix(line, "#") {
			if !strings.HasPrefix(strings.TrimLeft(line[1:], " \t\v\f\r"), includeDirective) {
				continue
			}
			inc := line[strings.Index(line, includeDirective)+len(includeDirective):]
			if strings.Contains(inc, "/") {
				return nil, &BadIgnoreFileError{File: file, Line: lineNo,
					Msg: fmt.Sprintf("#!include:%s: may only include files in the same directory; move the file beside %s", human.Path(inc), human.Path(filepath.Base(file)))}
			}
			if recurse == 0 {
				continue // gcloud ignores includes inside included files
			}
			incPath := filepath.Join(dir, inc)
			data, err := os.ReadFile(incPath)
			if err != nil {
				return nil, &BadIgnoreFileError{File: file, Line: lineNo,
					Msg: fmt.Sprintf("could not read included file %s: %v; create it or remove the #!include line", human.Path(incPath), unwrapPath(err))}
			}
			sub, err := parseIgnore(incPath, string(data), dir, recurse-1, kind)
			if err != nil {
				return nil, err
			}
			pats = append(pats, sub...)
			continue
		}
		if p, ok := parseIgnoreLine(line); ok {
			p.rule = Rule{Kind: kind, File: file, Line: lineNo, Column: 1, Pattern: line, Negated: p.negated}
			pats = append(pats, p)
		}
	}
	return pats, nil
}

// splitLines splits as Python's str.splitlines on the separators that occur
// in text files.
func splitLines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	lines := strings.Split(text, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

var (
	oddBackslashes = lazyre.New(`(?:^|[^\\])\\(?:\\\\)*$`)
	escapedChar    = lazyre.New(`\\([^\\])`)
)

// parseIgnoreLine follows Pattern.FromString and glob.Glob.FromString;
// invalid lines are ignored, as gcloud ignores them.
func parseIgnoreLine(line string) (ignorePattern, bool) {
	var p ignorePattern
	if strings.HasPrefix(line, "!") {
		line, p.negated = line[1:], true
	}
	if strings.HasSuffix(line, "/") {
		line, p.mustBeDir = line[:len(line)-1], true
	}
	line = handleSpaces(line)
	if oddBackslashes.MatchString(line) {
		return p, false
	}
	line = strings.ReplaceAll(escapedChar.ReplaceAllString(line, "$1"), `\\`, `\`)
	if line == "" {
		return p, false
	}
	for _, part := range strings.Split(line, "/") {
		p.parts = append(p.parts, globPart{raw: part, glob: fnmatchToDoublestar(part)})
	}
	return p, true
}

// handleSpaces strips unescaped trailing spaces and unescapes "\ ".
func handleSpaces(line string) string {
	var toks []string
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' && i+1 < len(line) {
			toks = append(toks, line[i:i+2])
			i++
			continue
		}
		toks = append(toks, line[i:i+1])
	}
	end := len(toks)
	for end > 0 && toks[end-1] == " " {
		end--
	}
	return strings.ReplaceAll(strings.Join(toks[:end], ""), `\ `, " ")
}

// fnmatchToDoublestar rewrites one path component of a Python fnmatch
// pattern for doublestar.Match: "{", "}" and "\" are literal in fnmatch,
// "[^" means "^" or ..., and an unclosed "[" is literal.
func fnmatchToDoublestar(pat string) string {
	var b strings.Builder
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		switch c {
		case '\\', '{', '}':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '[':
			j := i + 1
			if j < len(pat) && pat[j] == '!' {
				j++
			}
			if j < len(pat) && pat[j] == ']' {
				j++
			}
			for j < len(pat) && pat[j] != ']' {
				j++
			}
			if j >= len(pat) {
				b.WriteString(`\[`)
				continue
			}
			b.WriteByte('[')
			k := i + 1
			if pat[k] == '!' {
				b.WriteByte('!')
				k++
			} else if pat[k] == '^' {
				b.WriteString(`\^`)
				k++
			}
			for first := true; k < j; k++ {
				switch {
				case pat[k] == ']' && first:
					b.WriteString(`\]`)
				case pat[k] == '\\' || pat[k] == '[' || pat[k] == '{' || pat[k] == '}':
					b.WriteByte('\\')
					b.WriteByte(pat[k])
				default:
					b.WriteByte(pat[k])
				}
				first = false
			}
			b.WriteByte(']')
			i = j
		default:
			b.WriteByte(c)
		}
	}
	out := b.String()
	if !doublestar.ValidatePattern(out) {
		return escapeAllGlob(pat)
	}
	return out
}

func escapeAllGlob(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`\*?[]{}`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// matches is glob.Glob.Matches.
func (p *ignorePattern) matches(rel string, isDir bool) bool {
	if p.mustBeDir && !isDir {
		return false
	}
	return matchParts(p.parts, rel, false)
}

// matchParts is glob.Glob._MatchesHelper: right to left, the last part of
// the pattern must match the last part of the path, and the rest the rest.
// pathNone stands for Python's None (nothing left, not even the root).
func matchParts(parts []globPart, rel string, pathNone bool) bool {
	if len(parts) == 0 {
		return true
	}
	if pathNone {
		return false
	}
	part, rest := parts[len(parts)-1], parts[:len(parts)-1]
	remaining, last := splitPath(rel)
	remNone := last == ""
	if part.raw == "**" {
		// "**" matches whole-path prefixes only: an implicit leading "/".
		if len(rest) == 0 || rest[0].raw != "" {
			rest = append([]globPart{{}}, rest...)
		}
		for _, pre := range pathPrefixes(rel) {
			if matchParts(rest, pre, false) {
				return true
			}
		}
		return false
	}
	if part.raw == "*" && len(rest) == 0 && !remNone && len(remaining) > 1 {
		// gcloud's guard against "*" spanning directories; it lets "*"
		// match "a/x" but not "ab/x", which only matters after a "!"
		// re-included the directory. Kept for exact agreement.
		return false
	}
	if !fnmatch(part.glob, last) {
		return false
	}
	return matchParts(rest, remaining, remNone)
}

func fnmatch(glob, name string) bool {
	if glob == "" {
		return name == ""
	}
	ok, err := doublestar.Match(glob, name)
	return err == nil && ok
}

// splitPath is os.path.split for clean relative slash paths.
func splitPath(p string) (head, tail string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// pathPrefixes is glob.GetPathPrefixes: "a/b" gives "", "a", "a/b".
func pathPrefixes(p string) []string {
	out := []string{p}
	for p != "" {
		head, tail := splitPath(p)
		if tail == "" {
			break
		}
		out = append([]string{head}, out...)
		p = head
	}
	return out
}

// match gives the last pattern matching rel itself: gcloud's verdict for
// one path prefix. Callers have already checked the parent directories.
func (r *ignoreRules) match(rel string, isDir bool) (skip bool, rule *Rule) {
	for i := range r.pats {
		p := &r.pats[i]
		if p.matches(rel, isDir) {
			skip, rule = !p.negated, &p.rule
		}
	}
	return skip, rule
}

// explain walks every prefix of rel as gcloud's FileChooser.IsIncluded does.
func (r *ignoreRules) explain(rel string, isDir bool) (skip bool, via string, rule *Rule) {
	var kept *Rule
	prefixes := pathPrefixes(rel)[1:]
	for _, pre := range prefixes {
		s, ru := r.match(pre, pre != rel || isDir)
		if s {
			return true, pre, ru
		}
		if pre == rel {
			kept = ru
		}
	}
	return false, "", kept
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
