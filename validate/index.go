package validate

import (
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/appcfg/appcfg/appconfig"
	"github.com/appcfg/appcfg/internal/yaml11"
)

// checkIndex checks index.yaml as datastore_index.ParseIndexDefinitions does.
func checkIndex(path string, data []byte, opts Options) FileResult {
	return checkCompanion(KindIndex, path, data, opts, appconfig.ParseIndex,
		func(c *checker, defs *appconfig.IndexDefinitions) (*appconfig.Meta, *string) {
			for _, ix := range defs.Indexes {
				if ix != nil {
					c.index(ix)
				}
			}
			return &defs.Meta, &defs.Application
		})
}

// checkCompanion parses a companion file and checks it: check checks the
// entries and gives the model's top mapping and application field, which
// every companion kind has and -A overrides.
func checkCompanion[T any](kind Kind, path string, data []byte, opts Options,
	parse func(string, []byte) (*T, []appconfig.Problem),
	check func(*checker, *T) (*appconfig.Meta, *string)) FileResult {
	model, probs := parse(path, data)
	c := newChecker(path, probs)
	if model == nil {
		return c.result(kind, nil)
	}
	meta, app := check(c, model)
	c.regex(meta, "application", *app, applicationPattern,
		"an application id is lowercase letters, digits and hyphens, optionally prefixed by 'domain:'")
	if opts.AppID != "" {
		*app = opts.AppID
	}
	return c.result(kind, model)
}

var (
	directions = options{"asc": "asc", "ascending": "asc", "desc": "desc", "descending": "desc"}
	modes      = options{"geospatial": "geospatial"}
)

func (c *checker) index(ix *appconfig.Index) {
	m := &ix.Meta
	c.required(m, "kind")
	if m.IsNull("ancestor") {
		// ancestor defaults to false only when absent; an explicit null
		// leaves it unset, which the SDK refuses.
		c.r.Errorf(m.KeyAt("ancestor"), m.Field("ancestor"), "Missing required value [ancestor].").
			Hint = "write ancestor: true or ancestor: false, or remove the key"
	}
	geo := ix.IsGeospatial()
	vectors := 0
	for i := range ix.Properties {
		p := &ix.Properties[i]
		pm := &p.Meta
		c.required(pm, "name")
		set := 0
		for _, k := range []string{"direction", "mode", "vectorConfig"} {
			if given(pm, k) {
				set++
			}
		}
		if set > 1 {
			c.r.Errorf(pm.Pos, pm.Path, "direction, mode, and vectorConfig are mutually exclusive").
				Hint = "keep only one of them for this property"
		}
		if given(pm, "direction") {
			if p.Direction != "asc" && p.Direction != "desc" {
				c.option(pm, "direction", p.Direction, directions).Hint = "use asc or desc"
			} else if geo && set == 1 {
				c.r.Errorf(pm.At("direction"), pm.Field("direction"), "direction not supported in a geospatial index").
					Hint = "remove direction from the properties of an index with a geospatial property"
			}
		}
		if given(pm, "mode") && p.Mode != "geospatial" {
			c.option(pm, "mode", p.Mode, modes).Hint = "the only mode is geospatial"
		}
		if vc := p.VectorConfig; vc != nil {
			c.required(&vc.Meta, "dimension")
			c.required(&vc.Meta, "flat")
			if !geo {
				vectors++
				if vectors == 2 {
					c.r.Errorf(pm.At("vectorConfig"), pm.Field("vectorConfig"), "only one vector property is allowed").
						Hint = "an index may have a single vectorConfig property"
				}
			}
		}
	}
}

// checker collects the problems of one companion file.
type checker struct {
	r *yaml11.Report
}

func newChecker(path string, probs []appconfig.Problem) *checker {
	return &checker{r: &yaml11.Report{File: path, Problems: probs}}
}

// result is the file's outcome; cfg is nil when the file could not be read.
func (c *checker) result(kind Kind, cfg any) FileResult {
	c.r.Sort()
	return FileResult{Path: c.r.File, Kind: kind, Problems: c.r.Problems, Config: cfg}
}

// given reports whether key has a non-null value: the SDK leaves a null
// field unset, so only given values are checked.
func given(m *appconfig.Meta, key string) bool { return m.Has(key) && !m.IsNull(key) }

// required reports a missing or null required field, at its mapping.
func (c *checker) required(m *appconfig.Meta, key string) bool {
	if given(m, key) {
		return true
	}
	pos := m.Pos
	if m.Has(key) {
		pos = m.KeyAt(key) // a null value has no text of its own to point at
	}
	c.r.Errorf(pos, m.Field(key), "Missing required value [%s].", key).
		Hint = fmt.Sprintf("add %s: to this entry", key)
	return false
}

// pattern is one of the SDK's regular expressions, with an RE2 equivalent
// (RE2 has no look-ahead, so (?!-)X patterns are rewritten by hand).
type pattern struct {
	py string // the SDK's expression, as its messages quote it
	re func() *regexp.Regexp
}

// sdkPattern builds the full-match check the SDK's Regex validator makes:
// it compiles '^(?:<re>)$'.
func sdkPattern(py, re2 string) pattern {
	// Compiled on first use, so commands that never check an index file
	// do not pay for it at start-up.
	return pattern{py: "^(?:" + py + ")$", re: sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile("^(?:" + re2 + ")$")
	})}
}

// match is a full match with Python's '$', which also matches before a
// final newline (a YAML block scalar ends with one).
func (p pattern) match(s string) bool {
	re := p.re()
	return re.MatchString(s) || strings.HasSuffix(s, "\n") && re.MatchString(strings.TrimSuffix(s, "\n"))
}

// regex checks a given string field against pattern p.
func (c *checker) regex(m *appconfig.Meta, key, value string, p pattern, hint string) {
	if !given(m, key) || p.match(value) {
		return
	}
	c.r.Errorf(m.At(key), m.Field(key), "Value '%s' for %s does not match expression '%s'", value, key, p.py).Hint = hint
}

// options is an SDK Options validator: the allowed values and what each
// alias stands for.
type options map[string]string

// String lists the allowed values with their aliases, as every options
// message shows them (appconfig.ShowOptions).
func (o options) String() string {
	byCanon := map[string][]string{}
	var canons []string
	for alias, canon := range o {
		if _, ok := byCanon[canon]; !ok {
			canons = append(canons, canon)
			byCanon[canon] = []string{}
		}
		if alias != canon {
			byCanon[canon] = append(byCanon[canon], alias)
		}
	}
	sort.Strings(canons)
	groups := make([][]string, len(canons))
	for i, c := range canons {
		sort.Strings(byCanon[c])
		groups[i] = append([]string{c}, byCanon[c]...)
	}
	return appconfig.ShowOptions(groups...)
}

func (c *checker) option(m *appconfig.Meta, key, value string, o options) *appconfig.Problem {
	return c.r.Errorf(m.At(key), m.Field(key), "Value '%s' for %s not in %s.", value, key, o)
}

// The application id every companion file may carry (appinfo.APPLICATION_RE_STRING).
var applicationPattern = sdkPattern(
	`(?:[a-z\d\-]{1,100}\~)?(?:(?!\-)[a-z\d\-\.]{1,100}:)?(?!-)[a-z\d\-]{0,99}[a-z\d]`,
	`(?:[a-z\d\-]{1,100}~)?(?:[a-z\d\.][a-z\d\-\.]{0,99}:)?(?:[a-z\d]|[a-z\d][a-z\d\-]{0,98}[a-z\d])`)

// intAtLeast checks a count that may not be negative (Range(0, …) in the
// SDK); bounded says the SDK also gives a maximum, which changes its wording.
func (c *checker) intAtLeast(m *appconfig.Meta, key string, v *int64, bounded bool) {
	if v == nil || *v >= 0 {
		return
	}
	p := c.r.Errorf(m.At(key), m.Field(key), "Value '%d' for %s less than 0", *v, key)
	if bounded {
		p.Message = fmt.Sprintf("Value '%d' for %s is out of range 0 - %d", *v, key, int64(math.MaxInt64))
	}
	p.Hint = "give 0 or a positive whole number"
}

// floatAtLeast checks a number of seconds that may not be negative.
func (c *checker) floatAtLeast(m *appconfig.Meta, key string, v *float64) {
	if v != nil && *v < 0 {
		c.r.Errorf(m.At(key), m.Field(key), "Value '%s' for %s less than 0.0", yaml11.PyFloat(*v), key).
			Hint = "give 0 or a positive number of seconds"
	}
}

// timeValue checks a duration such as 1h or 3.5d (validation.TimeValue),
// read by appconfig.ParseTimeValue.
func (c *checker) timeValue(m *appconfig.Meta, key, v string) {
	if !given(m, key) || !c.isText(m, key) {
		return
	}
	const hint = "write a number followed by a unit, such as 30s, 10m, 2h or 1.5d"
	pos, field := m.At(key), m.Field(key)
	_, fault := appconfig.ParseTimeValue(v)
	switch fault {
	case appconfig.TimeValueEmpty:
		c.r.Errorf(pos, field, "Value for %s is empty (%s)", key, appconfig.TimeValueSyntax).Hint = hint
	case appconfig.TimeValueNoUnit:
		c.r.Errorf(pos, field, "Value '%s' for %s must end with a time unit, one of s (seconds), m (minutes), h (hours), or d (days)", v, key).Hint = hint
	case appconfig.TimeValueNotFloat:
		c.r.Errorf(pos, field, "Value '%s' for %s is not a valid time value (%s)", v, key, appconfig.TimeValueSyntax).Hint = hint
	case appconfig.TimeValueNegative:
		c.r.Errorf(pos, field, "Value '%s' for %s is negative (%s)", v, key, appconfig.TimeValueSyntax).Hint = hint
	}
}
