package appconfig

import "testing"

// TestSDKPatterns: every SDK attribute pattern compiles through
// internal/pyre (each is compiled on first use, so a bad one would only
// show when a file first needs it) and keeps validation.Regex's meaning: a
// full match, $ also before a final newline, \d any Unicode digit.
func TestSDKPatterns(t *testing.T) {
	all := []*pyRegex{reSourceRevision, reSourceRepo, reFiles, reRuntime, reAPIVersion, reEnv, reSourceLang,
		reExpiration, reService, reIdle, reInstances, reConcurrent, reLatency, reIdleTimeout, reNonWhite,
		reTargetType, reGCEName, reGCEPath, reIPMode, reVPCName, rePorts, reEnvKey, reOS, reErrorCode,
		rePageName, reBackendClass, reBackendOptions, reBackendState}
	for _, re := range all {
		re.Match("x") // compiles it, or panics naming it
	}
	for _, tt := range []struct {
		re   *pyRegex
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
			t.Errorf("%s on %q = %v, want %v", tt.re.shown(), tt.s, got, tt.want)
		}
	}
}

// TestBoundedClassPatterns: api_version's and source_language's patterns,
// a character class repeated 1 to 32 times, are matched by counting runes
// and testing each against the class (compiling [\w.]{1,32} with Unicode
// \w cost tens of milliseconds on every update); the answers are those of
// the whole pattern compiled by internal/pyre.
func TestBoundedClassPatterns(t *testing.T) {
	inputs := []string{"", "1", "python27", "1.0", "go1.22", "a-b", "a b", "_", ".", "-",
		"héllo", "日本語", "١٢٣", "x\u0301", "a\n", "a\n\n", "\n", "a\tb", "a\u00a0b", "Ⅻ", "²",
		"abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz0123456",
		"abcdefghijklmnopqrstuvwxyz012345\n", "ééééééééééééééééééééééééééééééé", "éééééééééééééééééééééééééééééééééé",
		"\xff", "a\xffb", "a\xff\n", "\xe6\x97", "\ufffd"}
	for _, tt := range []struct {
		fast  *pyRegex
		class string
	}{{reAPIVersion, `[\w.]`}, {reSourceLang, `[\w.\-]`}} {
		full := newRegex(tt.class + `{1,32}`)
		if tt.fast.shown() != full.shown() {
			t.Errorf("pattern shown as %s, want %s", tt.fast.shown(), full.shown())
		}
		for _, s := range inputs {
			if got, want := tt.fast.Match(s), full.Match(s); got != want {
				t.Errorf("%s on %q = %v, the whole pattern says %v", full.shown(), s, got, want)
			}
		}
	}
}

// TestRuntimePatternByHand: runtime's pattern, read by hand (matchRuntime),
// answers as the SDK's pattern compiled by internal/pyre, on runtime names,
// gs:// paths, and every string of up to 3 characters over the pattern's
// edges (first letter, the classes, ':' and '/', upper case, non-ASCII,
// newlines), with the 30-character bound on both sides.
func TestRuntimePatternByHand(t *testing.T) {
	full := newRegex(reRuntime.re)
	if reRuntime.shown() != full.shown() {
		t.Errorf("runtime's pattern shown as %s, want %s", reRuntime.shown(), full.shown())
	}
	inputs := []string{"python27", "python312", "go122", "java8", "custom", "vm", "gs://bucket/rt.tar", "gs://", "gs:/x",
		"gs://A", "gs://a b", "gs://a\n", "gs://a\n\n", "a\n", "a\n\n", "\n", "",
		"abcdefghijklmnopqrstuvwxyz0123", "abcdefghijklmnopqrstuvwxyz01234", "abcdefghijklmnopqrstuvwxyz0123\n",
		"a\xff", "\xff", "gs://\xff", "gs://a\xffb"}
	const edge = "agz09-._/:Aé\n "
	for _, a := range edge {
		inputs = append(inputs, string(a), "gs://"+string(a))
		for _, b := range edge {
			inputs = append(inputs, string(a)+string(b), "gs://"+string(a)+string(b))
			for _, c := range edge {
				inputs = append(inputs, string(a)+string(b)+string(c))
			}
		}
	}
	for _, s := range inputs {
		if got, want := reRuntime.Match(s), full.Match(s); got != want {
			t.Errorf("%s on %q = %v, the whole pattern says %v", full.shown(), s, got, want)
		}
	}
}

// TestLookaheadPatternsByHand: the URL and backend file patterns, which
// have lookaheads and are read by hand (matchURL, matchBackendFile: their
// "no newline" part a search for one since this round, where it was the
// expression ^[^\n]*$), answer as the SDK's patterns compiled by
// internal/pyre (its backtracking engine runs lookaheads), newlines,
// carriage returns, invalid UTF-8 and "$" ends included.
func TestLookaheadPatternsByHand(t *testing.T) {
	inputs := []string{"", "/", "/a", "/a\n", "/a\n\n", "\n", "/a\nb", "/a\r", "/\xff", "/\xff\n", "/a\u2028b",
		".", ".*", ".\n", "(.)x", "(.)", "(.)$", "(.", "(", "^/a", "^", "x", "x$", "$", "a$$", "é", "(é)é"}
	for _, tt := range []struct {
		fast *pyRegex
	}{{reURL}, {reBackendFile}} {
		full := newRegex(tt.fast.re)
		for _, s := range inputs {
			if got, want := tt.fast.Match(s), full.Match(s); got != want {
				t.Errorf("%s on %q = %v, the whole pattern says %v", full.shown(), s, got, want)
			}
		}
	}
}
