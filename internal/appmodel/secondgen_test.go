package appmodel

import (
	"regexp"
	"testing"

	"github.com/appcfg/appcfg/internal/strgen"
)

// TestSecondGenFamilyIsGcloudsList: SecondGenFamily answers as gcloud's
// expressions, matched at the start of the runtime (re.match), on every
// runtime name App Engine has had and on each family's prefix, cut short
// or followed by up to three characters of digits, letters and
// punctuation.
func TestSecondGenFamilyIsGcloudsList(t *testing.T) {
	families := []struct {
		name string
		re   *regexp.Regexp
	}{
		{"nodejs", regexp.MustCompile(`^nodejs\d*`)},
		{"php", regexp.MustCompile(`^php[789]\d*`)},
		{"python3", regexp.MustCompile(`^python3\d*`)},
		{"go", regexp.MustCompile(`^go1\d\d(\w+\d)?`)},
		{"java", regexp.MustCompile(`^java[123456]\d*`)},
	}
	want := func(rt string) string {
		for _, f := range families {
			if f.re.MatchString(rt) {
				return f.name
			}
		}
		return ""
	}
	inputs := []string{"", "python27", "python37", "python312", "php55", "php72", "php83", "go111", "go122", "go1",
		"go1.22", "go", "java8", "java11", "java21", "java7", "nodejs", "nodejs22", "ruby32", "custom", "vm",
		"Python37", " nodejs", "gs://bucket/runtime", "php", "java", "javascript"}
	const tail = "0123456789ax_.-/ "
	inputs = append(inputs, strgen.Extend([]string{"", "n", "nodej", "nodejs", "p", "ph", "php", "python", "python3", "pythön3", "g", "go",
		"go1", "go12", "j", "jav", "java", "NODEJS", "Go1"}, tail)...)
	for _, rt := range inputs {
		if got, w := SecondGenFamily(rt), want(rt); got != w {
			t.Errorf("SecondGenFamily(%q) = %q, gcloud's expressions say %q", rt, got, w)
		}
	}
}
