package skipfiles

import (
	"context"
	"fmt"
	"path"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"

	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/internal/lazyre"
)

// The guard decides by content wherever content can decide: a PEM header
// is a key only when a key follows it, "aws_secret_access_key =" only when
// a secret key follows it. Names decide for files whose whole purpose is
// to hold credentials (SSH identities, .netrc, key stores), also under a
// backup name (id_rsa.bak, .env~).
var (
	secretNames = map[string]string{
		".netrc": "a .netrc file (login passwords)", "_netrc": "a .netrc file (login passwords)",
		"netrc": "a .netrc file (login passwords)", ".pgpass": "a PostgreSQL password file",
		".git-credentials": "a git credential store", ".htpasswd": "a web server password file",
		"id_rsa": "an SSH private key", "id_dsa": "an SSH private key", "id_ecdsa": "an SSH private key",
		"id_ed25519": "an SSH private key", "id_ecdsa_sk": "an SSH private key", "id_ed25519_sk": "an SSH private key",
		"terraform.tfvars": "Terraform variables (often credentials)", ".dockercfg": "Docker registry credentials",
	}
	secretExts = map[string]string{
		".p12": "a PKCS#12 key store", ".pfx": "a PKCS#12 key store", ".jks": "a Java key store",
		".keystore": "a Java key store", ".ppk": "a PuTTY private key", ".tfstate": "Terraform state (holds credentials)",
	}
	// backupSuffixes are what editors and people append to a copy.
	backupSuffixes = []string{".bak", ".backup", ".orig", ".old", ".save", ".sav", ".swp", ".tmp", ".copy", "~"}
	// envTemplate marks environment files meant to be shared:
	// .env.example, sample.env, .env-template …
	envTemplate = lazyre.New(`(^|[._-])(example|sample|template|tmpl|tpl|dist|defaults?|schema)($|[._-])`)
	// binaryExts are formats that cannot hold a text credential; the guard
	// does not read them.
	binaryExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".bmp": true,
		".ico": true, ".webp": true, ".tif": true, ".tiff": true, ".psd": true, ".woff": true, ".woff2": true,
		".ttf": true, ".otf": true, ".eot": true, ".mp3": true, ".mp4": true, ".ogg": true, ".wav": true,
		".webm": true, ".mov": true, ".avi": true, ".flac": true, ".m4a": true, ".pdf": true, ".zip": true,
		".gz": true, ".tgz": true, ".bz2": true, ".xz": true, ".7z": true, ".jar": true, ".war": true,
		".whl": true, ".egg": true, ".pyc": true, ".pyo": true, ".class": true, ".so": true, ".pyd": true,
		".dll": true, ".exe": true, ".o": true, ".a": true, ".wasm": true, ".mo": true, ".swf": true}
	// codeExts are files the app runs or reads as its own code and
	// configuration: skipping one breaks the app, so the hint never says to.
	codeExts = map[string]bool{".py": true, ".js": true, ".mjs": true, ".cjs": true, ".ts": true,
		".go": true, ".php": true, ".rb": true, ".java": true, ".jsp": true, ".kt": true, ".scala": true,
		".cs": true, ".pl": true, ".html": true, ".htm": true, ".tmpl": true, ".yaml": true, ".yml": true,
		".xml": true, ".properties": true, ".ini": true, ".cfg": true, ".conf": true, ".toml": true}
)

// stripBackupSuffix removes backup suffixes from a lower-case base name,
// so that id_rsa.bak is judged as id_rsa.
func stripBackupSuffix(name string) string {
	for {
		trimmed := name
		for _, suf := range backupSuffixes {
			if len(trimmed) > len(suf) && strings.HasSuffix(trimmed, suf) {
				trimmed = strings.TrimSuffix(trimmed, suf)
			}
		}
		if trimmed == name {
			return name
		}
		name = trimmed
	}
}

// secretByName names the kind of credential a file is by its name alone,
// "" when its name says nothing for sure.
func secretByName(rel string) string {
	name := stripBackupSuffix(strings.ToLower(path.Base(rel)))
	if what, ok := secretNames[name]; ok {
		return what
	}
	if name == "credentials" && path.Base(path.Dir(rel)) == ".aws" {
		return "AWS credentials"
	}
	if strings.HasPrefix(name, "gha-creds-") && strings.HasSuffix(name, ".json") {
		return "a GitHub Actions credential file"
	}
	return secretExts[path.Ext(name)]
}

// isEnvFile tells whether a name is that of an environment file: .env,
// .envrc, .env.production, .env_prod, .env-local, production.env …, but
// not a template meant to be shared.
func isEnvFile(name string) bool {
	switch {
	case name == ".env" || name == ".envrc":
		return true
	case strings.HasPrefix(name, ".env.") || strings.HasPrefix(name, ".env_") || strings.HasPrefix(name, ".env-"):
		return !envTemplate.MatchString(name[5:])
	case strings.HasSuffix(name, ".env") && len(name) > 4:
		return !envTemplate.MatchString(strings.TrimSuffix(name, ".env"))
	}
	return false
}

// rulesFor says which name-bound content rules apply to rel.
func rulesFor(rel string) contentRules {
	name := stripBackupSuffix(strings.ToLower(path.Base(rel)))
	return contentRules{
		env: isEnvFile(name),
		npm: name == ".npmrc" || name == ".yarnrc" || name == ".yarnrc.yml",
		ini: name == ".pypirc",
	}
}

// needsScan tells whether a file's content is read at all.
func needsScan(f File) bool {
	return f.Size() > 0 && !binaryExts[strings.ToLower(path.Ext(f.Path))]
}

// verdicts are the secret guard's clean verdicts that the stat cache holds
// for the upload set: passed[i] tells whether Files[i], as the walk saw it,
// passed the guard before and need not be read.
type verdicts struct {
	cache  *hashcache.Cache // nil without a stat cache
	passed []bool
}

// lookUpVerdicts looks up the cached verdicts of the files kept (the upload
// set to be, in its order) on a goroutine of its own, and returns what
// waits for them. The lookups (some 185 ns a file) ran alone after the
// upload set was written, one core idle; beside its writing, which is
// mostly first touches of fresh pages, both cores work. They read the
// walk's entries only, as the set's writing does.
func (w *walker) lookUpVerdicts(kept []*listed) func() verdicts {
	if w.opts.Cache == nil {
		return func() verdicts { return verdicts{} }
	}
	var (
		v       verdicts
		crashed crash.Catcher
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		defer crashed.Recover()
		v.cache = w.opts.Cache()
		if v.cache == nil {
			return
		}
		maxSize := w.opts.Limits.withDefaults().MaxFileSize
		tag := secretVerdictTag()
		v.passed = make([]bool, len(kept))
		for i, e := range kept {
			// As checkSecrets decides which files it looks up: not one
			// over the limit, nor one without a stat (a generated file).
			info := w.info(e)
			if info == nil || maxSize > 0 && info.Size() > maxSize {
				continue
			}
			v.passed[i] = v.cache.Passed(e.rel(), hashcache.StatOf(info), tag)
		}
	}()
	return func() verdicts {
		<-done
		crashed.Reraise()
		return v
	}
}

// checkSecrets stops the upload of files that hold credentials, saying
// for each how to keep the secret out without breaking the app. Findings
// that are not confidential by design (an installed app's OAuth client)
// are warnings, errors with Strict. v holds the verdicts cached for
// w.res.Files (lookUpVerdicts): a file that passed before is not read. The
// files left to read are read by as many workers as there are CPUs (a
// first deploy's serial phase before its first upload was this read, on
// one core); what they find is told in file order, as one reader would
// tell it.
func (w *walker) checkSecrets(ctx context.Context, v verdicts) error {
	maxSize := w.opts.Limits.withDefaults().MaxFileSize
	cache := v.cache
	tag := secretVerdictTag()
	files := w.res.Files
	cachedIn := func(f File) bool { return cache != nil && f.Info != nil && f.Data() == nil }
	var toRead []int
	for i, f := range files {
		if maxSize > 0 && f.Size() > maxSize {
			continue // over the limit, already a problem: no need to read it
		}
		if cachedIn(f) && v.passed[i] {
			continue
		}
		toRead = append(toRead, i)
	}
	// found holds each file read that is not clean: a finding or an error.
	type verdict struct {
		i       int
		finding *secretFinding
		err     error
	}
	var (
		mu    sync.Mutex
		found []verdict
		next  atomic.Int64
	)
	scan := func() {
		buf := make([]byte, scanBufSize)
		for {
			k := int(next.Add(1)) - 1
			if k >= len(toRead) || ctx.Err() != nil {
				return
			}
			i := toRead[k]
			f := files[i]
			finding, err := fileSecret(ctx, w.m.root, f, buf)
			if err == nil && finding == nil {
				if cachedIn(f) {
					// Only a clean verdict is kept: a finding is told again on
					// every run until the file changes or is skipped.
					cache.Pass(f.Path, hashcache.StatOf(f.Info), tag)
				}
				continue
			}
			mu.Lock()
			found = append(found, verdict{i, finding, err})
			mu.Unlock()
		}
	}
	// A worker per CPU, each with its buffer, where there is enough to
	// read to pay for them.
	workers := min(runtime.GOMAXPROCS(0), len(toRead)/secretFilesPerWorker)
	var (
		wg      sync.WaitGroup
		crashed crash.Catcher
	)
	for range workers - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer crashed.Recover()
			crash.Point("skipfiles.secrets")
			scan()
		}()
	}
	if len(toRead) > 0 {
		scan()
	}
	wg.Wait()
	if err := crashed.Err(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	slices.SortFunc(found, func(a, b verdict) int { return a.i - b.i })
	var secrets []Problem
	for _, r := range found {
		f := files[r.i]
		if r.err != nil {
			w.probs = append(w.probs, Problem{Kind: ProblemUnreadable, Path: f.Path,
				Message: fmt.Sprintf("cannot read: %v", unwrapPath(r.err)), Hint: "fix its permissions, or skip it with a rule"})
			continue
		}
		msg := fmt.Sprintf("looks like %s", r.finding.What)
		if r.finding.Line > 0 {
			msg = fmt.Sprintf("holds %s (line %d)", r.finding.What, r.finding.Line)
		}
		if r.finding.Warn && !w.opts.Strict {
			w.rep.Warn(fmt.Sprintf("%s: %s; it is uploaded (--strict makes this an error)", f.Path, msg))
			continue
		}
		secrets = append(secrets, Problem{Kind: ProblemSecret, Path: f.Path,
			Message: msg + " and would be uploaded", Hint: w.m.secretHint(f.Path)})
	}
	w.probs = append(w.probs, collapseSecrets(secrets, w.res.Files)...)
	return nil
}

// secretFilesPerWorker is how many files to read make another worker of
// the secret guard worth its start (and its buffer's fresh pages).
const secretFilesPerWorker = 64

// secretRules names the version of the detectors; raise it with any change
// of what they find, so that verdicts cached by the guard before are not
// trusted.
const secretRules = "secrets1"

// secretVerdictTag is how the guard's clean verdicts are marked in the stat
// cache: the detectors' version and, when the build says it, the revision
// appcfg was built from, so a verdict of another appcfg is never trusted.
var secretVerdictTag = sync.OnceValue(func() string {
	tag := secretRules
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision":
				tag += "-" + s.Value
			case s.Key == "vcs.modified" && s.Value == "true":
				tag += "-modified"
			}
		}
	}
	return tag
})

// maxSecretProblems is how many secret problems are told in full; the
// rest are counted in one problem that lists their paths.
const maxSecretProblems = 10

func collapseSecrets(probs []Problem, files []File) []Problem {
	if len(probs) <= maxSecretProblems {
		return probs
	}
	size := make(map[string]int64, len(files))
	for _, f := range files {
		size[f.Path] = f.Size()
	}
	rest := probs[maxSecretProblems:]
	more := Problem{Kind: ProblemSecret,
		Message: fmt.Sprintf("%d more %s that hold credentials would be uploaded:", len(rest), filesWord(len(rest))),
		Hint:    "for each: skip it with a rule if the app does not read it at run time, else move the secret out (Secret Manager); or pass --allow-secrets if they really belong in the app"}
	for _, p := range rest {
		more.Files = append(more.Files, FileSize{Path: p.Path, Size: size[p.Path]})
	}
	return append(probs[:maxSecretProblems:maxSecretProblems], more)
}

// fileSecret returns the finding that decides f: its name, else the first
// error found in its content, else the first warning; nil when none. root
// is the app directory (File.Abs).
func fileSecret(ctx context.Context, root string, f File, scratch []byte) (*secretFinding, error) {
	if f.Size() == 0 {
		return nil, nil
	}
	if what := secretByName(f.Path); what != "" {
		return &secretFinding{What: what}, nil
	}
	if !needsScan(f) {
		return nil, nil
	}
	found, err := scanSecrets(ctx, root, f, rulesFor(f.Path), scratch)
	if err != nil || len(found) == 0 {
		return nil, err
	}
	for i := range found {
		if !found[i].Warn {
			return &found[i], nil
		}
	}
	return &found[0], nil
}

// secretHint says how to keep a secret out of the upload. Skipping a file
// the app runs would break it, so for code the hint is to move the secret
// out; for other files, skipping is offered only for files the app does
// not read.
func (m *Matcher) secretHint(rel string) string {
	const keep = "or pass --allow-secrets if it really belongs in the app"
	if codeExts[strings.ToLower(path.Ext(rel))] {
		return "the app needs this file, so do not skip it: move the secret out of it (into Secret Manager, or an environment variable set at deploy time); " + keep
	}
	return "if the app does not read it at run time, " + m.SkipHint(rel) + "; if it does, load the secret from Secret Manager instead; " + keep
}

// regexpLiteral is a regular expression matching exactly s: its
// metacharacters escaped and its control characters written as \xHH, which
// Python's re reads too, so a hint naming it prints safely and can be pasted
// into app.yaml as it is.
func regexpLiteral(s string) string {
	var b strings.Builder
	for _, r := range regexp.QuoteMeta(s) {
		if r <= 0xff && unicode.IsControl(r) {
			fmt.Fprintf(&b, `\x%02x`, r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// SkipHint says what rule to add to leave rel out, in the syntax of the
// rule system in force.
func (m *Matcher) SkipHint(rel string) string {
	if m.mode == ModeIgnoreFile {
		file := m.ignorePath
		if file == "" {
			file = IgnoreFileName + " (create it from gcloud's default: appcfg ls_files --explain shows the rules)"
		}
		return fmt.Sprintf("add the line %q to %s", "/"+rel, file)
	}
	pat := "^" + regexpLiteral(rel) + "$"
	if m.re.kind == KindDefaultSkipFiles {
		defaults := make([]string, len(m.re.rules))
		for i, r := range m.re.rules {
			defaults[i] = r.Pattern
		}
		return fmt.Sprintf("add skip_files to app.yaml with %q after the default patterns, since a skip_files list replaces the default (%s)", pat, strings.Join(defaults, " "))
	}
	return fmt.Sprintf("add \"- %s\" to skip_files in %s", pat, m.re.source)
}
