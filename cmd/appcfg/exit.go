package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/internal/redact"
)

// Exit statuses. Their meaning never changes once released; scripts rely on
// them (README.md, "Exit codes").
const (
	exitOK      = 0 // the command did what was asked
	exitFailure = 1 // the input is wrong, the host refused, or the run was interrupted
	exitUsage   = 2 // the command line itself is wrong
	// exitRefused: what was asked is refused on purpose, because no host
	// supports it any more (password sign-in, Managed VMs); the message
	// says what to use instead. docs/compat.md lists every refusal.
	exitRefused = 6
	// exitBug: appcfg itself failed (a panic), EX_SOFTWARE of sysexits.h.
	exitBug = 70
)

// exitCodesText is `appcfg help exit-codes`; README.md's "Exit codes" says
// the same.
const exitCodesText = `Exit status of every appcfg command (with --format json a failure also prints
{"error":{"class":…,"exit_code":…,"message":…}} on stdout; docs/output.md):

   0  ok           the command did what was asked
   1  failure      the input or the deploy failed (validation errors, a damaged
                   store, a host's refusal of the content), or it was interrupted
   2  usage        the command line is wrong
   3  conflict     another operation holds what was asked for: a deploy lock held
                   by another update, an operation in progress on the service that
                   did not end within --timeout; wait, or release it (appcfg rollback)
   4  denied       not authenticated, or a permission is missing (the message names
                   it, e.g. iam.serviceAccounts.actAs on the runtime service account)
   5  limit        a quota or a hard limit: the version cap (210), 10,000 files,
                   32 MB a file, 150 MiB a version; remove versions or files
   6  refused      refused on purpose (password sign-in, Managed VMs); the message
                   says what to use instead (docs/compat.md)
  70  bug          appcfg itself failed; please report it
  75  transient    the host could not be reached or kept failing after the retries
                   (network errors, 5xx answers); the same command may pass later
`

func exitCodesCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:               "exit-codes",
		Usage:              "what each exit status means",
		Hidden:             true,
		CustomHelpTemplate: exitCodesText,
		Action: func(*cli.Context) error {
			fmt.Fprint(io.out, exitCodesText)
			return nil
		},
	}
}

// refusedError is a legacy command or option appcfg refuses on purpose: what
// was asked, why it cannot be done any more, and what to use instead.
type refusedError struct{ what, why, instead string }

func (e refusedError) Error() string {
	return fmt.Sprintf("%s is not supported: %s; %s", e.what, e.why, e.instead)
}

// usageError marks a mistake in the command line: unknown command or flag,
// missing or extra argument. It exits 2, as optparse errors did.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// errReported means the command already printed what went wrong (for
// example validate's list of problems); only the exit status is left to set.
var errReported = errors.New("problems reported")

// Failure classes: each exit status a failure can have, and the word the
// JSON error object names it by (docs/schemas/error.json).
const (
	exitConflict  = 3  // another operation holds what was asked for (a lock, an operation in progress)
	exitDenied    = 4  // not authenticated, or a permission is missing
	exitLimit     = 5  // a quota or a hard limit of the host (the version cap, 10,000 files, 32 MB)
	exitTransient = 75 // EX_TEMPFAIL: the host could not be reached or kept failing; retry later
)

// failureClass is the one mapping from an error to its exit status and class.
func failureClass(err error) (class string, code int) {
	var ue usageError
	var re refusedError
	var ce *crash.Error
	switch {
	case err == nil:
		return "", exitOK
	case errors.Is(err, errReported), errors.Is(err, errDamaged):
		// The command printed what went wrong; verify's damage is the
		// store's content failing, class 1 too.
		return "failure", exitFailure
	case errors.As(err, &ue):
		return "usage", exitUsage
	case errors.As(err, &re):
		return "refused", exitRefused
	case errors.As(err, &ce):
		return "bug", exitBug
	case errors.Is(err, context.Canceled):
		return "interrupted", exitFailure
	case errors.Is(err, backend.ErrConflict), errors.Is(err, backend.ErrLocked):
		return "conflict", exitConflict
	case errors.Is(err, backend.ErrDenied):
		return "denied", exitDenied
	case errors.Is(err, backend.ErrLimit):
		return "limit", exitLimit
	case errors.Is(err, backend.ErrTransient):
		return "transient", exitTransient
	}
	return "failure", exitFailure
}

// exitCode maps an error to its exit status (failureClass) and prints it once
// on stderr, with a hint where one helps. It is the only place that
// decides exit statuses.
func exitCode(err error, stderr io.Writer) int {
	code, _ := reportError(err, stderr)
	return code
}

// reportError is exitCode that also returns the error's class.
func reportError(err error, stderr io.Writer) (int, string) {
	if err != nil {
		// Errors carry server answers, URLs and file names: no credential
		// among them reaches the screen.
		err = redactedError{err}
	}
	class, code := failureClass(err)
	var ce *crash.Error
	var re refusedError
	switch {
	case err == nil, errors.Is(err, errReported), errors.Is(err, errDamaged):
		// Nothing to print: the command did already.
	case class == "usage":
		fmt.Fprintf(stderr, "appcfg: error: %v\n", err)
		fmt.Fprintln(stderr, "Run 'appcfg help' for the list of commands, or 'appcfg help COMMAND' for one command's flags.")
	case class == "bug" && errors.As(err, &ce):
		// A goroutine panicked (internal/crash): a bug, reported as
		// recoverBug reports one in the main goroutine.
		fmt.Fprintln(stderr, bugLine(ce))
	case class == "refused" && errors.As(err, &re):
		fmt.Fprintf(stderr, "appcfg: %v\n", redactedError{re})
	case class == "interrupted":
		fmt.Fprintln(stderr, "appcfg: interrupted")
	default:
		fmt.Fprintf(stderr, "appcfg: %v\n", err)
	}
	return code, class
}

// redactedError is an error whose message has its credentials removed
// (internal/redact); errors.Is and errors.As see the original.
type redactedError struct{ err error }

func (e redactedError) Error() string { return redact.String(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }

// recoverBug, deferred, turns a panic into one line on stderr and exit
// status 70. A panic is a bug whatever the input: the user gets what to do
// (report it) and where it happened, never a trace that may quote memory.
// Panics in other goroutines arrive as *crash.Error (exitCode), or are
// raised again here by crash.Catcher.Reraise.
func recoverBug(stderr io.Writer, code *int) {
	r := recover()
	if r == nil {
		return
	}
	fmt.Fprintln(stderr, bugLine(crash.FromPanic(r)))
	*code = exitBug
}

// bugLine is the one line a bug is reported with, from any goroutine.
func bugLine(e *crash.Error) string {
	return redact.String(fmt.Sprintf("appcfg: %v; this is a bug in appcfg, please report it with the command you ran (%s)", e, versionLine()))
}
