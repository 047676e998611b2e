package appconfig

import (
	"fmt"
	"github.com/appcfg/appcfg/internal/lazyre"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/appcfg/appcfg/internal/pyre"
	"github.com/appcfg/appcfg/internal/yaml11"
	"gopkg.in/yaml.v3"
)

// pyRegex is one of the SDK's attribute regexes, matched in full as
// validation.Regex does (re.match of ^(?:re)$, where $ also matches before
// a final newline). It is compiled on first use: there are dozens, and
// compiling them all at start-up would delay every command, not only the
// ones that check an app.yaml. Its fields are plain values, so each
// package-level pattern is laid out in the binary's data and package init
// allocates nothing for it (cmd/appcfg TestOwnPackagesInitAllocateLittle).
type pyRegex struct {
	re string // the SDK's pattern; for a bounded one, the character class
	// custom, when set, is the match implemented by hand (the SDK's
	// pattern has lookaheads, which Go's regexp lacks).
	custom func(string) bool
	// lo, hi and in: a bounded pattern, the class re repeated lo to hi
	// times, in testing one character against the class.
	lo, hi int
	in     func(rune) bool

	once     sync.Once
	compiled *pyre.Regexp
	err      error
}

// newRegex is an SDK pattern, read by internal/pyre as every Python pattern
// is (\d, \w and \s with their Unicode meanings, $ also before a final
// newline).
func newRegex(re string) *pyRegex { return &pyRegex{re: re} }

// newBoundedRegex is newRegex(class+"{lo,hi}") for a character class that
// does not match a newline, in testing one character against it, matched
// as Python does (a run of lo to hi characters of the class, $ also before
// a final newline) by counting the characters and testing each. Compiled
// whole, a Unicode class such as [\w.] repeated 32 times cost Go's regexp
// tens of milliseconds on every update of an app.yaml with an
// api_version; compiled as class+, still half a millisecond before
// ls_files could start its walk.
func newBoundedRegex(class string, lo, hi int, in func(rune) bool) *pyRegex {
	return &pyRegex{re: class, lo: lo, hi: hi, in: in}
}

// customRegex is an SDK regex with lookaheads, which Go's regexp lacks; the
// match function implements it by hand.
func customRegex(re string, match func(string) bool) *pyRegex {
	return &pyRegex{re: re, custom: match}
}

// shown is the pattern as the SDK prints it.
func (p *pyRegex) shown() string {
	if p.hi > 0 {
		return fmt.Sprintf("^(?:%s{%d,%d})$", p.re, p.lo, p.hi)
	}
	return "^(?:" + p.re + ")$"
}

// Match reports whether s matches the whole pattern, as validation.Regex
// does.
func (p *pyRegex) Match(s string) bool {
	switch {
	case p.custom != nil:
		// Python's $ also matches just before a trailing newline.
		return p.custom(s) || strings.HasSuffix(s, "\n") && p.custom(strings.TrimSuffix(s, "\n"))
	case p.hi > 0:
		s = strings.TrimSuffix(s, "\n")
		n := 0
		for _, r := range s {
			if !p.in(r) {
				return false
			}
			n++
		}
		return n >= p.lo && n <= p.hi
	}
	return p.regexp().MatchString(s)
}

// regexp compiles the pattern once; a bad pattern panics on every use, as
// lazyre's do.
func (p *pyRegex) regexp() *pyre.Regexp {
	p.once.Do(func() {
		p.compiled, p.err = pyre.Compile("^(?:"+p.re+")$", pyre.HoistGlobalFlags, "", "")
	})
	if p.err != nil {
		panic(fmt.Sprintf("appconfig: the SDK pattern %s: %v", p.shown(), p.err))
	}
	return p.compiled
}

var (
	reLowerDigitDash = lazyre.New(`^[a-z\p{Nd}-]*$`)
	reDomain         = lazyre.New(`^[a-z\p{Nd}.-]{1,100}$`)
)

// matchDisplayID is (?!-)[a-z\d\-]{0,max-1}[a-z\d].
func matchDisplayID(s string, max int) bool {
	return s != "" && utf8.RuneCountInString(s) <= max && s[0] != '-' && s[len(s)-1] != '-' && reLowerDigitDash.MatchString(s)
}

// matchApplicationID is APPLICATION_RE_STRING: an optional partition and
// '~', an optional domain and ':', then the display id. The three parts use
// disjoint separators, so the split is unique.
func matchApplicationID(s string) bool {
	if part, rest, ok := strings.Cut(s, "~"); ok {
		if part == "" || utf8.RuneCountInString(part) > 100 || !reLowerDigitDash.MatchString(part) {
			return false
		}
		s = rest
	}
	if dom, rest, ok := strings.Cut(s, ":"); ok {
		if dom == "" || dom[0] == '-' || !reDomain.MatchString(dom) {
			return false
		}
		s = rest
	}
	return matchDisplayID(s, 100)
}

// matchRuntime is RUNTIME_RE_STRING, (gs://[a-z0-9\-\._/]+)|([a-z][a-z0-9\-\.]{0,29}):
// an ASCII pattern, compiled for every app.yaml checked (half a
// millisecond, before ls_files or update could start its walk) to test
// one short name.
func matchRuntime(s string) bool {
	only := func(s, set string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte(set, c) >= 0) {
				return false
			}
		}
		return true
	}
	if rest, ok := strings.CutPrefix(s, "gs://"); ok {
		return rest != "" && only(rest, "-._/")
	}
	return s != "" && len(s) <= 30 && 'a' <= s[0] && s[0] <= 'z' && only(s[1:], "-.")
}

// matchURL is _URL_REGEX, (?!\^)/.*|\..*|(\(.).*(?!\$).
func matchURL(s string) bool {
	if strings.Contains(s, "\n") {
		return false
	}
	switch {
	case strings.HasPrefix(s, "/"), strings.HasPrefix(s, "."):
		return true
	case strings.HasPrefix(s, "("):
		return len([]rune(s)) >= 3 && !strings.HasSuffix(s, "$")
	}
	return false
}

// matchBackendFile is backendinfo's FILE_REGEX, (?!\^).*(?!\$).{1,256}.
func matchBackendFile(s string) bool {
	if s == "" || strings.HasPrefix(s, "^") || strings.Contains(s, "\n") {
		return false
	}
	rs := []rune(s)
	for p := len(rs) - 1; p >= 0 && len(rs)-p <= 256; p-- {
		if rs[p] != '$' {
			return true
		}
	}
	return false
}

// The SDK's attribute regexes.
var (
	reApplication = customRegex(`(?:[a-z\d\-]{1,100}\~)?(?:(?!\-)[a-z\d\-\.]{1,100}:)?(?!-)[a-z\d\-]{0,99}[a-z\d]`, matchApplicationID)
	reModuleID    = customRegex(`^(?!-)[a-z\d\-]{0,62}[a-z\d]$`, func(s string) bool { return matchDisplayID(s, 63) })
	reVersionID   = reModuleID
	reURL         = customRegex(`(?!\^)/.*|\..*|(\(.).*(?!\$).`, matchURL)
	reFiles       = newRegex(`.+`)
	reRuntime     = customRegex(`((gs://[a-z0-9\-\._/]+)|([a-z][a-z0-9\-\.]{0,29}))`, matchRuntime)
	reAPIVersion  = newBoundedRegex(`[\w.]`, 1, 32, func(r rune) bool { return pyre.IsWord(r) || r == '.' })
	reEnv         = newRegex(`(1|2|standard|flex|flexible)`)
	reSourceLang  = newBoundedRegex(`[\w.\-]`, 1, 32, func(r rune) bool { return pyre.IsWord(r) || r == '.' || r == '-' })
	reExpiration  = newRegex(`\s*(([0-9]+)([DdHhMm]|[sS]?))(\s+([0-9]+)([DdHhMm]|[sS]?))*\s*`)
	reService     = newRegex(`(mail|mail_bounce|xmpp_message|xmpp_subscribe|xmpp_presence|xmpp_error|channel_presence|rest|warmup)`)
	reIdle        = newRegex(`^([\d]+|automatic)$`)
	reInstances   = newRegex(`^[1-9][\d]*$`)
	reConcurrent  = newRegex(`^([1-9]\d*)$`)
	reLatency     = newRegex(`^(\d+((\.\d{1,3})?s|ms)|automatic)$`)
	reIdleTimeout = newRegex(`^[\d]+(s|m)$`)
	reNonWhite    = newRegex(`^\S+$`)
	reTargetType  = newRegex(`^(GAUGE|DELTA_PER_SECOND|DELTA_PER_MINUTE)$`)
	reGCEName     = newRegex(`^[a-z]([a-z\d-]{0,61}[a-z\d])?$`)
	reGCEPath     = newRegex(`^[a-z\d-]+(/[a-z\d-]+)*$`)
	reIPMode      = newRegex(`^(EXTERNAL|external|INTERNAL|internal)$`)
	reVPCName     = newRegex(`^[a-z\d-]+(/.+)*$`)
	rePorts       = newRegex(`[0-9]+(:[0-9]+)?(/(udp|tcp))?`)
	reEnvKey      = newRegex(`[a-zA-Z_][a-zA-Z0-9_]*`)
	reOS          = newRegex(`[a-z0-9]+`)
	reErrorCode   = newRegex(`(default|over_quota|dos_api_denial|timeout)`)
	rePageName    = newRegex(`^.+$`)
	reBackendName = customRegex(`(?!-)[a-z\d\-]{1,100}`, func(s string) bool {
		return s != "" && utf8.RuneCountInString(s) <= 100 && s[0] != '-' && reLowerDigitDash.MatchString(s)
	})
	reBackendFile    = customRegex(`(?!\^).*(?!\$).{1,256}`, matchBackendFile)
	reBackendClass   = newRegex(`^[bB](1|2|4|8|4_1G)$`)
	reBackendOptions = newRegex(`^[a-z, ]*$`)
	reBackendState   = newRegex(`^(START|STOP|DISABLED)$`)
)

// regexStr reads a RegexStr attribute (skip_files, nobuild_files): a
// string, or a list of strings the SDK joins with '|'; line breaks are
// dropped and the whole must compile.
func (c checker) regexStr(n *yaml.Node, key string) ([]string, []Pos) {
	var pats []string
	var poss []Pos
	switch n.Kind {
	case yaml.ScalarNode:
		s := yaml11.Resolve(n)
		if s.Kind == yaml11.Null {
			// RegexStr has a default but is not Optional: null replaces the
			// default and then counts as missing.
			c.r.Errorf(yaml11.NodePos(n), key, "Missing required value [%s].", key).
				Hint = "give a regular expression or remove the line"
			return nil, nil
		}
		pats, poss = []string{stripCRLF(s.PyStr())}, []Pos{yaml11.NodePos(n)}
	case yaml.SequenceNode:
		pats, poss = []string{}, []Pos{}
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode {
				c.r.Errorf(yaml11.NodePos(item), key, "each %s item should be a regular expression, not %s", key, nodeKind(item)).
					Hint = "write each pattern as a quoted string on its own '- ' line"
				continue
			}
			pats = append(pats, stripCRLF(yaml11.Resolve(item).PyStr()))
			poss = append(poss, yaml11.NodePos(item))
		}
	default:
		c.r.Errorf(yaml11.NodePos(n), key, "%s should be a regular expression or a list of them, not a mapping", key).
			Hint = "write each pattern on its own '- ' line"
		return nil, nil
	}
	joined := strings.Join(pats, "|")
	if err := pyRegexCompiles(joined); err != nil {
		pos := yaml11.NodePos(n)
		for i, p := range pats {
			if pyRegexCompiles(p) != nil {
				pos = poss[i]
				break
			}
		}
		c.r.Errorf(pos, key, "Value '%s' for %s does not compile: %v", joined, key, err).
			Hint = "fix the regular expression (Python syntax)"
	} else if note := pyRegexInexact(joined); note != "" {
		// Python compiles it and so does appcfg, but matches it a little
		// differently: a deliberate difference, hence a warning.
		pos := yaml11.NodePos(n)
		for i, p := range pats {
			if pyRegexInexact(p) != "" {
				pos = poss[i]
				break
			}
		}
		c.r.Warnf(pos, key, "%s is not matched exactly as Python matches it: %s", key, note).
			Hint = "for an exact match drop one of the two flags: spell out the cases ([kK]) or the ASCII classes ([0-9A-Za-z_] for \\w); --strict makes this an error"
	}
	return pats, poss
}

func stripCRLF(s string) string {
	return strings.NewReplacer("\n", "", "\r", "").Replace(s)
}

// pyRegexCompiles reports whether Python's re.compile accepts re, as the
// SDK asks of skip_files and nobuild_files, and whether ls_files and update
// can run it: one answer, from internal/pyre, for validate and deploy.
func pyRegexCompiles(re string) error {
	_, err := pyre.Compile(re, pyre.HoistGlobalFlags, `\A(?:`, `)`)
	return err
}

// pyRegexInexact says how appcfg's matching of re differs from Python's
// (internal/pyre's Inexact), "" when it does not or re does not compile.
func pyRegexInexact(re string) string {
	c, err := pyre.Compile(re, pyre.HoistGlobalFlags, `\A(?:`, `)`)
	if err != nil {
		return ""
	}
	return c.Inexact()
}
