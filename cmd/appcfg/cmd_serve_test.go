package main

import (
	"net"
	"strings"
	"testing"
)

// A listener other machines can reach gets a warning naming what the
// password-less sign-in gives them; a loopback one does not.
func TestServeExposureWarning(t *testing.T) {
	tests := []struct {
		ip   net.IP
		warn bool
	}{
		{net.IPv4(127, 0, 0, 1), false},
		{net.IPv6loopback, false},
		{net.IPv4zero, true},
		{net.IPv6unspecified, true},
		{net.IPv4(192, 168, 1, 10), true},
	}
	for _, tt := range tests {
		w := exposureWarning(&net.TCPAddr{IP: tt.ip, Port: 8080})
		if (w != "") != tt.warn {
			t.Errorf("%s: warning %q, want one: %v", tt.ip, w, tt.warn)
		}
		if tt.warn && (!strings.Contains(w, "administrator") || !strings.Contains(w, "--host 127.0.0.1")) {
			t.Errorf("%s: the warning %q does not say the cookie grants admin, nor how to stay on loopback", tt.ip, w)
		}
	}
}

// Absolute URLs name the listener, or the machine when it listens on every
// interface: 0.0.0.0 is no address a browser can use.
func TestServePublicAddr(t *testing.T) {
	if got := publicAddr(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}); got != "127.0.0.1:8080" {
		t.Errorf("loopback: %q", got)
	}
	if got := publicAddr(&net.TCPAddr{IP: net.IPv4zero, Port: 8080}); strings.HasPrefix(got, "0.0.0.0") || !strings.HasSuffix(got, ":8080") {
		t.Errorf("0.0.0.0: %q, want this machine's name and the port", got)
	}
}
