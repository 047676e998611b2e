package skipfiles

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"unsafe"

	"github.com/appcfg/appcfg/internal/appfile"
	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/internal/hashcache"
	"github.com/appcfg/appcfg/internal/human"
	"github.com/appcfg/appcfg/internal/yaml11"
)

// Pos is a 1-based line and column in a configuration file; the same type
// as appconfig.Pos, taken from its source so that appconfig may use this
// package to check skip_files without an import cycle.
type Pos = yaml11.Pos

// Options says which rules apply to an app directory and which checks run.
type Options struct {
	Runtime string // app.yaml runtime (effective runtime for "vm")
	Env     string // app.yaml env: "", "standard", "flex", "flexible" or "2"
	// SkipFiles is app.yaml's skip_files, nil when the key is absent (the
	// SDK default then applies). SkipFilesSource is the file that holds
	// it and SkipFilesPos where each item is, for messages.
	SkipFiles       []string
	SkipFilesSource string
	SkipFilesPos    []Pos
	// IgnoreFile is --ignore-file: a gitignore-style file used instead of
	// skip_files; a relative path is taken from the app directory, as
	// gcloud does.
	IgnoreFile string
	// Strict turns the warnings of the checks into errors (for CI): every
	// .py/.pyc conflict, an installed app's OAuth client secret, an empty
	// skip_files list.
	Strict bool
	// FollowExternalLinks allows symbolic links to point outside the app.
	FollowExternalLinks bool
	// AllowSecrets lets files that look like credentials be uploaded.
	AllowSecrets bool
	// Cache, when set, gives the stat cache, which keeps the secret
	// guard's clean verdicts by stat data, as it keeps hashes: an
	// unchanged file is not read again. Walk calls it once, on its own
	// goroutine, when the directories have been listed: the caller may
	// load the cache meanwhile. The caller saves it.
	Cache func() *hashcache.Cache
	// SourceDir is the directory holding app.yaml, whose .gcloudignore
	// (or a relative IgnoreFile) applies; "" for the walked directory.
	// They differ for a Go module whose app.yaml is below the module
	// root: gcloud uploads the module with the app directory's rules.
	SourceDir string
	// Handlers are the app's script handlers, to check that each CGI
	// script of a python27 app is uploaded (as .py or .pyc).
	Handlers []Handler
	Limits   Limits

	// afterLinkStat, in tests, runs between a link's stat and its
	// resolution: where a swapped link would slip through.
	afterLinkStat func(rel string)
	// unknownTypes, in tests, makes every listed entry's type unknown, as
	// some file systems list them (DT_UNKNOWN), so the walk must lstat.
	unknownTypes bool
}

// Handler is a script handler of app.yaml, for the CGI script check.
type Handler struct {
	Script string
	File   string // app.yaml path, for messages
	Pos    Pos
}

// Reporter receives what the walk has to say along the way; the
// progress.Reporter of the command layer satisfies it. Status lines are
// details (one per skipped path); warnings never stop the walk.
type Reporter interface {
	Status(msg string)
	Warn(msg string)
}

// QuietReporter is a Reporter that may say it drops the status lines
// (Details false): the walk then does not make them (a line per skipped
// path, each a fmt.Sprintf, for nothing).
type QuietReporter interface {
	Reporter
	Details() bool
}

type nopReporter struct{}

func (nopReporter) Status(string) {}
func (nopReporter) Warn(string)   {}
func (nopReporter) Details() bool { return false }

// File is one file of the upload set. The type is appfile's, which
// upload shares, so the walk's list is the deploy's: no copy of it.
type File = appfile.File

// Skip is a path left out of the upload set and why. A skipped directory
// stands for everything below it.
type Skip struct {
	Rel    string `json:"path"`
	Dir    bool   `json:"dir,omitempty"`
	Reason string `json:"reason"`
	Rule   *Rule  `json:"rule,omitempty"`
}

// Result is the outcome of Walk: the upload set, sorted by path (byte
// order), and what was skipped, sorted the same way.
type Result struct {
	Root      string // absolute app directory
	Matcher   *Matcher
	Files     []File
	Skipped   []Skip
	TotalSize int64
	lstats    int // lstat calls the listing made, for tests
}

// Mode is the rule system that decides the upload set.
type Mode string

// The rule systems.
const (
	ModeSkipFiles  Mode = "skip_files"
	ModeIgnoreFile Mode = "ignore file"
)

// Matcher applies the rules of one app directory to paths.
type Matcher struct {
	root   string
	mode   Mode
	source string
	// ignorePath is the ignore file in force, "" for gcloud's default.
	ignorePath string
	re         *regexRules
	ig         *ignoreRules
}

// NewMatcher decides, as gcloud does, whether skip_files or an ignore file
// applies, and compiles the rules. Contradictions (skip_files together with
// an ignore file, skip_files on a second-generation runtime) and bad patterns
// come back as an *Error.
func NewMatcher(dir string, opts Options) (*Matcher, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("app directory %s: %w", dir, err)
	}
	m := &Matcher{root: root}
	src := root
	if opts.SourceDir != "" {
		if src, err = filepath.Abs(opts.SourceDir); err != nil {
			return nil, fmt.Errorf("app directory %s: %w", opts.SourceDir, err)
		}
	}
	explicit := opts.SkipFiles != nil
	conflict := func(msg string) error {
		p := Problem{Kind: ProblemConfig, File: opts.SkipFilesSource, Message: msg,
			Hint: "move the skip_files patterns into the ignore file as globs (gcloud topic gcloudignore), then delete skip_files"}
		if len(opts.SkipFilesPos) > 0 {
			p.Line, p.Column = opts.SkipFilesPos[0].Line, opts.SkipFilesPos[0].Column
		}
		return &Error{Problems: []Problem{p}}
	}
	ignorePath := ""
	if opts.IgnoreFile != "" {
		ignorePath = opts.IgnoreFile
		if !filepath.IsAbs(ignorePath) {
			ignorePath = filepath.Join(src, ignorePath)
		}
		if _, err := os.Stat(ignorePath); err != nil {
			return nil, &Error{Problems: []Problem{{Kind: ProblemConfig, File: ignorePath,
				Message: fmt.Sprintf("File %s referenced by --ignore-file does not exist.", opts.IgnoreFile),
				Hint:    "a relative --ignore-file is taken from the app directory"}}}
		}
	} else if _, err := os.Stat(filepath.Join(src, IgnoreFileName)); err == nil {
		ignorePath = filepath.Join(src, IgnoreFileName)
	}
	def, second := SecondGen(opts.Runtime, opts.Env)
	switch {
	case second && explicit:
		return nil, conflict(fmt.Sprintf("skip_files cannot be used with the [%s] runtime. Ignore patterns are instead expressed in a .gcloudignore file.", opts.Runtime))
	case explicit && ignorePath != "":
		return nil, conflict(fmt.Sprintf("Cannot have both an ignore file %s and skip_files defined in the same application.", filepath.Base(ignorePath)))
	case ignorePath != "":
		ig, err := parseIgnoreFile(ignorePath, KindIgnoreFile)
		if err != nil {
			return nil, ignoreFileError(ignorePath, err)
		}
		m.mode, m.ig, m.source, m.ignorePath = ModeIgnoreFile, ig, ignorePath, ignorePath
	case second:
		pats, err := parseIgnore("(default .gcloudignore for "+opts.Runtime+")", def, src, 1, KindDefaultIgnore)
		if err != nil {
			return nil, ignoreFileError(IgnoreFileName, err)
		}
		m.mode, m.ig = ModeIgnoreFile, &ignoreRules{pats: pats}
		m.source = fmt.Sprintf("gcloud's default .gcloudignore for runtime %s (not written to disk; create %s to change it)", opts.Runtime, IgnoreFileName)
	default:
		re, probs := compileSkipFiles(opts.SkipFiles, opts.SkipFilesSource, opts.SkipFilesPos, isFlex(opts.Env))
		if probs != nil {
			return nil, &Error{Problems: probs}
		}
		m.mode, m.re = ModeSkipFiles, re
		m.source = "skip_files in " + opts.SkipFilesSource
		if !explicit {
			m.source = "the SDK's default skip_files"
		}
	}
	return m, nil
}

func ignoreFileError(path string, err error) error {
	var bad *BadIgnoreFileError
	if errors.As(err, &bad) {
		return &Error{Problems: []Problem{{Kind: ProblemConfig, File: bad.File, Line: bad.Line, Column: 1, Message: bad.Msg}}}
	}
	return &Error{Problems: []Problem{{Kind: ProblemConfig, File: path,
		Message: fmt.Sprintf("cannot read the ignore file: %v", unwrapPath(err))}}}
}

// Mode tells which rule system applies.
func (m *Matcher) Mode() Mode { return m.mode }

// Source describes where the rules come from, for people.
func (m *Matcher) Source() string { return m.source }

// Match decides one path (slash-separated, relative to the root) assuming
// its parent directories are kept; the rule is the one that decided, nil
// when none matched. Walk calls it for every entry it lists.
func (m *Matcher) Match(rel string, isDir bool) (skip bool, rule *Rule) {
	if m.mode == ModeSkipFiles {
		return m.re.match(rel)
	}
	return m.ig.match(rel, isDir)
}

// Decision explains the fate of one path.
type Decision struct {
	Path string `json:"path"`
	Kept bool   `json:"kept"`
	// Via is the parent directory whose skipping decided, "" when the
	// path itself was matched.
	Via  string `json:"via,omitempty"`
	Rule *Rule  `json:"rule,omitempty"`
	// Contents, for a directory the rules keep, is what happens to what is
	// under it: a kept directory is not uploaded itself, its files are.
	Contents *DirContents `json:"contents,omitempty"`
	// Reason says it in words.
	Reason string `json:"reason"`
}

// DirContents counts what the walk did below a directory.
type DirContents struct {
	Uploaded int   `json:"uploaded"` // files uploaded
	Bytes    int64 `json:"bytes"`    // their size
	Skipped  int   `json:"skipped"`  // paths skipped (a skipped directory counts once)
}

// Explain decides rel (slash-separated, relative to the root) by the rules
// alone, checking each parent directory first as the walk does. Whether
// rel is a directory is read from the disk.
func (m *Matcher) Explain(rel string) Decision {
	rel = cleanRel(rel)
	isDir := false
	if st, err := os.Stat(filepath.Join(m.root, filepath.FromSlash(rel))); err == nil {
		isDir = st.IsDir()
	}
	d := Decision{Path: rel, Kept: true}
	if m.mode == ModeIgnoreFile {
		skip, via, rule := m.ig.explain(rel, isDir)
		d.Kept, d.Rule = !skip, rule
		if via != rel {
			d.Via = via
		}
	} else {
		parts := strings.Split(rel, "/")
		for i := range parts {
			pre := strings.Join(parts[:i+1], "/")
			if skip, rule := m.re.match(pre); skip {
				d.Kept, d.Rule = false, rule
				if pre != rel {
					d.Via = pre
				}
				break
			}
		}
	}
	d.Reason = m.reason(d)
	return d
}

func (m *Matcher) reason(d Decision) string {
	switch {
	case !d.Kept && d.Via != "":
		return fmt.Sprintf("skipped: its directory %s matches %s", human.Path(d.Via), d.Rule)
	case !d.Kept:
		return fmt.Sprintf("skipped: matches %s", d.Rule)
	case d.Rule != nil:
		return fmt.Sprintf("uploaded: re-included by %s", d.Rule)
	}
	return fmt.Sprintf("uploaded: no rule of %s matches", m.source)
}

// cleanRel turns a user-typed path into the walk's form: slashes, no "./".
func cleanRel(rel string) string {
	rel = filepath.ToSlash(filepath.Clean(filepath.FromSlash(rel)))
	return strings.TrimPrefix(strings.TrimPrefix(rel, "./"), "/")
}

// Explain decides rel with everything the walk knew: the rules, and the
// checks that skipped files the rules kept (.pyc conflicts, names).
func (r *Result) Explain(rel string) Decision {
	rel = cleanRel(rel)
	i := sort.Search(len(r.Skipped), func(i int) bool { return r.Skipped[i].Rel >= rel })
	if i < len(r.Skipped) && r.Skipped[i].Rel == rel {
		s := r.Skipped[i]
		if s.Rule == nil || s.Rule.Kind == KindBuiltin {
			return Decision{Path: rel, Rule: s.Rule, Reason: "skipped: " + s.Reason}
		}
	}
	d := r.Matcher.Explain(rel)
	if d.Kept {
		j := sort.Search(len(r.Files), func(i int) bool { return r.Files[i].Path >= rel })
		switch {
		case j < len(r.Files) && r.Files[j].Path == rel:
		case r.isDir(rel):
			r.explainDir(&d)
		default:
			d.Reason += " (but no such file was found in the app directory)"
		}
	}
	return d
}

// explainDir says what happened below a directory the rules keep: "kept"
// alone would read as "everything in it is uploaded", which is false when
// its files were skipped one by one.
func (r *Result) explainDir(d *Decision) {
	prefix := d.Path + "/"
	if d.Path == "." || d.Path == "" {
		prefix = ""
	}
	c := &DirContents{}
	for i := sort.Search(len(r.Files), func(i int) bool { return r.Files[i].Path >= prefix }); i < len(r.Files) && strings.HasPrefix(r.Files[i].Path, prefix); i++ {
		c.Uploaded++
		c.Bytes += r.Files[i].Size()
	}
	var skipped []Skip
	for i := sort.Search(len(r.Skipped), func(i int) bool { return r.Skipped[i].Rel >= prefix }); i < len(r.Skipped) && strings.HasPrefix(r.Skipped[i].Rel, prefix); i++ {
		skipped = append(skipped, r.Skipped[i])
	}
	c.Skipped = len(skipped)
	d.Contents = c
	var b strings.Builder
	switch {
	case c.Uploaded == 0 && c.Skipped == 0:
		b.WriteString("directory: it holds no file, nothing is uploaded from it")
	case c.Uploaded == 0:
		b.WriteString("directory: none of its files is uploaded")
	case c.Skipped == 0:
		fmt.Fprintf(&b, "directory: all its files are uploaded: %d (%s)", c.Uploaded, human.Size(c.Bytes))
	default:
		fmt.Fprintf(&b, "directory: %d of its files %s uploaded (%s)", c.Uploaded, isAre(c.Uploaded), human.Size(c.Bytes))
	}
	if c.Skipped > 0 {
		fmt.Fprintf(&b, "; %d %s below it %s skipped", c.Skipped, pathsWord(c.Skipped), isAre(c.Skipped))
		const named = 3
		if c.Skipped <= named {
			parts := make([]string, len(skipped))
			for i, s := range skipped {
				parts[i] = human.Path(s.Rel) + ": " + s.Reason
			}
			fmt.Fprintf(&b, " (%s)", strings.Join(parts, "; "))
		} else {
			b.WriteString(" (ls_files --skipped lists them with the reasons)")
		}
	}
	// The rules' own verdict on the directory, without its "uploaded:".
	fmt.Fprintf(&b, "; the directory itself is not skipped: %s", strings.TrimPrefix(d.Reason, "uploaded: "))
	d.Reason = b.String()
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func pathsWord(n int) string {
	if n == 1 {
		return "path"
	}
	return "paths"
}

func (r *Result) isDir(rel string) bool {
	st, err := os.Stat(filepath.Join(r.Root, filepath.FromSlash(rel)))
	return err == nil && st.IsDir()
}

// dirNode is a directory waiting on the walk stack, with the real path of
// it and of every directory above it, to recognise symlink loops.
type dirNode struct {
	rel    string
	real   string
	parent *dirNode
	// listing, when set, is the directory read ahead by another goroutine.
	listing *listing
}

// walker holds the state of one Walk.
type walker struct {
	m        *Matcher
	opts     Options
	rep      Reporter
	rootReal string
	python27 bool
	goStaged bool // a Go module staged as go-app-stager does
	res      *Result
	probs    []Problem
	ahead    chan struct{}    // read-ahead slots; see prefetch
	details  bool             // rep takes status lines (QuietReporter)
	bufs     sync.Pool        // getdents buffers (*[]byte), one per reader at a time
	reasons  map[*Rule]string // "matches RULE", made once for each rule
	// listings are those holding files kept (listed.kept), in walk
	// order, and nkept counts those files; see files.
	listings []*listing
	nkept    int
	// foreign holds the FileInfos that are not their entries' own
	// (listed.foreign), set by setForeign and read by info.
	foreignMu sync.Mutex
	foreign   map[*listed]fs.FileInfo
}

// Walk lists the upload set of dir. Directories are listed one at a time
// from an explicit stack; memory grows only with the result. Symbolic
// links are followed once each; a loop, or a link leaving the app without
// FollowExternalLinks, is a problem. After the walk come the python27
// .pyc checks, the limits and the secret guard. Any problem makes the error
// an *Error listing them all, returned with the complete Result.
func Walk(ctx context.Context, dir string, opts Options, rep Reporter) (*Result, error) {
	if rep == nil {
		rep = nopReporter{}
	}
	// A Go module is uploaded from its root, as gcloud's stager copies it.
	var mainPackage string
	staged := false
	if abs, err := filepath.Abs(dir); err == nil {
		var root string
		if root, mainPackage, staged = goStage(abs, opts.Runtime, opts.Env); staged {
			opts.SourceDir, dir = abs, root
		}
	}
	m, err := NewMatcher(dir, opts)
	if err != nil {
		return nil, err
	}
	st, err := os.Stat(m.root)
	if err != nil {
		return nil, fmt.Errorf("app directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	rootReal, err := filepath.EvalSymlinks(m.root)
	if err != nil {
		return nil, fmt.Errorf("app directory: %w", err)
	}
	w := &walker{m: m, opts: opts, rep: rep, rootReal: rootReal, goStaged: staged,
		python27: opts.Runtime == "python27",
		res:      &Result{Root: m.root, Matcher: m},
		ahead:    make(chan struct{}, aheadSlots())}
	// 8 KiB lists about 250 names a call: a directory of more costs a
	// few more calls, and the buffers (one per reader) fewer fresh pages.
	w.bufs.New = func() any { b := make([]byte, 8<<10); return &b }
	if q, ok := rep.(QuietReporter); !ok || q.Details() {
		w.details = true
	}
	w.checkEmptySkipFiles()
	stack := []*dirNode{{rel: "", real: rootReal}}
	for len(stack) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		stack = append(stack, w.listDir(d)...)
		w.readAhead(stack)
	}
	kept := w.kept()
	var cached func() verdicts
	if !opts.AllowSecrets {
		cached = w.lookUpVerdicts(kept) // beside the writing of the set
	}
	w.res.Files = w.files(kept)
	slices.SortFunc(w.res.Skipped, func(a, b Skip) int { return strings.Compare(a.Rel, b.Rel) })
	for _, f := range w.res.Files {
		w.res.TotalSize += f.Size()
	}
	w.checkHandlers()
	w.probs = append(w.probs, checkLimits(w.res.Files, limitsFor(opts))...)
	if !opts.AllowSecrets {
		if err := w.checkSecrets(ctx, cached()); err != nil {
			return nil, err
		}
	}
	if staged {
		// Generated, so past the checks of what is on disk.
		f := appfile.Generated(MainPackageFile, []byte(mainPackage))
		i := sort.Search(len(w.res.Files), func(i int) bool { return w.res.Files[i].Path >= f.Path })
		if i < len(w.res.Files) && w.res.Files[i].Path == f.Path {
			w.res.TotalSize -= w.res.Files[i].Size()
			w.res.Files[i] = f // the stager writes over a file of that name
		} else {
			w.res.Files = append(w.res.Files[:i], append([]File{f}, w.res.Files[i:]...)...)
		}
		w.res.TotalSize += f.Size()
	}
	return w.res, errorOf(w.probs)
}

// checkEmptySkipFiles reports "skip_files: []", which appcfg takes as
// "skip nothing" while the SDK uploads nothing at all (it joins the empty
// list into the pattern "", which matches every path): a deliberate
// difference, so a warning, or an error with Strict.
func (w *walker) checkEmptySkipFiles() {
	if w.m.mode != ModeSkipFiles || w.opts.SkipFiles == nil || len(w.opts.SkipFiles) > 0 {
		return
	}
	p := Problem{Kind: ProblemConfig, File: w.opts.SkipFilesSource,
		Message: "skip_files is an empty list: appcfg uploads every file, while appcfg.py and gcloud would upload none (they join the list into the pattern '', which matches every path)",
		Hint:    "remove skip_files to get the SDK's default, or list the patterns to skip"}
	if w.opts.Strict {
		w.probs = append(w.probs, p)
		return
	}
	w.rep.Warn(p.String())
}

// matches is the reason of a path the rule skips: made once for each
// rule, not for each path.
func (w *walker) matches(rule *Rule) string {
	r, ok := w.reasons[rule]
	if !ok {
		if w.reasons == nil {
			w.reasons = map[*Rule]string{}
		}
		r = "matches " + rule.String()
		w.reasons[rule] = r
	}
	return r
}

func (w *walker) skip(rel string, isDir bool, reason string, rule *Rule) {
	w.res.Skipped = append(w.res.Skipped, Skip{Rel: rel, Dir: isDir, Reason: reason, Rule: rule})
}

// listDir records the files of one directory and returns the
// subdirectories to visit, in name order.
func (w *walker) listDir(d *dirNode) []*dirNode {
	abs := filepath.Join(w.m.root, filepath.FromSlash(d.rel))
	l := d.listing
	if l == nil {
		l = w.readListing(d.rel, abs)
	} else {
		<-l.done
		<-w.ahead // its slot is free once it is consumed
		l.crashed.Reraise()
	}
	w.res.lstats += l.lstats
	if l.err != nil && d.rel != "" && errors.Is(l.err, fs.ErrNotExist) {
		// Listed by its parent, gone before it was read: nothing of it
		// can be uploaded, as for a file that vanished.
		w.skip(d.rel, true, fmt.Sprintf("vanished while listing: %v", unwrapPath(l.err)), nil)
		return nil
	}
	if l.err != nil {
		w.probs = append(w.probs, Problem{Kind: ProblemUnreadable, Path: displayRel(d.rel),
			Message: fmt.Sprintf("cannot list the directory: %v", unwrapPath(l.err)),
			Hint:    "fix its permissions, or skip it with a rule"})
		return nil
	}
	var subdirs []*dirNode
	nkept := w.nkept
	for i := range l.ents {
		e := &l.ents[i]
		rel := e.rel()
		if len(l.errs) > 0 {
			if err := l.errOf(i); err != nil {
				w.skip(rel, false, fmt.Sprintf("vanished while listing: %v", unwrapPath(err)), nil)
				continue
			}
		}
		info, real, isDir := w.info(e), "", e.isDir()
		if e.isSymlink() {
			var ok bool
			if info, real, ok = w.resolve(d, rel, joinPath(abs, e.name())); !ok {
				continue
			}
			isDir = info.IsDir()
		}
		if isDir && w.goStaged && e.name() == ".git" {
			w.skip(rel, true, "gcloud's Go stager does not copy .git directories", nil)
			continue
		}
		if !isDir && (info == nil && e.typ() != 0 || info != nil && !info.Mode().IsRegular()) {
			w.skip(rel, false, "not a regular file", nil)
			continue
		}
		skip, rule := e.skip, e.rule
		if !e.decided {
			skip, rule = w.m.Match(rel, isDir)
		}
		if skip {
			what := "file"
			if isDir {
				what = "directory"
			}
			if w.details {
				w.rep.Status(fmt.Sprintf("Ignoring %s '%s': matches %s", what, human.Path(rel), rule))
			}
			w.skip(rel, isDir, w.matches(rule), rule)
			continue
		} else if isDir {
			if real == "" {
				real = d.real + "/" + e.name()
			}
			subdirs = append(subdirs, &dirNode{rel: rel, real: real, parent: d})
		} else {
			if e.isSymlink() {
				w.setForeign(e, info) // what it leads to
			}
			e.rule = rule
			w.addFile(e, abs, l.ents)
		}
	}
	if w.nkept > nkept {
		w.listings = append(w.listings, l)
	}
	// Pushed in reverse so the stack pops them in name order.
	for i, j := 0, len(subdirs)-1; i < j; i, j = i+1, j-1 {
		subdirs[i], subdirs[j] = subdirs[j], subdirs[i]
	}
	return subdirs
}

// joinPath is filepath.Join for a clean directory and one name, without
// Join's cleaning, which costs more than the rest of an entry's handling.
func joinPath(dir, name string) string {
	if strings.HasSuffix(dir, string(filepath.Separator)) {
		return dir + name
	}
	return dir + string(filepath.Separator) + name
}

// resolve follows the symbolic link full once: info describes its target
// and real is the target's real path. ok is false when the link was dropped
// or is a problem.
func (w *walker) resolve(d *dirNode, rel, full string) (info fs.FileInfo, real string, ok bool) {
	info, err := os.Stat(full)
	if w.opts.afterLinkStat != nil {
		w.opts.afterLinkStat(rel)
	}
	if errors.Is(err, syscall.ELOOP) {
		w.loop(rel, "refers to itself")
		return nil, "", false
	}
	if err != nil {
		w.rep.Warn(fmt.Sprintf("Ignoring '%s': dangling symbolic link (%v)", human.Path(rel), unwrapPath(err)))
		w.skip(rel, false, "dangling symbolic link", nil)
		return nil, "", false
	}
	real, err = filepath.EvalSymlinks(full)
	if err != nil {
		w.loop(rel, "cannot be resolved: "+unwrapPath(err).Error())
		return nil, "", false
	}
	// The checks below judge real, so info must describe it: a link
	// swapped between the two calls would pass one file and list another.
	if st, err := os.Stat(real); err != nil || !os.SameFile(info, st) {
		w.probs = append(w.probs, Problem{Kind: ProblemUnreadable, Path: rel,
			Message: "symbolic link changed while the app was being listed",
			Hint:    "run the command again once nothing is changing the app directory"})
		w.skip(rel, info.IsDir(), "symbolic link changed while listing", nil)
		return nil, "", false
	}
	if !within(w.rootReal, real) && !w.opts.FollowExternalLinks {
		target, _ := os.Readlink(full)
		w.probs = append(w.probs, Problem{Kind: ProblemExternalLink, Path: rel,
			Message: fmt.Sprintf("symbolic link to %s points outside the app directory", human.Path(target)),
			Hint:    "pass --follow-external-links to upload what it points to, or skip it with a rule"})
		w.skip(rel, info.IsDir(), "symbolic link outside the app directory", nil)
		return nil, "", false
	}
	if info.IsDir() {
		for n := d; n != nil; n = n.parent {
			if n.real == real || within(real, n.real) {
				w.loop(rel, fmt.Sprintf("points to %s, which contains it", human.Path(real)))
				return nil, "", false
			}
		}
	}
	return info, real, true
}

func (w *walker) loop(rel, what string) {
	w.probs = append(w.probs, Problem{Kind: ProblemSymlinkLoop, Path: rel,
		Message: "symbolic link loop: the link " + what,
		Hint:    "remove the link, or skip it with a rule"})
	w.skip(rel, false, "symbolic link loop", nil)
}

// within reports whether p is dir or below it.
func within(dir, p string) bool {
	if p == dir {
		return true
	}
	if !strings.HasSuffix(dir, string(filepath.Separator)) {
		dir += string(filepath.Separator)
	}
	return strings.HasPrefix(p, dir)
}

func displayRel(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}

// addFile keeps the file e of the directory dir unless a check drops it.
func (w *walker) addFile(e *listed, dir string, siblings []listed) {
	rel := e.rel()
	if msg := invalidName(rel); msg != "" {
		w.rep.Warn(msg)
		w.skip(rel, false, msg, &Rule{Kind: KindBuiltin, Pattern: "file name check"})
		return
	}
	if w.python27 && !w.checkPython(rel, dir, siblings) {
		return
	}
	e.kept = true
	w.nkept++
}

// kept are the entries of the files kept, sorted by path: gathered at the
// end, when their number is known (a list grown as the walk went was
// copied into fresh memory at each growth), and sorted as pointers.
func (w *walker) kept() []*listed {
	kept := make([]*listed, 0, w.nkept)
	for _, l := range w.listings {
		for i := range l.ents {
			if e := &l.ents[i]; e.kept {
				kept = append(kept, e)
			}
		}
	}
	slices.SortFunc(kept, func(a, b *listed) int { return strings.Compare(a.rel(), b.rel()) })
	return kept
}

// files makes the upload set of the files kept (w.kept). It is built once,
// at its final size: a list of File values grown by append was copied
// whole into fresh memory at each growth, and sorted by moving 120-byte
// values, which for 10,000 files cost a tenth of ls_files' time (mostly
// page faults).
func (w *walker) files(kept []*listed) []File {
	files := make([]File, len(kept))
	fill := func(from, to int) {
		for i, e := range kept[from:to] {
			files[from+i] = File{Path: e.rel(), Rule: e.rule, Info: w.info(e)}
		}
	}
	// Writing the set is mostly first touches of fresh pages (a fault a
	// 4 KiB, about 11 µs on a VM: 215 of them for 10,000 files), and it
	// is all that runs when it runs: a second goroutine takes half, so
	// both cores fault. Not for a set of a few pages.
	if half := len(kept) / 2; half >= fillSplit && runtime.GOMAXPROCS(0) > 1 {
		var crashed crash.Catcher
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer crashed.Recover()
			fill(half, len(kept))
		}()
		fill(0, half)
		<-done
		crashed.Reraise()
		return files
	}
	fill(0, len(kept))
	return files
}

// fillSplit is the number of files (22 pages of them) from which files
// writes each half of the upload set on a goroutine of its own.
const fillSplit = 1024

// listing is one directory read and decided: its entries in name order,
// the rules' verdict on each that the name and type decide, and the lstat
// of each file the rules keep (and of entries of unknown type) — nothing
// else is stat'ed, as git reads a tree. Reading ahead (prefetch) makes it
// on another goroutine, so it touches nothing of the walk's but the
// matcher, which is safe for concurrent use.
type listing struct {
	ents   []listed
	errs   []entryErr // the entries whose lstat failed
	err    error
	lstats int // lstat calls made, for tests
	done   chan struct{}
	// crashed holds a panic of the goroutine reading ahead, raised again
	// by the walk: a bug, not a directory that cannot be read.
	crashed crash.Catcher
}

// errOf is why the lstat of entry i failed, nil when it did not.
func (l *listing) errOf(i int) error {
	for _, e := range l.errs {
		if e.i == i {
			return e.err
		}
	}
	return nil
}

// listed is one entry of a listing: 72 bytes with its lstat, as every
// entry the walk lists is kept to its end (the upload set is made of
// them, and a kept file's File.Info is its entry: entryInfo).
type listed struct {
	// path and pathLen are the entry's path from the root (rel), made in
	// the listing's arena; its name starts at nameAt. Not its absolute
	// path, though File.Abs is that: the app directory again at the start
	// of every entry was 80 page faults for 11,400 entries, where the few
	// files read make theirs when they are (File.Abs). Lengths of 16 bits
	// (see fillListing for the bound) save 8 bytes an entry on a string.
	path *byte
	rule *Rule
	// st is the lstat, when one was made (stated). When it failed (the
	// entry vanished), the listing's errs holds why.
	st entryStat
	// mode is the type bits the directory gave (fs.ModeType; meaningless
	// when unknown) until the lstat, then the lstat's whole mode.
	mode fs.FileMode
	// nameAt: where the name starts in path (see fillListing for its bound).
	pathLen, nameAt uint16
	// unknown: the file system did not say (DT_UNKNOWN, as on some network
	// and older file systems); the walk lstats the entry to learn it.
	unknown bool
	// decided: skip and rule are the rules' verdict. A symbolic link is
	// decided by the walk, on what it leads to.
	decided bool
	skip    bool
	kept    bool // in the upload set (addFile)
	stated  bool // lstat'ed: st and mode hold it, or the FileInfo is foreign
	// foreign: the entry's FileInfo is not st but one held in
	// walker.foreign: for a kept symbolic link, the stat of what it leads
	// to; on systems other than Linux, os.Lstat's.
	foreign bool
}

// rel is the entry's path from the root, slash-separated.
func (e *listed) rel() string { return unsafe.String(e.path, e.pathLen) }

// name is the entry's name in its directory.
func (e *listed) name() string { return e.rel()[e.nameAt:] }

func (e *listed) isDir() bool     { return e.mode&fs.ModeDir != 0 }
func (e *listed) isSymlink() bool { return e.mode&fs.ModeSymlink != 0 }

// typ is the entry's type bits (fs.ModeType): 0 for a regular file.
func (e *listed) typ() fs.FileMode { return e.mode.Type() }

// info is the entry's FileInfo: nil before its lstat (or when that
// failed), else the entry itself, or the foreign one (listed.foreign).
func (w *walker) info(e *listed) fs.FileInfo {
	switch {
	case e.foreign:
		w.foreignMu.Lock()
		defer w.foreignMu.Unlock()
		return w.foreign[e]
	case e.stated:
		return (*entryInfo)(e)
	}
	return nil
}

// setForeign makes fi the FileInfo of e (listed.foreign); safe from the
// read-ahead goroutines, which on systems other than Linux set every one.
func (w *walker) setForeign(e *listed, fi fs.FileInfo) {
	w.foreignMu.Lock()
	defer w.foreignMu.Unlock()
	if w.foreign == nil {
		w.foreign = map[*listed]fs.FileInfo{}
	}
	w.foreign[e] = fi
	e.foreign, e.stated = true, true
}

// lstat stats e with h: into e itself on Linux, else into a foreign
// FileInfo (dirHandle.lstat).
func (w *walker) lstat(h *dirHandle, e *listed) error {
	fi, err := h.lstat(e)
	if err != nil {
		return err
	}
	if fi != nil {
		e.mode = fi.Mode()
		w.setForeign(e, fi)
	}
	return nil
}

// entryErr is the failed lstat of entry i of a listing (it vanished):
// rare, so kept aside rather than in every entry.
type entryErr struct {
	i   int
	err error
}

// readListing lists the directory abs (rel from the root) and decides its
// entries by name before any stat.
func (w *walker) readListing(rel, abs string) *listing {
	l := &listing{}
	w.fillListing(l, rel, abs)
	return l
}

// fillListing makes l the listing of rel, as readListing says.
func (w *walker) fillListing(l *listing, rel, abs string) {
	h, err := openDir(abs)
	if err != nil {
		l.err = err
		return
	}
	defer h.close()
	if len(rel) > maxListedDir {
		l.err = &fs.PathError{Op: "open", Path: abs, Err: errors.New("path too long")}
		return
	}
	bp := w.bufs.Get().(*[]byte)
	l.ents, l.err = h.read(*bp, rel, w.opts.unknownTypes)
	w.bufs.Put(bp)
	if l.err != nil {
		return
	}
	for i := range l.ents {
		le := &l.ents[i]
		if le.unknown {
			// The file system did not say what the entry is: ask it.
			l.lstats++
			if err := w.lstat(h, le); err != nil {
				l.errs = append(l.errs, entryErr{i, err})
				continue
			}
			le.unknown = false
		}
		isDir := le.isDir()
		if le.isSymlink() || !isDir && le.typ() != 0 || isDir && w.goStaged && le.name() == ".git" {
			continue // links, special files and .git: the walk's own checks
		}
		le.decided = true
		le.skip, le.rule = w.m.Match(le.rel(), isDir)
	}
	for i := range l.ents {
		if le := &l.ents[i]; le.decided && !le.skip && !le.isDir() && !le.stated {
			l.lstats++
			if err := w.lstat(h, le); err != nil {
				l.errs = append(l.errs, entryErr{i, err})
			}
		}
	}
}

// maxListedDir bounds the length of the directory part of a listed path,
// whose whole length (with a name of up to 1,023 bytes: no system allows
// more than 255 characters) is a uint16 (listed.pathLen). The kernel's own
// bound on a path is 4,096 bytes.
const maxListedDir = math.MaxUint16 - 1024

// aheadSlots is how many directories are read ahead of the walk at most:
// 8 a CPU, up to 64 (each is an open directory while it is read). With 2
// a CPU the queue ran dry whenever the walk's goroutine was late to take
// a listing, and a core idled: an ls_files of 11,400 files on 2 cores
// took 67 ms of wall time and 98 ms of CPU (medians of 25 SCHED_FIFO
// runs beside a loaded machine), with 6, 8 or 12 a CPU 62-63 and 93-94.
func aheadSlots() int { return min(8*runtime.NumCPU(), 64) }

// readAhead fills the free read-ahead slots with the directories the walk
// visits next: the top of its stack. (Starting only the subdirectories of
// the directory just listed left most directories to the walk itself: in
// a tree of many leaf directories, the slots were taken by the first few.)
func (w *walker) readAhead(stack []*dirNode) {
	for i := len(stack) - 1; i >= 0 && len(w.ahead) < cap(w.ahead); i-- {
		if stack[i].listing == nil {
			w.prefetch(stack[i])
		}
	}
}

// prefetch starts reading d ahead of the walk when a read-ahead slot is free.
// The walk itself stays sequential and in order; only the listing, the
// matching and the stats run ahead, and at most cap(w.ahead) listings wait
// in memory.
func (w *walker) prefetch(d *dirNode) {
	select {
	case w.ahead <- struct{}{}:
	default:
		return // the walk lists it itself when it gets there
	}
	l := &listing{done: make(chan struct{})}
	d.listing = l
	abs := filepath.Join(w.m.root, filepath.FromSlash(d.rel))
	go func() {
		defer close(l.done)
		defer l.crashed.Recover()
		crash.Point("skipfiles.prefetch")
		w.fillListing(l, d.rel, abs)
	}()
}
