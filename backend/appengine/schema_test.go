package appengine

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// A validator of request bodies and query parameters against Google's
// discovery documents (testdata/discovery, see testdata/README.md).

type dschema struct {
	Ref                  string              `json:"$ref"`
	Type                 string              `json:"type"`
	Format               string              `json:"format"`
	Properties           map[string]*dschema `json:"properties"`
	Items                *dschema            `json:"items"`
	AdditionalProperties *dschema            `json:"additionalProperties"`
	Enum                 []string            `json:"enum"`
	ReadOnly             bool                `json:"readOnly"`
}

type dmethod struct {
	ID         string              `json:"id"`
	HTTPMethod string              `json:"httpMethod"`
	FlatPath   string              `json:"flatPath"`
	Path       string              `json:"path"`
	Parameters map[string]*dschema `json:"parameters"`
	Request    *dschema            `json:"request"`
	re         *regexp.Regexp
}

type dresource struct {
	Methods   map[string]*dmethod   `json:"methods"`
	Resources map[string]*dresource `json:"resources"`
}

type discovery struct {
	Name      string                `json:"name"`
	Revision  string                `json:"revision"`
	Schemas   map[string]*dschema   `json:"schemas"`
	Resources map[string]*dresource `json:"resources"`
	methods   []*dmethod
}

// Query parameters every Google API accepts (the discovery "parameters").
var standardParams = map[string]bool{"alt": true, "fields": true, "key": true, "oauth_token": true,
	"prettyPrint": true, "quotaUser": true, "upload_protocol": true, "uploadType": true, "$.xgafv": true,
	"access_token": true, "callback": true}

func loadDiscovery(t testing.TB, name string) *discovery {
	t.Helper()
	data, err := os.ReadFile("testdata/discovery/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var d discovery
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("discovery %s: %v", name, err)
	}
	var walk func(r map[string]*dresource)
	walk = func(rs map[string]*dresource) {
		for _, r := range rs {
			for _, m := range r.Methods {
				p := m.FlatPath
				if p == "" {
					p = m.Path
				}
				pat := regexp.QuoteMeta(p)
				pat = regexp.MustCompile(`\\\{[^}]*\}`).ReplaceAllString(pat, `[^/]+`)
				pat = strings.ReplaceAll(pat, `\{\+`, "") // never in flat paths
				m.re = regexp.MustCompile("^" + pat + "$")
				d.methods = append(d.methods, m)
			}
			walk(r.Resources)
		}
	}
	walk(d.Resources)
	return &d
}

// method finds the API method of an HTTP method and path ("v1/apps/p").
func (d *discovery) method(httpMethod, path string) *dmethod {
	// A custom method (apps/{appsId}:listRuntimes) also matches its
	// resource's get, whose {appsId} takes "p:listRuntimes": the one
	// with the most literal text wins.
	var best *dmethod
	for _, m := range d.methods {
		if m.HTTPMethod == httpMethod && m.re.MatchString(path) && (best == nil || len(m.re.String()) > len(best.re.String())) {
			best = m
		}
	}
	return best
}

// checkRequest validates the query parameter names and the body.
func (d *discovery) checkRequest(httpMethod, path string, query map[string][]string, body []byte) (*dmethod, []string) {
	m := d.method(httpMethod, path)
	if m == nil {
		return nil, []string{fmt.Sprintf("%s %s matches no method of the %s discovery document", httpMethod, path, d.Name)}
	}
	var probs []string
	for k := range query {
		if p, ok := m.Parameters[k]; (!ok || p == nil) && !standardParams[k] {
			probs = append(probs, fmt.Sprintf("%s: unknown query parameter %q", m.ID, k))
		}
	}
	if m.Request == nil {
		if len(bytes.TrimSpace(body)) > 0 {
			probs = append(probs, m.ID+": takes no request body")
		}
		return m, probs
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return m, append(probs, fmt.Sprintf("%s: body is not JSON: %v", m.ID, err))
	}
	probs = append(probs, d.validate(v, m.Request, m.ID, true)...)
	return m, probs
}

var (
	durationRE = regexp.MustCompile(`^-?\d+(\.\d+)?s$`)
	int64RE    = regexp.MustCompile(`^-?\d+$`)
)

// validate checks v against s; request says read-only fields are errors.
func (d *discovery) validate(v any, s *dschema, at string, request bool) []string {
	if s.Ref != "" {
		rs, ok := d.Schemas[s.Ref]
		if !ok {
			return []string{at + ": unknown schema " + s.Ref}
		}
		s = rs
	}
	bad := func(format string, args ...any) []string {
		return []string{at + ": " + fmt.Sprintf(format, args...)}
	}
	if v == nil {
		return nil // JSON null: the field's default
	}
	switch s.Type {
	case "any":
		return nil
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			return bad("want an object, got %T", v)
		}
		var probs []string
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			switch {
			case s.Properties != nil:
				p, ok := s.Properties[k]
				if !ok {
					if strings.HasPrefix(k, "@type") {
						continue
					}
					probs = append(probs, fmt.Sprintf("%s: unknown field %q", at, k))
					continue
				}
				if request && p.ReadOnly {
					probs = append(probs, fmt.Sprintf("%s.%s: output-only field sent", at, k))
				}
				probs = append(probs, d.validate(m[k], p, at+"."+k, request)...)
			case s.AdditionalProperties != nil:
				probs = append(probs, d.validate(m[k], s.AdditionalProperties, at+"["+k+"]", request)...)
			default:
				probs = append(probs, fmt.Sprintf("%s: unknown field %q", at, k))
			}
		}
		return probs
	case "array":
		l, ok := v.([]any)
		if !ok {
			return bad("want an array, got %T", v)
		}
		var probs []string
		for i, e := range l {
			probs = append(probs, d.validate(e, s.Items, fmt.Sprintf("%s[%d]", at, i), request)...)
		}
		return probs
	case "string":
		str, ok := v.(string)
		if !ok {
			return bad("want a string (format %q), got %v", s.Format, v)
		}
		if len(s.Enum) > 0 {
			found := false
			for _, e := range s.Enum {
				found = found || e == str
			}
			if !found {
				return bad("%q is not one of %v", str, s.Enum)
			}
		}
		switch s.Format {
		case "int64", "uint64":
			if !int64RE.MatchString(str) {
				return bad("%q is not an integer string", str)
			}
		case "google-duration":
			if !durationRE.MatchString(str) {
				return bad("%q is not a duration like 1.5s", str)
			}
		case "google-datetime":
			if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
				return bad("%q is not an RFC 3339 time", str)
			}
		case "byte":
			if _, err := base64.StdEncoding.DecodeString(str); err != nil {
				if _, err := base64.URLEncoding.DecodeString(str); err != nil {
					return bad("%q is not base64", str)
				}
			}
		}
		return nil
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return bad("want an integer, got %v", v)
		}
		if _, err := n.Int64(); err != nil {
			return bad("%v is not an integer", n)
		}
		return nil
	case "number":
		if _, ok := v.(json.Number); !ok {
			return bad("want a number, got %v", v)
		}
		return nil
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad("want a boolean, got %v", v)
		}
		return nil
	}
	return bad("schema type %q unknown to the validator", s.Type)
}

func TestValidatorCatchesMistakes(t *testing.T) {
	d := loadDiscovery(t, "appengine")
	for _, tc := range []struct {
		body string
		want string
	}{
		{`{"id":"v1","deployment":{"files":{"a":{"sha1sum":"x"}}}}`, `unknown field "sha1sum"`},
		{`{"id":"v1","createTime":"2026-01-01T00:00:00Z"}`, "output-only"},
		{`{"id":"v1","servingStatus":"RUNNING"}`, "is not one of"},
		{`{"id":"v1","automaticScaling":{"maxPendingLatency":"30ms"}}`, "duration"},
		{`{"id":"v1","manualScaling":{"instances":"3"}}`, "want an integer"},
		{`{"id":"v1","envVariables":{"N":3}}`, "want a string"},
	} {
		_, probs := d.checkRequest("POST", "v1/apps/p/services/default/versions", nil, []byte(tc.body))
		if !strings.Contains(strings.Join(probs, "\n"), tc.want) {
			t.Errorf("body %s: problems %v, want one mentioning %q", tc.body, probs, tc.want)
		}
	}
	if _, probs := d.checkRequest("PATCH", "v1/apps/p/services/s", map[string][]string{"updateMsk": {"split"}}, []byte(`{}`)); len(probs) == 0 {
		t.Error("an unknown query parameter passed")
	}
	if m, probs := d.checkRequest("POST", "v1/apps/p/services/default/versions", nil, []byte(`{"id":"v1","runtime":"go122"}`)); m == nil || len(probs) != 0 {
		t.Errorf("a valid body: method %v, problems %v", m, probs)
	}
}
