// Package loopback holds the one rule for "this address is this machine":
// plain http, or requests without credentials, are allowed only to such
// hosts (the loopback fakes of the tests, emulators, a local proxy).
package loopback

import (
	"net"
	"strings"
)

// Host reports whether host (a URL's Hostname(): no port, no brackets) is
// "localhost" or a loopback address (127.0.0.0/8, ::1).
func Host(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
