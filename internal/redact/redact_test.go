package redact

import (
	"strings"
	"testing"
)

const pemKey = `-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACAEn3Ssxh31EokeiBs3/orkbqlDu+r3fnqb9jM/4M2yFAAAAJCvI2c7ryNn
-----END OPENSSH PRIVATE KEY-----`

func TestString(t *testing.T) {
	for _, tt := range []struct{ in, secret string }{
		{"Authorization: Bearer ya29.a0AfB_secret", "a0AfB_secret"},
		{"you sent authorization=Basic dXNlcjpwYXNz, thanks", "dXNlcjpwYXNz"},
		{`{"access_token":"abc.def","refresh_token":"1//0gsecret"}`, "abc.def"},
		{`{"access_token":"abc.def","refresh_token":"1//0gsecret"}`, "0gsecret"},
		{"GET https://x/?access_token=zzz&b=1", "zzz"},
		{"token ya29.secret-value in text", "secret-value"},
		{"client_secret=shh&code=4/0Asecret", "shh"},
		{"client_secret=shh&code=4/0Asecret", "4/0Asecret"},
		{"body: " + pemKey + " end", "b3BlbnNzaC1rZXkt"},
		{"cut: -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA", "MIIEowIBAAKCAQEA"},
		{"key AKIAIOSFODNN7EXAMPLE used", "AKIAIOSFODNN7EXAMPLE"},
		{"?key=AIzaSyD-1234567890abcdefghijklmnopqrstu", "AIzaSyD"},
		{`"private_key": "-----BEGIN PRIVATE KEY-----\nMIIE"`, "MIIE"},
		{`body {"env_variables":{"API_TOKEN":"tok-1234","DB_PASSWORD":"hunter2"}}`, "tok-1234"},
		{`body {"env_variables":{"API_TOKEN":"tok-1234","DB_PASSWORD":"hunter2"}}`, "hunter2"},
		{"secret:12345", "12345"},
		{"secrets.go: 8hunter", "8hunter"},
	} {
		if got := String(tt.in); strings.Contains(got, tt.secret) {
			t.Errorf("String(%q) = %q still shows %q", tt.in, got, tt.secret)
		}
	}
	// What is no credential stays as it was.
	for _, s := range []string{
		"App Engine Admin API: GET /v1/apps/p/services/default: 404 NOT_FOUND: version v1 not found",
		"blob da39a3ee5e6b4b0d3255bfef95601890afd80709: read 3 bytes, expected 4",
		// A stack trace's source positions, in files named for what they guard.
		"panic at /src/skipfiles/secrets.go:123 +0x45",
		"(github.com/appcfg/appcfg/skipfiles.scan at secrets.go:88);",
		"oauth2/token.go:7: refresh failed",
	} {
		if got := String(s); got != s {
			t.Errorf("String(%q) = %q, want it unchanged", s, got)
		}
	}
}

func TestQuote(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"python27", "'python27'"},
		{"", "''"},
		{"first line\nsecond line", "'first line…'"},
		{"trailing newline\n", "'trailing newline'"},
		{strings.Repeat("a", 100), "'" + strings.Repeat("a", 60) + "…'"},
		{pemKey, "(not shown: it looks like a credential)"},
		{"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ", "(not shown: it looks like a credential)"},
		{"password=hunter2", "(not shown: it looks like a credential)"},
	} {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
