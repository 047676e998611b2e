package redact

import (
	"github.com/appcfg/appcfg/internal/lazyre"
	"strings"
	"unicode/utf8"
)

// Replacement stands where a credential was.
const Replacement = "REDACTED"

// keyed are credentials after a name that says what they are: group 1, the
// name and separator, is kept.
var keyed = []*lazyre.Regexp{
	// Header values: "Authorization: Bearer X", "authorization=X".
	lazyre.New(`(?i)((?:proxy-)?authorization\s*[:=]\s*)(?:(?:bearer|basic)\s+)?[^\s,"';&]+`),
	// Query, form, JSON and environment-file parameters.
	// A name holding one of the words counts ("API_TOKEN", "db_password").
	lazyre.New(`(?i)(\b[a-z0-9_.\-]*(?:token|secret|password|passwd|apikey|api_key|private_key|access_key|credential|assertion|upload_id)[a-z0-9_.\-]*["']?\s*[:=]\s*["']?)[^\s&,"'}]+`),
	// Names too common in prose to take with ":": only as "name=value".
	lazyre.New(`(?i)([?&\s]\b(?:code|key|sig|signature)=)[^\s&,"'}]+`),
}

// shaped are credentials recognised by their own shape, replaced whole.
var shaped = []*lazyre.Regexp{
	// PEM blocks (keys, certificates' keys), to their END line or, cut
	// short, to the end of the text.
	lazyre.New(`-----BEGIN [A-Z0-9 ]*-----(?s:.*?)(?:-----END [A-Z0-9 ]*-----|$)`),
	lazyre.New(`ya29\.[A-Za-z0-9_\-.]+`),
	lazyre.New(`\b1//[A-Za-z0-9_\-]+`),
	lazyre.New(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`),
	lazyre.New(`\bAIza[0-9A-Za-z_\-]{35}\b`),
	lazyre.New(`\bGOCSPX-[0-9A-Za-z_\-]+`),
}

// String returns s with every credential it holds replaced by REDACTED.
func String(s string) string {
	// Shapes first: a PEM block after "private_key": is replaced whole.
	for _, re := range shaped {
		s = re.ReplaceAllString(s, Replacement)
	}
	for _, re := range keyed {
		s = replaceKeyed(re, s)
	}
	return s
}

// replaceKeyed replaces the value of each of re's matches in s, keeping
// group 1 (the name and separator), except where the "name" is a Go
// source file and the "value" its line ("secrets.go:123" in a stack
// trace): a file named for what it guards is no credential, and an
// internal error's report needs the line.
func replaceKeyed(re *lazyre.Regexp, s string) string {
	ms := re.FindAllStringSubmatchIndex(s, -1)
	if ms == nil {
		return s
	}
	var b strings.Builder
	last := 0
	for _, m := range ms {
		if sourceLine(s[m[2]:m[3]], s[m[3]:m[1]]) {
			continue
		}
		b.WriteString(s[last:m[3]])
		b.WriteString(Replacement)
		last = m[1]
	}
	b.WriteString(s[last:])
	return b.String()
}

// sourceLine reports whether name (with its separator) and value are a Go
// source position: "x.go:" then a line number.
func sourceLine(name, value string) bool {
	return strings.HasSuffix(name, ".go:") && value != "" && value[0] >= '0' && value[0] <= '9'
}

// maxQuote is the most runes of a value Quote shows.
const maxQuote = 60

// credentialWords mark a value that names a credential.
var credentialWords = lazyre.New(`(?i)-----BEGIN|PRIVATE KEY|ssh-(?:rsa|ed25519|dss)|ecdsa-sha2|"type"\s*:\s*"service_account"|aws_secret|client_secret|private_key|password|passwd|secret|token|api_?key`)

// LooksLikeCredential reports whether s holds, or looks like, a credential:
// a key, a token, a name that says so, or a long run of random-looking
// characters such as a key's base64.
func LooksLikeCredential(s string) bool {
	if credentialWords.MatchString(s) || String(s) != s {
		return true
	}
	return randomRun(s)
}

// randomRun reports a run of 32 or more token characters mixing upper
// case, lower case and digits: the shape of base64 key material and API
// tokens, which words, paths and hex digests do not have.
func randomRun(s string) bool {
	n, upper, lower, digit := 0, false, false, false
	for _, r := range s + " " {
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case r == '+' || r == '/' || r == '=' || r == '_' || r == '-':
		default:
			if n >= 32 && upper && lower && digit {
				return true
			}
			n, upper, lower, digit = 0, false, false, false
			continue
		}
		n++
	}
	return false
}

// Quote is how a message shows a value read from a file: its first line,
// cut to 60 characters, in single quotes, or a note that it is not shown
// when it looks like a credential. A message never carries a file's
// contents beyond that.
func Quote(s string) string {
	if LooksLikeCredential(s) {
		return "(not shown: it looks like a credential)"
	}
	line, rest, _ := strings.Cut(s, "\n")
	line = strings.TrimRight(line, "\r")
	cut := strings.TrimSpace(rest) != ""
	if utf8.RuneCountInString(line) > maxQuote {
		line, cut = string([]rune(line)[:maxQuote]), true
	}
	if cut {
		return "'" + line + "…'"
	}
	return "'" + line + "'"
}
