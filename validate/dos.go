package validate

import (
	"github.com/appcfg/appcfg/internal/lazyre"
	"net/netip"
	"strconv"
	"strings"

	"github.com/appcfg/appcfg/appconfig"
)

// checkDOS checks dos.yaml as dosinfo.LoadSingleDos does, with the subnet
// check the SDK makes when its ipaddr module is present.
func checkDOS(path string, data []byte, opts Options) FileResult {
	return checkCompanion(KindDOS, path, data, opts, appconfig.ParseDOS,
		func(c *checker, info *appconfig.DOSInfo) (*appconfig.Meta, *string) {
			for _, e := range info.Blacklist {
				if e != nil {
					c.blacklistEntry(e)
				}
			}
			return &info.Meta, &info.Application
		})
}

func (c *checker) blacklistEntry(e *appconfig.BlacklistEntry) {
	m := &e.Meta
	if c.required(m, "subnet") && c.isText(m, "subnet") {
		if msg := subnetError(e.Subnet); msg != "" {
			c.r.Errorf(m.At("subnet"), m.Field("subnet"), "%s", msg).
				Hint = "give an IPv4 or IPv6 address, or a subnet in CIDR form such as 192.0.2.0/24 or 2001:db8::/32"
		}
	}
	c.regex(m, "description", e.Description, descriptionText, "a description is one line of at most 499 characters")
}

var allDigits = lazyre.New(`^[0-9]+$`)

// subnetError is the SDK's complaint about a blacklist subnet, or "".
func subnetError(s string) string {
	addr, prefix, hasPrefix := strings.Cut(s, "/")
	if hasPrefix && !strings.Contains(prefix, "/") && !allDigits.MatchString(prefix) {
		return "Prefix length of subnet " + s + " must be an integer (quad-dotted masks are not supported)"
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Zone() != "" || strings.Contains(prefix, "/") {
		return s + " is not a valid IPv4 or IPv6 subnet"
	}
	if hasPrefix {
		n, err := strconv.Atoi(prefix)
		if err != nil || n > ip.BitLen() {
			return s + " is not a valid IPv4 or IPv6 subnet"
		}
	}
	return ""
}
