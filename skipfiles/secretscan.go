package skipfiles

import (
	"bytes"
	"context"
	"github.com/appcfg/appcfg/internal/lazyre"
	"io"
	"math"
	"path"
	"strings"

	"github.com/appcfg/appcfg/internal/hashcache"
)

// A file is read in windows of scanChunk new bytes after the last
// scanOverlap bytes of the one before: whatever starts in a window is
// judged there with at least scanOverlap bytes after it in view (a whole
// PEM block), and memory stays at one buffer however large the file.
// scanBufSize is the scratch memory of a scan: the window, and a
// lower-case copy of it.
const (
	// binarySniff is how much of a file's start tells a binary file (a
	// NUL byte in it), which the guard does not read further; maxDER is
	// the largest binary key file it parses.
	binarySniff = 8 << 10
	maxDER      = 16 << 10
	scanChunk   = 64 << 10
	scanOverlap = maxPEMBlock
	scanBufSize = 2 * (scanChunk + scanOverlap)
)

// secretFinding is one reason a file looks like a credential.
type secretFinding struct {
	What string
	Line int  // where it is; 0 when it is the whole file
	Warn bool // uploaded with a warning (not confidential by design)
}

var (
	credType    = lazyre.New(`^"type"\s*:\s*"(service_account|authorized_user|external_account|impersonated_service_account)"`)
	jsonValue   = lazyre.New(`^\s*:\s*"`)
	jsonObject  = lazyre.New(`^\s*:\s*\{`)
	npmToken    = lazyre.New(`(?m)^[ \t]*(?://\S*:)?_(?:authToken|auth|password)[ \t]*[=:][ \t]*`)
	iniPassword = lazyre.New(`(?m)^[ \t]*password[ \t]*[=:][ \t]*`)
	envAssign   = lazyre.New(`(?m)^[ \t]*(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.]*[ \t]*=[ \t]*`)
)

// contentRules says which detectors beyond the general ones (private keys,
// AWS secret keys, Google credential and OAuth client JSON) a file gets;
// they depend on its name.
type contentRules struct {
	env, npm, ini bool
}

// fileScan is the state of scanning one file.
type fileScan struct {
	rules    contentRules
	prev     byte   // the byte before the current window
	line     int    // line number of the window's first byte
	credLine int    // line of a Google credential "type", 0 if none yet
	credKey  bool   // a credential value with content was seen
	envSeen  bool   // an environment file's value was found
	lower    []byte // scratch for a lower-case copy of the window
	found    []secretFinding
}

// scanSecrets reads the file the walk listed (a path changed since is an
// error, not a different file scanned) and returns what in it looks like a
// credential. root is the app directory (File.Abs).
// scratch holds scanBufSize bytes, reused from file to file.
func scanSecrets(ctx context.Context, root string, f File, rules contentRules, scratch []byte) ([]secretFinding, error) {
	r, err := hashcache.OpenListed(f.Abs(root), f.Info)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	buf := scratch[:scanChunk+scanOverlap]
	s := &fileScan{rules: rules, line: 1, lower: scratch[scanChunk+scanOverlap:]}
	keep := 0
	if !derCandidate(f.Path, []byte{0x30}) || f.Size() > maxDER {
		// It cannot be a DER key: a binary file is known by its first
		// bytes, so read those before the whole window.
		n, err := io.ReadFull(r, buf[:binarySniff])
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return nil, err
		}
		if bytes.IndexByte(buf[:n], 0) >= 0 {
			return nil, nil // binary
		}
		keep = n
	}
	for first := true; ; first = false {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := io.ReadFull(r, buf[keep:])
		end := keep + n
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return nil, err
		}
		if first && eof && derCandidate(f.Path, buf[:end]) {
			if what, ok := derKeyKind(buf[:end]); ok {
				return []secretFinding{{What: what}}, nil
			}
		}
		if first && bytes.IndexByte(buf[:min(end, binarySniff)], 0) >= 0 {
			return nil, nil // binary, and not a DER key
		}
		limit := end - scanOverlap
		if eof {
			limit = end
		}
		s.window(buf[:end], limit)
		if eof {
			break
		}
		s.line += bytes.Count(buf[:limit], []byte{'\n'})
		s.prev = buf[limit-1]
		keep = copy(buf, buf[limit:end])
	}
	if s.credLine > 0 && s.credKey {
		s.found = append([]secretFinding{{What: "a Google credential JSON file"}}, s.found...)
	}
	return s.found, nil
}

// window runs the detectors on w, judging what starts before limit.
func (s *fileScan) window(w []byte, limit int) {
	starts := func(re *lazyre.Regexp, fn func(loc []int)) {
		for _, loc := range re.FindAllIndex(w, -1) {
			if loc[0] < limit {
				fn(loc)
			}
		}
	}
	lineAt := func(i int) int { return s.line + bytes.Count(w[:i], []byte{'\n'}) }
	add := func(i int, what string, warn bool) {
		s.found = append(s.found, secretFinding{What: what, Line: lineAt(i), Warn: warn})
	}
	// whole records a finding about the file as a whole: no line.
	whole := func(what string, warn bool) {
		s.found = append(s.found, secretFinding{What: what, Warn: warn})
	}
	if bytes.Contains(w, []byte("PRIVATE KEY")) {
		starts(pemBegin, func(loc []int) {
			prev := s.prev
			if loc[0] > 0 {
				prev = w[loc[0]-1]
			}
			if what, ok := pemKeyAt(w[loc[0]:], prev); ok {
				add(loc[0], what, false)
			}
		})
	}
	for _, loc := range awsSecretKeys(w, s.lower) {
		if loc[0] < limit && awsSecretValue(w[loc[1]:]) {
			add(loc[0], "an AWS secret access key", false)
		}
	}
	each(w, limit, `"type"`, func(i int) {
		if s.credLine == 0 && credType.Match(w[i:min(i+128, len(w))]) {
			s.credLine = lineAt(i)
		}
	})
	for _, key := range []string{`"private_key"`, `"refresh_token"`, `"client_secret"`} {
		each(w, limit, key, func(i int) {
			if m := jsonValue.FindIndex(w[i+len(key) : min(i+len(key)+64, len(w))]); m != nil {
				v := w[i+len(key)+m[1]:]
				if _, ok := pemKeyAt(v, '"'); ok || literalSecret(jsonString(v), 8) {
					s.credKey = true
				}
			}
		})
	}
	for _, kind := range []string{`"installed"`, `"web"`} {
		each(w, limit, kind, func(i int) {
			if v := oauthSecret(w[i+len(kind):]); literalSecret(v, 8) {
				if kind == `"installed"` {
					whole("the OAuth client secret of an installed app, which Google documents as not confidential", true)
				} else {
					whole("an OAuth web client secret", false)
				}
			}
		})
	}
	for _, r := range []struct {
		on   bool
		re   *lazyre.Regexp
		what string
	}{
		{s.rules.npm, npmToken, "a package registry token"},
		{s.rules.ini, iniPassword, "a package index password"},
	} {
		if r.on {
			starts(r.re, func(loc []int) {
				if literalValue(w[loc[1]:]) {
					add(loc[0], r.what, false)
				}
			})
		}
	}
	if s.rules.env && !s.envSeen {
		starts(envAssign, func(loc []int) {
			if !s.envSeen && literalValue(w[loc[1]:]) {
				s.envSeen = true
				whole("an environment file (.env) with values set", false)
			}
		})
	}
}

// each calls fn with every position of lit in w before limit. Searching
// for a literal first keeps the scan fast: regular expressions that start
// with a quote would be tried at every quote of a JSON file.
func each(w []byte, limit int, lit string, fn func(i int)) {
	for i := 0; i < limit; {
		j := bytes.Index(w[i:], []byte(lit))
		if j < 0 || i+j >= limit {
			return
		}
		fn(i + j)
		i += j + len(lit)
	}
}

// oauthSecret returns the client_secret of the OAuth client object that
// starts at v (after its "installed" or "web" key), "" when there is none.
func oauthSecret(v []byte) string {
	m := jsonObject.FindIndex(v[:min(64, len(v))])
	if m == nil {
		return ""
	}
	obj := v[m[1]:min(m[1]+2048, len(v))]
	if end := bytes.IndexByte(obj, '}'); end >= 0 {
		obj = obj[:end]
	}
	const key = `"client_secret"`
	i := bytes.Index(obj, []byte(key))
	if i < 0 {
		return ""
	}
	rest := v[m[1]+i+len(key):]
	if m := jsonValue.FindIndex(rest[:min(64, len(rest))]); m != nil {
		return jsonString(rest[m[1]:])
	}
	return ""
}

// awsSecretKeys finds each "secret_access_key" (any case, underscores
// optional: SecretAccessKey too) followed by ":" or "=", and returns where
// it starts and where its value starts. A case-insensitive regular
// expression would run at a few MB/s; this searches a lower-case copy.
func awsSecretKeys(w, lower []byte) [][2]int {
	low := lower[:len(w)]
	for i, c := range w {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	var out [][2]int
	for i := 0; ; {
		j := bytes.Index(low[i:], []byte("secret"))
		if j < 0 {
			return out
		}
		start := i + j
		i = start + len("secret")
		k := i
		for _, part := range []string{"access", "key"} {
			if k < len(low) && low[k] == '_' {
				k++
			}
			if !bytes.HasPrefix(low[k:], []byte(part)) {
				k = -1
				break
			}
			k += len(part)
		}
		if k < 0 {
			continue
		}
		if k < len(low) && (low[k] == '"' || low[k] == '\'') {
			k++
		}
		k = skipBlanks(low, k)
		if k >= len(low) || (low[k] != ':' && low[k] != '=') {
			continue
		}
		out = append(out, [2]int{start, skipBlanks(low, k+1)})
	}
}

func skipBlanks(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// jsonString returns the JSON string that starts at v (after its opening
// quote), escapes left as they are; "" when it does not end on its line.
func jsonString(v []byte) string {
	for i := 0; i < len(v) && i < 8<<10; i++ {
		switch v[i] {
		case '\\':
			i++
		case '"':
			return string(v[:i])
		case '\n':
			return ""
		}
	}
	return ""
}

// lineValue returns the value at the start of v up to the end of its line:
// the contents of a quoted string, or the unquoted word. quoted tells which.
func lineValue(v []byte) (val string, quoted bool) {
	if i := bytes.IndexByte(v, '\n'); i >= 0 {
		v = v[:i]
	}
	s := strings.TrimRight(string(v), "\r")
	if s != "" && (s[0] == '"' || s[0] == '\'') {
		if j := strings.IndexByte(s[1:], s[0]); j >= 0 {
			return s[1 : j+1], true
		}
		return "", true // not closed on this line: not a simple literal
	}
	if j := strings.IndexAny(s, " \t"); j >= 0 {
		s = s[:j]
	}
	return s, false
}

// literalValue reports whether a configuration value (after "=") is
// written out, rather than empty or taken from elsewhere ($VAR, ${VAR}).
func literalValue(v []byte) bool {
	val, _ := lineValue(v)
	return val != "" && !strings.HasPrefix(val, "$") && !strings.HasPrefix(val, "%(")
}

// awsSecretValue reports whether the value after "aws_secret_access_key ="
// is a secret key written out: 40 characters of base64 (AWS's format) with
// letters and digits mixed, not documentation's EXAMPLEKEY. Code passing a
// variable, a call or None has dots, brackets or underscores, or is a word.
func awsSecretValue(v []byte) bool {
	val, quoted := lineValue(v)
	if !quoted {
		val = strings.TrimRight(val, ",;)")
	}
	if len(val) < 32 || len(val) > 64 || strings.Contains(strings.ToUpper(val), "EXAMPLE") {
		return false
	}
	for _, c := range val {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '+' || c == '=') {
			return false
		}
	}
	return randomLooking(val)
}

// literalSecret reports whether a string value looks like a credential
// rather than a placeholder: long enough, no spaces, not a template.
func literalSecret(v string, minLen int) bool {
	if len(v) < minLen || strings.ContainsAny(v, " \t<>{}") || strings.HasPrefix(v, "$") {
		return false
	}
	low := strings.ToLower(v)
	for _, p := range []string{"example", "xxxx", "your", "placeholder", "changeme", "replace", "redacted", "dummy"} {
		if strings.Contains(low, p) {
			return false
		}
	}
	return true
}

// randomLooking reports whether s mixes upper case, lower case and digits
// with the spread of a random string (Shannon entropy over 3.5 bits a
// character; English words and identifiers stay well under).
func randomLooking(s string) bool {
	var upper, lower, digit bool
	counts := map[rune]int{}
	for _, c := range s {
		counts[c]++
		upper = upper || c >= 'A' && c <= 'Z'
		lower = lower || c >= 'a' && c <= 'z'
		digit = digit || c >= '0' && c <= '9'
	}
	if !upper || !lower || !digit {
		return false
	}
	var h float64
	for _, n := range counts {
		p := float64(n) / float64(len(s))
		h -= p * math.Log2(p)
	}
	return h > 3.5
}

// derCandidate tells whether a binary file could be a DER private key: a
// small ASN.1 SEQUENCE named like a key or not named at all.
func derCandidate(rel string, data []byte) bool {
	switch strings.ToLower(path.Ext(stripBackupSuffix(strings.ToLower(path.Base(rel))))) {
	case ".der", ".key", ".pk8", ".p8", "":
		return len(data) > 0 && len(data) <= maxDER && data[0] == 0x30
	}
	return false
}
