package skipfiles

import (
	"fmt"
	"sort"
)

// Limits are the server's limits on one version, checked before any byte
// is sent. Zero fields take the defaults; a negative field turns the check
// off.
type Limits struct {
	MaxFiles     int   // files per version (10,000)
	MaxFileSize  int64 // bytes per file (32,000,000, the SDK's max_file_size)
	MaxTotalSize int64 // bytes per version (157,286,400 = 150 MiB)
}

// The default limits (appcfg.py's resource-limit defaults).
const (
	DefaultMaxFiles     = 10000
	DefaultMaxFileSize  = 32_000_000
	DefaultMaxTotalSize = 157_286_400
)

func (l Limits) withDefaults() Limits {
	if l.MaxFiles == 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.MaxFileSize == 0 {
		l.MaxFileSize = DefaultMaxFileSize
	}
	if l.MaxTotalSize == 0 {
		l.MaxTotalSize = DefaultMaxTotalSize
	}
	return l
}

// limitsFor are the limits of opts as Google's tools apply them by
// runtime generation: the per-file limit of 32 MB is checked (by gcloud's
// _MAX_FILE_SIZE_STANDARD, as by appcfg.py) for first-generation runtimes
// only; a second-generation app's large file is left to the server. A
// limit the host or the user set is kept.
func limitsFor(opts Options) Limits {
	l := opts.Limits
	if _, second := SecondGen(opts.Runtime, opts.Env); second && l.MaxFileSize == 0 {
		l.MaxFileSize = -1
	}
	return l
}

// checkLimits reports each breached limit with the offending files, largest
// first: for the count and total limits, the files whose removal helps most.
func checkLimits(files []File, l Limits) []Problem {
	l = l.withDefaults()
	var probs []Problem
	if l.MaxFileSize > 0 {
		var big []FileSize
		for _, f := range files {
			if f.Size() > l.MaxFileSize {
				big = append(big, FileSize{Path: f.Path, Size: f.Size()})
			}
		}
		if len(big) > 0 {
			sortLargestFirst(big)
			probs = append(probs, Problem{Kind: ProblemFileTooLarge, Files: big,
				Message: fmt.Sprintf("%d %s larger than the limit of %d bytes per file:", len(big), filesWord(len(big)), l.MaxFileSize),
				Hint:    "skip them with a rule, or serve them from Cloud Storage"})
		}
	}
	var total int64
	for _, f := range files {
		total += f.Size()
	}
	countOver := l.MaxFiles > 0 && len(files) > l.MaxFiles
	totalOver := l.MaxTotalSize > 0 && total > l.MaxTotalSize
	if !countOver && !totalOver {
		return probs
	}
	all := make([]FileSize, len(files))
	for i, f := range files {
		all[i] = FileSize{Path: f.Path, Size: f.Size()}
	}
	sortLargestFirst(all)
	if len(all) > maxListed {
		all = all[:maxListed]
	}
	if countOver {
		probs = append(probs, Problem{Kind: ProblemTooManyFiles, Files: all,
			Message: fmt.Sprintf("%d files to upload, over the limit of %d files per version; the largest:", len(files), l.MaxFiles),
			Hint:    "skip generated or vendored directories with a rule (appcfg ls_files --skipped shows what is skipped now)"})
	}
	if totalOver {
		probs = append(probs, Problem{Kind: ProblemTotalTooLarge, Files: all,
			Message: fmt.Sprintf("%d bytes to upload, over the limit of %d bytes per version; the largest files:", total, l.MaxTotalSize),
			Hint:    "skip large files with a rule, or serve them from Cloud Storage"})
	}
	return probs
}

// maxListed caps the files named for the count and total limits: the
// largest ones are the useful ones to look at.
const maxListed = 100

func sortLargestFirst(fs []FileSize) {
	sort.SliceStable(fs, func(i, j int) bool {
		if fs[i].Size != fs[j].Size {
			return fs[i].Size > fs[j].Size
		}
		return fs[i].Path < fs[j].Path
	})
}

func filesWord(n int) string {
	if n == 1 {
		return "file"
	}
	return "files"
}
