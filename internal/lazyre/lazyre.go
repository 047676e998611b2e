package lazyre

import (
	"regexp"
	"sync"
)

// Regexp is a pattern compiled by the first call of any of its methods; it
// is safe for concurrent use, as regexp.Regexp is.
type Regexp struct {
	get func() *regexp.Regexp
}

// New is regexp.MustCompile, deferred: a bad pattern panics on first use
// (a test that runs the pattern finds it, as it would find it at start).
func New(pattern string) *Regexp {
	return &Regexp{get: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })}
}

// Regexp returns the compiled pattern.
func (r *Regexp) Regexp() *regexp.Regexp { return r.get() }

// The methods of regexp.Regexp the module uses.

func (r *Regexp) String() string                             { return r.get().String() }
func (r *Regexp) MatchString(s string) bool                  { return r.get().MatchString(s) }
func (r *Regexp) Match(b []byte) bool                        { return r.get().Match(b) }
func (r *Regexp) FindString(s string) string                 { return r.get().FindString(s) }
func (r *Regexp) Find(b []byte) []byte                       { return r.get().Find(b) }
func (r *Regexp) FindStringIndex(s string) []int             { return r.get().FindStringIndex(s) }
func (r *Regexp) FindIndex(b []byte) []int                   { return r.get().FindIndex(b) }
func (r *Regexp) FindStringSubmatch(s string) []string       { return r.get().FindStringSubmatch(s) }
func (r *Regexp) FindStringSubmatchIndex(s string) []int     { return r.get().FindStringSubmatchIndex(s) }
func (r *Regexp) FindSubmatchIndex(b []byte) []int           { return r.get().FindSubmatchIndex(b) }
func (r *Regexp) FindSubmatch(b []byte) [][]byte             { return r.get().FindSubmatch(b) }
func (r *Regexp) FindAllIndex(b []byte, n int) [][]int       { return r.get().FindAllIndex(b, n) }
func (r *Regexp) FindAllString(s string, n int) []string     { return r.get().FindAllString(s, n) }
func (r *Regexp) FindAllStringIndex(s string, n int) [][]int { return r.get().FindAllStringIndex(s, n) }
func (r *Regexp) FindAllStringSubmatch(s string, n int) [][]string {
	return r.get().FindAllStringSubmatch(s, n)
}
func (r *Regexp) FindAllStringSubmatchIndex(s string, n int) [][]int {
	return r.get().FindAllStringSubmatchIndex(s, n)
}
func (r *Regexp) ReplaceAllString(src, repl string) string {
	return r.get().ReplaceAllString(src, repl)
}
func (r *Regexp) ReplaceAllStringFunc(src string, repl func(string) string) string {
	return r.get().ReplaceAllStringFunc(src, repl)
}
func (r *Regexp) SubexpIndex(name string) int { return r.get().SubexpIndex(name) }
func (r *Regexp) SubexpNames() []string       { return r.get().SubexpNames() }
func (r *Regexp) NumSubexp() int              { return r.get().NumSubexp() }
