package appconfig

import "testing"

// TestSDKPatterns: every SDK attribute pattern compiles through
// internal/pyre (each is compiled on first use, so a bad one would only
// show when a file first needs it) and keeps validation.Regex's meaning: a
// full match, $ also before a final newline, \d any Unicode digit.
func TestSDKPatterns(t *testing.T) {
	all := []pyRegex{reSourceRevision, reSourceRepo, reFiles, reRuntime, reAPIVersion, reEnv, reSourceLang,
		reExpiration, reService, reIdle, reInstances, reConcurrent, reLatency, reIdleTimeout, reNonWhite,
		reTargetType, reGCEName, reGCEPath, reIPMode, reVPCName, rePorts, reEnvKey, reOS, reErrorCode,
		rePageName, reBackendClass, reBackendOptions, reBackendState}
	for _, re := range all {
		re.Match("x") // compiles it, or panics naming it
	}
	for _, tt := range []struct {
		re   pyRegex
		s    string
		want bool
	}{
		{reInstances, "12", true},
		{reInstances, "12\n", true},
		{reInstances, "12\n\n", false},
		{reInstances, "012", false},
		{reConcurrent, "1١", true},
		{reConcurrent, "١٢", false},
		{reModuleID, "default\n", true},
		{reModuleID, "default\n\n", false},
		{reRuntime, "python27x", true},
		{reRuntime, "Python27", false},
		{reSourceRevision, "abc123", true},
		{reSourceRevision, "abc123 x", false},
		{reSourceRepo, "https://github.com/a/b", true},
		{reNonWhite, "a b", false},
		{reNonWhite, "a\u00a0b", false},
	} {
		if got := tt.re.Match(tt.s); got != tt.want {
			t.Errorf("%s on %q = %v, want %v", tt.re.shown, tt.s, got, tt.want)
		}
	}
}
