package skipfiles

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/appcfg/appcfg/internal/testtree"
)

// recorder is a Reporter that keeps what it is told.
type recorder struct{ status, warn []string }

func (r *recorder) Status(m string) { r.status = append(r.status, m) }
func (r *recorder) Warn(m string)   { r.warn = append(r.warn, m) }

func rels(res *Result) []string {
	out := []string{}
	for _, f := range res.Files {
		out = append(out, f.Path)
	}
	return out
}

func problemKinds(err error) []ProblemKind {
	var e *Error
	if !errors.As(err, &e) {
		return nil
	}
	var ks []ProblemKind
	for _, p := range e.Problems {
		ks = append(ks, p.Kind)
	}
	return ks
}

func TestWalkDefaultSkipFiles(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"main.py", "main.pyc", "b/x.py", "b/#x#", "b/x~", ".git/HEAD", "a/.hidden",
		"a/RCS/f", "a/z.txt", "a.txt", "a0"} {
		testtree.WriteFile(t, dir, p, "x")
	}
	rec := &recorder{}
	res, err := Walk(context.Background(), dir, Options{Runtime: "python27"}, rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.txt", "a/z.txt", "a0", "b/x.py", "main.py"}
	if got := rels(res); !reflect.DeepEqual(got, want) {
		t.Errorf("files %v, want %v (sorted, byte order)", got, want)
	}
	var skipped []string
	for _, s := range res.Skipped {
		skipped = append(skipped, s.Rel)
		if s.Rule == nil || s.Rule.Kind != KindDefaultSkipFiles {
			t.Errorf("%s skipped by %v, want the default skip_files", s.Rel, s.Rule)
		}
	}
	// .git is pruned whole: its contents are never listed.
	if want := []string{".git", "a/.hidden", "a/RCS/f", "b/#x#", "b/x~", "main.pyc"}; !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped %v, want %v", skipped, want)
	}
	f := res.Files[0]
	if f.Abs(res.Root) != filepath.Join(res.Root, "a.txt") || f.Size() != 1 || f.ModTime().IsZero() {
		t.Errorf("file record %+v lacks what the upload needs", f)
	}
}

func TestWalkUserSkipFilesReplaceDefault(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"keep.py", ".env.example", "static/big.psd", "static/a.css", "notes~"} {
		testtree.WriteFile(t, dir, p, "x")
	}
	opts := Options{SkipFiles: []string{`^(.*/)?.*\.psd$`, "^notes~\n"}, SkipFilesSource: "app.yaml",
		SkipFilesPos: []Pos{{Line: 5, Column: 3}, {Line: 6, Column: 3}}}
	res, err := Walk(context.Background(), dir, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rels(res), []string{".env.example", "keep.py", "static/a.css"}; !reflect.DeepEqual(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	d := res.Explain("notes~")
	if d.Kept || d.Rule == nil || d.Rule.Line != 6 || d.Rule.Pattern != "^notes~" {
		t.Errorf("explain notes~ = %+v; want skipped by app.yaml:6:3 ^notes~ (newline removed)", d)
	}
	d = res.Explain("./keep.py")
	if !d.Kept || d.Rule != nil || !strings.Contains(d.Reason, "no rule") {
		t.Errorf("explain keep.py = %+v", d)
	}
}

func TestWalkExplainPrunedDirectory(t *testing.T) {
	dir := t.TempDir()
	testtree.WriteFile(t, dir, "vendor/lib/a.py", "x")
	res, err := Walk(context.Background(), dir, Options{SkipFiles: []string{"^vendor$"}, SkipFilesSource: "app.yaml"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := res.Explain("vendor/lib/a.py")
	if d.Kept || d.Via != "vendor" || d.Rule == nil || d.Rule.Pattern != "^vendor$" {
		t.Errorf("explain = %+v; want skipped via vendor", d)
	}
}

// TestWalkExplainDirectory: a directory the rules keep is not "uploaded"
// itself; --explain says what happened to what is under it.
func TestWalkExplainDirectory(t *testing.T) {
	dir := t.TempDir()
	testtree.WriteFile(t, dir, "tests/test_a.pyc", "x")
	testtree.WriteFile(t, dir, "static/a.css", "abc")
	testtree.WriteFile(t, dir, "static/b.js", "de")
	testtree.WriteFile(t, dir, "static/b.js~", "de")
	testtree.WriteFile(t, dir, "lib/x.py", "x")
	if err := os.MkdirAll(filepath.Join(dir, "empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Walk(context.Background(), dir, Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path     string
		contents DirContents
		reason   string
	}{
		{"tests", DirContents{Skipped: 1}, "directory: none of its files is uploaded; 1 path below it is skipped (tests/test_a.pyc: matches default skip_files "},
		{"static", DirContents{Uploaded: 2, Bytes: 5, Skipped: 1}, "directory: 2 of its files are uploaded (5 B); 1 path below it is skipped (static/b.js~: matches "},
		{"lib/", DirContents{Uploaded: 1, Bytes: 1}, "directory: all its files are uploaded: 1 (1 B); the directory itself is not skipped: no rule of the SDK's default skip_files matches"},
		{"empty", DirContents{}, "directory: it holds no file, nothing is uploaded from it;"},
	}
	for _, tt := range tests {
		d := res.Explain(tt.path)
		if d.Contents == nil || *d.Contents != tt.contents || !strings.HasPrefix(d.Reason, tt.reason) || strings.HasPrefix(d.Reason, "uploaded") {
			t.Errorf("explain %s = %+v (contents %+v)\nwant contents %+v and a reason starting %q", tt.path, d, d.Contents, tt.contents, tt.reason)
		}
	}
	if d := res.Explain("static/a.css"); d.Contents != nil || !strings.HasPrefix(d.Reason, "uploaded: ") {
		t.Errorf("explain of a file = %+v; want it uploaded, without contents", d)
	}
}

func TestWalkBacktrackingPattern(t *testing.T) {
	// A look-ahead (RE2 has none) runs as Python's re runs it: the .txt
	// files outside static/ are skipped, those inside uploaded.
	dir := t.TempDir()
	for _, f := range []string{"notes.txt", "main.py", "static/a.txt", "lib/lib.py", "lib/other.py"} {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := Options{SkipFiles: []string{"ok", `^(?!static/).*\.txt`, `(\w+)/\1\.py`}, SkipFilesSource: "app.yaml",
		SkipFilesPos: []Pos{{Line: 3, Column: 3}, {Line: 4, Column: 3}, {Line: 5, Column: 3}}}
	res, err := Walk(context.Background(), dir, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Files {
		got = append(got, f.Path)
	}
	if want := "lib/other.py main.py static/a.txt"; strings.Join(got, " ") != want {
		t.Errorf("uploaded %q, want %q", got, want)
	}
	if d := res.Explain("notes.txt"); !strings.Contains(d.Reason, `^(?!static/).*\.txt`) {
		t.Errorf("explain notes.txt = %+v; want the look-ahead rule", d)
	}
	_, err = Walk(context.Background(), t.TempDir(), Options{SkipFiles: []string{"(unclosed"}, SkipFilesSource: "app.yaml"}, nil)
	if !strings.Contains(err.Error(), "Value '(unclosed' for skip_files does not compile") {
		t.Errorf("error %v; want the SDK's wording", err)
	}
}

func TestWalkRuleSources(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		opts    Options
		mode    Mode
		problem string
		kept    []string
	}{
		{name: "gcloudignore replaces default skip_files", files: []string{".gcloudignore", "a.py", ".env.sample", "b.log"},
			opts: Options{Runtime: "python27"}, mode: ModeIgnoreFile, kept: []string{".env.sample", ".gcloudignore", "a.py"}},
		{name: "skip_files and gcloudignore conflict", files: []string{".gcloudignore"},
			opts: Options{Runtime: "python27", SkipFiles: []string{"x"}, SkipFilesSource: "app.yaml"}, problem: "Cannot have both an ignore file .gcloudignore"},
		{name: "second gen refuses skip_files", files: []string{"main.py"},
			opts: Options{Runtime: "python39", SkipFiles: []string{"x"}, SkipFilesSource: "app.yaml"}, problem: "skip_files cannot be used with the [python39] runtime"},
		{name: "second gen default ignore", files: []string{"main.py", "__pycache__/m.pyc", "setup.cfg", ".git/HEAD", ".env.example"},
			opts: Options{Runtime: "python312"}, mode: ModeIgnoreFile, kept: []string{".env.example", "main.py"}},
		{name: "flex keeps skip_files", files: []string{"main.py", ".env.example", "node_modules/x/y.js", ".gitignore"},
			opts: Options{Runtime: "python39", Env: "flex"}, mode: ModeSkipFiles, kept: []string{".env.example", "main.py"}},
		{name: "ignore-file flag", files: []string{"my.ignore", "a.py", "b.py"},
			opts: Options{IgnoreFile: "my.ignore"}, mode: ModeIgnoreFile, kept: []string{"a.py", "my.ignore"}},
		{name: "ignore-file missing", opts: Options{IgnoreFile: "nope"}, problem: "File nope referenced by --ignore-file does not exist."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				testtree.WriteFile(t, dir, f, "x")
			}
			if len(tt.files) > 0 && tt.files[0] == ".gcloudignore" {
				testtree.WriteFile(t, dir, ".gcloudignore", "*.log\n")
			}
			if tt.opts.IgnoreFile == "my.ignore" {
				testtree.WriteFile(t, dir, "my.ignore", "b.py\n")
			}
			res, err := Walk(context.Background(), dir, tt.opts, nil)
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("error %v; want %q", err, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Matcher.Mode() != tt.mode {
				t.Errorf("mode %q, want %q", res.Matcher.Mode(), tt.mode)
			}
			if got := rels(res); !reflect.DeepEqual(got, tt.kept) {
				t.Errorf("files %v, want %v", got, tt.kept)
			}
		})
	}
}

func TestWalkPyc(t *testing.T) {
	pyc27 := string([]byte{0x03, 0xf3, '\r', '\n', 0, 0, 0, 0})
	pyc312 := string([]byte{0xcb, 0x0d, '\r', '\n', 0, 0, 0, 0})
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		testtree.WriteFile(t, dir, "a.py", "x")
		testtree.WriteFile(t, dir, "a.pyc", pyc27)
		testtree.WriteFile(t, dir, "only.pyc", pyc27)
		testtree.WriteFile(t, dir, "ext.so", "x")
		return dir
	}
	opts := Options{Runtime: "python27", SkipFiles: []string{`^\..*`}, SkipFilesSource: "app.yaml",
		Handlers: []Handler{{Script: "only.py", File: "app.yaml", Pos: Pos{Line: 9, Column: 3}},
			{Script: "gone.py", File: "app.yaml", Pos: Pos{Line: 12, Column: 3}}}}
	rec := &recorder{}
	res, err := Walk(context.Background(), setup(t), opts, rec)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rels(res), []string{"a.py", "ext.so", "only.pyc"}; !reflect.DeepEqual(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	warns := strings.Join(rec.warn, "\n")
	for _, w := range []string{"Ignoring file 'a.pyc': Cannot upload both <filename>.py and <filename>.pyc",
		"'ext.so' is a C extension", "app.yaml:12:3: script gone.py is not in the upload set"} {
		if !strings.Contains(warns, w) {
			t.Errorf("warnings %q lack %q", warns, w)
		}
	}
	if strings.Contains(warns, "only.py ") {
		t.Errorf("the CGI script only.py is uploaded as only.pyc; no warning expected: %q", warns)
	}

	opts.Strict = true
	_, err = Walk(context.Background(), setup(t), opts, nil)
	if k := problemKinds(err); !reflect.DeepEqual(k, []ProblemKind{ProblemPycConflict}) {
		t.Errorf("strict: problems %v (%v), want one pyc-conflict", k, err)
	}

	dir := setup(t)
	testtree.WriteFile(t, dir, "only.pyc", pyc312)
	opts.Strict = false
	_, err = Walk(context.Background(), dir, opts, nil)
	if k := problemKinds(err); !reflect.DeepEqual(k, []ProblemKind{ProblemPycVersion}) || !strings.Contains(err.Error(), "Python 3.12") {
		t.Errorf("foreign pyc: %v", err)
	}
}

func TestWalkSymlinks(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	testtree.WriteFile(t, outside, "secret.txt", "x")
	testtree.WriteFile(t, dir, "real/a.txt", "x")
	mustLink(t, "real", filepath.Join(dir, "alias"))          // inside: followed
	mustLink(t, "a.txt", filepath.Join(dir, "real", "b.txt")) // file link
	mustLink(t, "..", filepath.Join(dir, "real", "up"))       // loop to its parent
	mustLink(t, "self", filepath.Join(dir, "self"))           // loop to itself
	mustLink(t, "missing", filepath.Join(dir, "dangling"))    // dropped with a warning
	mustLink(t, outside, filepath.Join(dir, "ext"))           // outside: refused
	rec := &recorder{}
	res, err := Walk(context.Background(), dir, Options{SkipFiles: []string{"^$"}, SkipFilesSource: "app.yaml"}, rec)
	kinds := problemKinds(err)
	got := map[ProblemKind]int{}
	for _, k := range kinds {
		got[k]++
	}
	// The parent loop shows twice: as real/up and as alias/up.
	if want := map[ProblemKind]int{ProblemSymlinkLoop: 3, ProblemExternalLink: 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("problems %v, want %v: %v", got, want, err)
	}
	if files := rels(res); !reflect.DeepEqual(files, []string{"alias/a.txt", "alias/b.txt", "real/a.txt", "real/b.txt"}) {
		t.Errorf("files %v", files)
	}
	if !strings.Contains(strings.Join(rec.warn, "\n"), "dangling") {
		t.Errorf("no warning for the dangling link: %v", rec.warn)
	}

	os.Remove(filepath.Join(dir, "self"))
	os.Remove(filepath.Join(dir, "real", "up"))
	res, err = Walk(context.Background(), dir, Options{SkipFiles: []string{"^$"}, SkipFilesSource: "app.yaml", FollowExternalLinks: true}, nil)
	if err != nil {
		t.Fatalf("with FollowExternalLinks: %v", err)
	}
	if files := rels(res); !strings.Contains(strings.Join(files, " "), "ext/secret.txt") {
		t.Errorf("files %v lack ext/secret.txt", files)
	}
}

// TestWalkMutualLinkLoop: two directories linking to each other are a loop
// even though neither contains the other.
func TestWalkMutualLinkLoop(t *testing.T) {
	dir := t.TempDir()
	testtree.WriteFile(t, dir, "x/f", "1")
	testtree.WriteFile(t, dir, "y/g", "1")
	mustLink(t, "../y", filepath.Join(dir, "x", "toy"))
	mustLink(t, "../x", filepath.Join(dir, "y", "tox"))
	_, err := Walk(context.Background(), dir, Options{SkipFiles: []string{"^$"}, SkipFilesSource: "app.yaml"}, nil)
	for _, k := range problemKinds(err) {
		if k != ProblemSymlinkLoop {
			t.Errorf("unexpected problem %v", err)
		}
	}
	if len(problemKinds(err)) == 0 {
		t.Error("no loop found")
	}
}

func mustLink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
}

func TestWalkLimits(t *testing.T) {
	dir := t.TempDir()
	testtree.WriteFile(t, dir, "small", "12")
	testtree.WriteFile(t, dir, "mid", "12345")
	testtree.WriteFile(t, dir, "big", "1234567890")
	opts := Options{SkipFiles: []string{"^$"}, SkipFilesSource: "app.yaml", Limits: Limits{MaxFiles: 2, MaxFileSize: 4, MaxTotalSize: 10}}
	res, err := Walk(context.Background(), dir, opts, nil)
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != 3 {
		t.Fatalf("error %v; want three limit problems", err)
	}
	if res == nil || len(res.Files) != 3 {
		t.Fatalf("the result must stay complete beside the error")
	}
	big := e.Problems[0]
	if big.Kind != ProblemFileTooLarge || !reflect.DeepEqual(big.Files, []FileSize{{"big", 10}, {"mid", 5}}) {
		t.Errorf("per-file problem %+v; want big then mid", big)
	}
	for _, p := range e.Problems[1:] {
		if p.Files[0].Path != "big" {
			t.Errorf("%s lists %v; want the largest first", p.Kind, p.Files)
		}
	}
	if !strings.Contains(e.Error(), "3 files to upload, over the limit of 2 files") {
		t.Errorf("message: %v", e)
	}
}

func TestWalkSecrets(t *testing.T) {
	keys := testKeys()
	dir := t.TempDir()
	testtree.WriteFile(t, dir, ".env", "A=1")
	testtree.WriteFile(t, dir, ".env.example", "A=")
	testtree.WriteFile(t, dir, "keys/server.pem", string(keys["rsa-pkcs1"]))
	testtree.WriteFile(t, dir, "keys/cert.pem", string(keys["cert"]))
	testtree.WriteFile(t, dir, "keys/fake.pem", "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----\n")
	testtree.WriteFile(t, dir, "sa.json", `{"type": "authorized_user", "client_id": "x", "refresh_token": "1//0gAbCdEfGhIjKlMnOp"}`)
	testtree.WriteFile(t, dir, "package.json", `{"name": "x"}`)
	testtree.WriteFile(t, dir, "id_rsa", "x")
	testtree.WriteFile(t, dir, "lib/signer.py", `KEY = """`+string(keys["ec-sec1"])+`"""`+"\n")
	testtree.WriteFile(t, dir, "lib/markers.py", "BEGIN = '-----BEGIN RSA PRIVATE KEY-----'\n")
	testtree.WriteFile(t, dir, "client_secret.json", `{"installed": {"client_id": "x", "client_secret": "GOCSPX-AbCdEfGhIjKlMn"}}`)
	opts := Options{SkipFiles: []string{"^$"}, SkipFilesSource: "app.yaml"}
	rec := &recorder{}
	_, err := Walk(context.Background(), dir, opts, rec)
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v; want secret problems", err)
	}
	var paths []string
	for _, p := range e.Problems {
		if p.Kind != ProblemSecret {
			t.Errorf("unexpected %v", p)
		}
		paths = append(paths, p.Path)
	}
	if want := []string{".env", "id_rsa", "keys/server.pem", "lib/signer.py", "sa.json"}; !reflect.DeepEqual(paths, want) {
		t.Fatalf("secrets %v, want %v", paths, want)
	}
	if h := e.Problems[0].Hint; !strings.Contains(h, `"- ^\.env$" to skip_files in app.yaml`) || !strings.Contains(h, "--allow-secrets") {
		t.Errorf("hint %q lacks the rule to add", h)
	}
	// Skipping code breaks the app: the hint says to move the secret.
	if h := e.Problems[3].Hint; strings.Contains(h, "skip_files") || !strings.Contains(h, "do not skip") {
		t.Errorf("hint for code %q", h)
	}
	if m := e.Problems[3].Message; !strings.Contains(m, "EC private key (line 1)") || strings.Contains(m, "MII") {
		t.Errorf("message %q: want the kind and line, no content", m)
	}
	if len(rec.warn) != 1 || !strings.Contains(rec.warn[0], "client_secret.json") {
		t.Errorf("warnings %q; want one for the installed app's client secret", rec.warn)
	}
	opts.Strict = true
	if _, err := Walk(context.Background(), dir, opts, nil); !errors.As(err, &e) || len(e.Problems) != 6 {
		t.Errorf("Strict: %v; want the installed app's client secret as a sixth problem", err)
	}
	opts.AllowSecrets = true
	if _, err := Walk(context.Background(), dir, opts, nil); err != nil {
		t.Errorf("AllowSecrets: %v", err)
	}
}

// TestWalkNamesWithControlCharacters: the messages about a file quote its
// name when it holds control characters, and the rule a hint suggests
// writes them as \xHH escapes, which Python's re reads.
func TestWalkNamesWithControlCharacters(t *testing.T) {
	dir := t.TempDir()
	testtree.WriteFile(t, dir, "conf\x1b]0;x\x07/.env", "A=1")
	testtree.WriteFile(t, dir, "two\nlines.txt", "x")
	var warnings []string
	rep := funcReporter{warn: func(msg string) { warnings = append(warnings, msg) }}
	_, err := Walk(context.Background(), dir, Options{SkipFiles: []string{"^$"}, SkipFilesSource: "app.yaml"}, rep)
	var e *Error
	if !errors.As(err, &e) || len(e.Problems) != 1 {
		t.Fatalf("error %v; want the secret problem", err)
	}
	want := `conf\x1b\]0;x\x07/\.env`
	if got := e.Problems[0].String(); !strings.HasPrefix(got, `"conf\x1b]0;x\a/.env": looks like`) || !strings.Contains(got, `"- ^`+want+`$" to skip_files`) {
		t.Errorf("problem %q: want the path quoted and a rule with \\x escapes", got)
	}
	if !regexp.MustCompile(want).MatchString("conf\x1b]0;x\x07/.env") {
		t.Errorf("the suggested rule %s does not match the file", want)
	}
	if strings.Join(warnings, "|") != `Invalid character in filename: "two\nlines.txt"` {
		t.Errorf("warnings %q; want the refused name quoted", warnings)
	}
}

type funcReporter struct{ warn func(string) }

func (funcReporter) Status(string)     {}
func (r funcReporter) Warn(msg string) { r.warn(msg) }

func TestWalkCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Walk(ctx, t.TempDir(), Options{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// A link that leads out of the app when it is stat'ed and into the app
// when it is resolved must not be listed with the outside file's identity:
// hashing checks that identity, so the outside file would be read.
func TestWalkLinkSwappedWhileListing(t *testing.T) {
	dir := t.TempDir()
	testtree.WriteFile(t, dir, "inside.txt", "public app data\n")
	outside := filepath.Join(t.TempDir(), "outside.txt")
	if err := os.WriteFile(outside, []byte("SECRET-NOT-APP!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink(outside, link); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	opts := Options{SkipFiles: []string{"^$"}, SkipFilesSource: "app.yaml"}
	opts.afterLinkStat = func(rel string) {
		if err := os.Remove(link); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("inside.txt", link); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Walk(context.Background(), dir, opts, nil)
	outInfo, _ := os.Stat(outside)
	for _, f := range res.Files {
		if os.SameFile(f.Info, outInfo) {
			t.Fatalf("%s was listed as the file outside the app", f.Path)
		}
	}
	var e *Error
	if !errors.As(err, &e) || !e.Has(ProblemUnreadable) || !strings.Contains(e.Error(), "link.txt: symbolic link changed") {
		t.Errorf("error %v; want link.txt reported as changed while listing", err)
	}
}
