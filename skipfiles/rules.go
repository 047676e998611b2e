package skipfiles

import (
	"errors"
	"fmt"
	"strings"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/internal/appfile"
	"github.com/appcfg/appcfg/internal/pyre"
)

// DefaultSkipFilesFlex is gcloud's default for the flexible environment
// (yaml_parsing.DEFAULT_SKIP_FILES_FLEX), which uploads dot-files except .git.
var DefaultSkipFilesFlex = []string{
	`^(.*/)?#.*#$`,
	`^(.*/)?.*~$`,
	`^(.*/)?.*\.py[co]$`,
	`^(.*/)?.*/RCS/.*$`,
	`^(.*/)?.git(ignore|/.*)$`,
	`^(.*/)?node_modules/.*$`,
}

// Rule kinds, for Rule.Kind.
const (
	KindSkipFiles        = "skip_files"
	KindDefaultSkipFiles = "default skip_files"
	KindIgnoreFile       = "ignore file"
	KindDefaultIgnore    = "default ignore file"
	KindBuiltin          = "built-in check"
)

// Rule is one pattern that decided a path, with where it is written
// (the type is appfile's, which upload shares: see File).
type Rule = appfile.Rule

// regexRules is a compiled skip_files list: one joined regexp, as the SDK
// matches, plus each item alone to tell which one matched. An empty list
// has no regexp at all and skips nothing.
type regexRules struct {
	all   *pyre.Regexp // nil for an empty list
	items []*pyre.Regexp
	rules []Rule
	// kind and source say where the list comes from (the rules' Kind and
	// File), also when it is empty.
	kind, source string
}

// compileSkipFiles builds the matcher for a skip_files list. Items lose their
// "\n" and "\r" and are joined with "|" without grouping, exactly as the
// SDK does; a nil list means the SDK default.
func compileSkipFiles(patterns []string, source string, pos []Pos, flex bool) (*regexRules, []Problem) {
	kind := KindSkipFiles
	if patterns == nil {
		kind, source, pos = KindDefaultSkipFiles, "", nil
		patterns = []string{appconfig.DefaultSkipFiles}
		if flex {
			patterns = DefaultSkipFilesFlex
		}
	}
	r := &regexRules{kind: kind, source: source}
	if len(patterns) == 0 {
		// "skip_files: []": the SDK joins the empty list into the pattern
		// "", which matches every path, and uploads nothing; a user who
		// writes an empty list means "skip nothing" (Walk warns).
		return r, nil
	}
	var probs []Problem
	cleaned := make([]string, len(patterns))
	for i, p := range patterns {
		cleaned[i] = strings.NewReplacer("\n", "", "\r", "").Replace(p)
		rule := Rule{Kind: kind, File: source, Pattern: cleaned[i]}
		if i < len(pos) {
			rule.Line, rule.Column = pos[i].Line, pos[i].Column
		}
		r.rules = append(r.rules, rule)
		m, err := compileMatcher(cleaned[i])
		if err != nil {
			probs = append(probs, patternProblem(rule, err))
		}
		if m != nil {
			r.items = append(r.items, m)
		}
	}
	if len(probs) > 0 {
		return nil, probs
	}
	if len(r.items) == 1 {
		// One pattern (the SDK's default is one): joined, it is itself, so
		// it is compiled once (half a millisecond before every walk).
		r.all = r.items[0]
		return r, nil
	}
	all, err := compileMatcher(strings.Join(cleaned, "|"))
	if err != nil {
		// Each item compiles alone but not joined: name the first one.
		bad := r.rules[0]
		bad.Pattern = strings.Join(cleaned, "|")
		return nil, []Problem{patternProblem(bad, err)}
	}
	r.all = all
	return r, nil
}

// compileMatcher compiles a Python pattern for re.match semantics
// (anchored at the start only), through internal/pyre as every caller does.
func compileMatcher(pattern string) (*pyre.Regexp, error) {
	return pyre.Compile(pattern, pyre.HoistGlobalFlags, `\A(?:`, `)`)
}

func patternProblem(rule Rule, err error) Problem {
	file := rule.File
	if file == "" {
		file = "skip_files"
	}
	hint := "fix the regular expression; skip_files items are Python regular expressions matched against the path from the app root"
	var ue *pyre.UnsupportedError
	if errors.As(err, &ue) {
		hint = "neither Go's regular expressions nor the backtracking engine can run this construct; express the rule with plain alternatives and character classes, or list the paths explicitly"
	}
	return Problem{
		Kind: ProblemPattern, File: file, Line: rule.Line, Column: rule.Column,
		Message: fmt.Sprintf("Value '%s' for skip_files does not compile: %v", rule.Pattern, err),
		Hint:    hint,
	}
}

// match reports whether rel is skipped and by which item.
func (r *regexRules) match(rel string) (bool, *Rule) {
	if r.all == nil || !r.all.MatchString(rel) {
		return false, nil
	}
	if len(r.items) == 1 {
		rule := r.rules[0] // r.all is the one item: no second match
		return true, &rule
	}
	for i, re := range r.items {
		if re.MatchString(rel) {
			rule := r.rules[i]
			return true, &rule
		}
	}
	// Matched only through the joined form (items that are not whole
	// expressions alone): blame the list.
	rule := r.rules[0]
	return true, &rule
}
