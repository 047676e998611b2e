package loopback

import "testing"

func TestHost(t *testing.T) {
	for host, want := range map[string]bool{"localhost": true, "LOCALHOST": true, "127.0.0.1": true, "127.3.2.1": true, "::1": true,
		"": false, "example.com": false, "10.0.0.1": false, "localhost.example.com": false, "[::1]": false} {
		if got := Host(host); got != want {
			t.Errorf("Host(%q) = %v, want %v", host, got, want)
		}
	}
}
