package validate

import (
	"github.com/appcfg/appcfg/internal/lazyre"
	"regexp"
	"strconv"
	"strings"

	"github.com/appcfg/appcfg/appconfig"
)

// checkDispatch checks dispatch.yaml as dispatchinfo.LoadSingleDispatch does.
func checkDispatch(path string, data []byte, opts Options) FileResult {
	return checkCompanion(KindDispatch, path, data, opts, appconfig.ParseDispatch,
		func(c *checker, info *appconfig.DispatchInfo) (*appconfig.Meta, *string) {
			for _, e := range info.Dispatch {
				if e != nil {
					c.dispatchEntry(e)
				}
			}
			return &info.Meta, &info.Application
		})
}

var (
	urlSplitter      = lazyre.New(`^([^/]+)(/.*)$`)
	hostExactPattern = lazyre.New(`^([a-z0-9]([a-z0-9\-]*[a-z0-9])*\.)*([a-z0-9]([a-z0-9\-]*[a-z0-9])*)$`)
	ipv4Pattern      = lazyre.New(`^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$`)
	hostSuffix       = lazyre.New(`^([*]|[*][a-z0-9\-]*[a-z0-9]|[*](\.|[a-z0-9\-]*[a-z0-9]\.)([a-z0-9]([a-z0-9\-]*[a-z0-9])*\.)*([a-z0-9]([a-z0-9\-]*[a-z0-9])*))$`)
	// appinfo.MODULE_ID_RE_STRING
	serviceID = sdkPattern(`^(?!-)[a-z\d\-]{0,62}[a-z\d]$`, `[a-z\d]|[a-z\d][a-z\d\-]{0,61}[a-z\d]`)
)

const urlHint = "write a host pattern and a path, such as */api/* or example.com/*; the host may start with * and the path may end with *"

func (c *checker) dispatchEntry(e *appconfig.DispatchEntry) {
	m := &e.Meta
	if c.required(m, "url") && c.isText(m, "url") {
		if msg := dispatchURLError(e.URL); msg != "" {
			c.r.Errorf(m.At("url"), m.Field("url"), "%s", msg).Hint = urlHint
		}
	}
	const svcHint = "a service name is lowercase letters, digits and hyphens, at most 63, not starting or ending with a hyphen"
	c.regex(m, "service", e.Service, serviceID, svcHint)
	c.regex(m, "module", e.Module, serviceID, svcHint)
	switch {
	case given(m, "service") && given(m, "module"):
		c.r.Errorf(m.KeyAt("module"), m.Field("module"), "Only one of the two fields [service] (preferred) and [module] (deprecated) may be set.").
			Hint = "remove module:"
	case given(m, "module"):
		c.r.Warnf(m.KeyAt("module"), m.Field("module"), "Field module is deprecated; use service instead.").
			Hint = "rename module: to service:"
	case !given(m, "service"):
		c.required(m, "service")
	}
}

// dispatchURLError is the SDK's complaint about a url pattern, or "".
func dispatchURLError(url string) string {
	parts := pyMatch(urlSplitter.Regexp(), url)
	if parts == nil {
		return "invalid url '" + url + "'"
	}
	host := parts[1]
	if strings.HasPrefix(host, "*") {
		if pyMatch(hostSuffix.Regexp(), host) == nil {
			return "invalid host_pattern '" + host + "'"
		}
		return ""
	}
	if pyMatch(hostExactPattern.Regexp(), host) == nil {
		return "invalid host_pattern '" + host + "'"
	}
	if ip := ipv4Pattern.FindStringSubmatch(host); ip != nil {
		small := 0
		for _, octet := range ip[1:] {
			if n, _ := strconv.Atoi(octet); n <= 255 {
				small++
			}
		}
		if small == 4 {
			return "Host may not match an ipv4 address '" + host + "'"
		}
	}
	return ""
}

// pyMatch is re.match with a pattern ending in '$', which in Python also
// matches before a final newline.
func pyMatch(re *regexp.Regexp, s string) []string {
	if m := re.FindStringSubmatch(s); m != nil {
		return m
	}
	if strings.HasSuffix(s, "\n") {
		return re.FindStringSubmatch(strings.TrimSuffix(s, "\n"))
	}
	return nil
}
