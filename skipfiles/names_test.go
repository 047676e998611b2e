package skipfiles

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/internal/human"
)

// legacyNameChecks are appcfg.py's name regexes as written; invalidName
// spells them out as string tests and must agree with them (its messages
// quote a name holding control characters, as all human output does).
var legacyNameChecks = []struct {
	re   *regexp.Regexp
	bad  bool
	text string
}{
	{regexp.MustCompile(`^.{1,256}$`), false, "Invalid character in filename: "},
	{regexp.MustCompile(`\.\.|^\./|\.$|/\./|^-|^_ah/|^/`), true, `Filename cannot contain "." or ".." or start with "-" or "_ah/": `},
	{regexp.MustCompile(`//|/$`), true, "Filename cannot have trailing / or contain //: "},
	{regexp.MustCompile("^ | $|/ | /|\r|\n"), true, "Any spaces must be in the middle of a filename: "},
}

func legacyInvalidName(rel string) string {
	for _, c := range legacyNameChecks {
		if c.re.MatchString(rel) == c.bad {
			return c.text + human.Path(rel)
		}
	}
	return ""
}

func TestInvalidNameMatchesLegacyRegexes(t *testing.T) {
	names := []string{"a", "main.py", "static/css/a.css", "", strings.Repeat("x", 256), strings.Repeat("x", 257),
		strings.Repeat("é", 256), "a..b", "./a", "a.", "a/./b", "-a", "_ah/x", "/a", "a//b", "a/", " a", "a ",
		"a/ b", "a /b", "a\rb", "a\nb", "a b", "_ah", "x/_ah/y", "a.b.", "..", "."}
	rng := rand.New(rand.NewPCG(7, 9))
	alphabet := []rune("ab./ -_\r\nhé")
	for range 20000 {
		n := rng.IntN(8)
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[rng.IntN(len(alphabet))])
		}
		names = append(names, b.String())
	}
	for _, name := range names {
		if got, want := invalidName(name), legacyInvalidName(name); got != want {
			t.Fatalf("invalidName(%q) = %q, the legacy regexes say %q", name, got, want)
		}
	}
}
