package lazyre

import (
	"regexp"
	"strconv"
	"sync"
)

// Regexp is a pattern compiled by the first call of any of its methods; it
// is safe for concurrent use, as regexp.Regexp is. Its fields are plain
// values so that a package-level `var re = lazyre.New(...)` is laid out by
// the compiler in the binary's data: package init allocates and writes
// nothing for it (a sync.OnceValue closure cost seven allocations per
// pattern at every start; cmd/appcfg TestOwnPackagesInitAllocateLittle).
type Regexp struct {
	pattern string
	once    sync.Once
	re      *regexp.Regexp
	err     error
}

// New is regexp.MustCompile, deferred: a bad pattern panics on first use,
// and on every use after (a test that runs the pattern finds it, as it
// would find it at start).
func New(pattern string) *Regexp {
	return &Regexp{pattern: pattern}
}

func (r *Regexp) get() *regexp.Regexp {
	r.once.Do(r.compile)
	if r.err != nil {
		panic(`regexp: Compile(` + strconv.Quote(r.pattern) + `): ` + r.err.Error())
	}
	return r.re
}

func (r *Regexp) compile() { r.re, r.err = regexp.Compile(r.pattern) }

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
