package main

import (
	"fmt"
	"slices"

	"github.com/urfave/cli/v2"
)

// legacyOption is an option of appcfg.py 1.9.x that old scripts still pass.
// Either appcfg honours it elsewhere (note and refuse empty), or it has no
// meaning here and a note says so once, or it is refused on purpose.
type legacyOption struct {
	flag   cli.Flag
	note   string
	refuse *refusedError
}

// Names of the legacy options appcfg honours.
const (
	flagNoCookies    = "no_cookies"
	flagCredFile     = "oauth2_credential_file"
	flagClientID     = "oauth2_client_id"
	flagClientSecret = "oauth2_client_secret"
	flagMaxSize      = "max_size"
)

// errPasswordSignIn is the refusal of every option of password sign-in.
var errPasswordSignIn = refusedError{
	what:    "password sign-in (--passin, --no_oauth2)",
	why:     "Google removed password sign-in for App Engine in 2015 (appcfg.py 1.9.25)",
	instead: "use --oauth2_refresh_token TOKEN, --service_account_json KEY.json, or run once on a terminal to sign in with a browser",
}

func legacyBool(name string, aliases []string, note string) legacyOption {
	return legacyOption{flag: &cli.BoolFlag{Name: name, Aliases: aliases, Category: "legacy", Hidden: true, Usage: "appcfg.py option: " + note}, note: note}
}

func legacyString(name string, aliases []string, note string) legacyOption {
	return legacyOption{flag: &cli.StringFlag{Name: name, Aliases: aliases, Category: "legacy", Hidden: true, Usage: "appcfg.py option: " + note}, note: note}
}

// legacyGlobalOptions are appcfg.py's global options not defined with the
// others (globals.go, auth_flags.go).
func legacyGlobalOptions() []legacyOption {
	refused := func(name string) legacyOption {
		e := errPasswordSignIn
		return legacyOption{flag: &cli.BoolFlag{Name: name, Category: "legacy", Hidden: true, Usage: "refused: " + e.why}, refuse: &e}
	}
	return []legacyOption{
		legacyBool("oauth2", nil, "the --oauth2 flag is now the default and can be omitted"),
		refused("passin"),
		refused("no_oauth2"),
		legacyString("email", []string{"e"}, "--email is not used: sign-in is OAuth2 (the account is the one of the credentials)"),
		legacyString("server", []string{"s"}, "--server is not used: the host is chosen with --backend"),
		legacyString("host", []string{"H"}, "--host is not used: the host is chosen with --backend"),
		legacyBool("skip_sdk_update_check", nil, "--skip_sdk_update_check has no effect: appcfg never checks for SDK updates"),
		legacyBool("authenticate_service_account", nil, "--authenticate_service_account is the default: without other credentials appcfg uses Application Default Credentials, which on a Compute Engine VM are its service account"),
		legacyBool("secure", nil, "--secure has no effect: remote hosts are always reached over HTTPS"),
		legacyBool("insecure", nil, "--insecure has no effect: remote hosts are always reached over HTTPS (plain HTTP only on loopback)"),
		legacyBool("ignore_bad_cert", nil, "--ignore_bad_cert has no effect: certificates are always checked"),
		legacyOption{flag: &cli.StringSliceFlag{Name: "source_ref", Category: "legacy", Hidden: true, Usage: "appcfg.py option: not recorded"},
			note: "--source_ref is not recorded with the version"},
		legacyBool("called_by_gcloud", nil, "--called_by_gcloud has no effect"),
		legacyBool("ignore_endpoints_failures", nil, "--ignore_endpoints_failures has no effect: appcfg does not push Cloud Endpoints configurations"),
		legacyBool("no_ignore_endpoints_failures", nil, "--no_ignore_endpoints_failures has no effect: appcfg does not push Cloud Endpoints configurations"),
		{flag: &cli.BoolFlag{Name: flagNoCookies, Category: "auth", Usage: "keep no credentials on disk: neither read nor save the cached browser sign-in"}},
		{flag: &cli.StringFlag{Name: flagCredFile, Category: "auth", Usage: "the file that caches the browser sign-in (default in the user cache dir)"}},
		{flag: &cli.StringFlag{Name: flagClientID, Category: "auth", Usage: "OAuth2 client id of the browser sign-in"}},
		{flag: &cli.StringFlag{Name: flagClientSecret, Category: "auth", Usage: "OAuth2 client secret of the browser sign-in"}},
	}
}

// legacyUpdateOptions are update's appcfg.py options that have no meaning
// here; --max_size is honoured by update itself.
func legacyUpdateOptions() []legacyOption {
	java := "is for Java apps, which appcfg deploys as they are staged"
	return []legacyOption{
		legacyBool("no_precompilation", nil, "--no_precompilation has no effect: hosts no longer precompile Python"),
		legacyBool("no_usage_reporting", nil, "--no_usage_reporting has no effect: appcfg never reports usage"),
		legacyBool("backends", nil, "--backends has no effect: backends are deployed as services; see `appcfg help backends`"),
		legacyString("repo_info_file", nil, "--repo_info_file is not recorded with the version"),
		legacyBool("retain_upload_dir", nil, "--retain_upload_dir "+java),
		legacyBool("no_symlinks", nil, "--no_symlinks "+java),
		legacyString("compile_encoding", nil, "--compile_encoding "+java),
		legacyBool("disable_jar_jsps", nil, "--disable_jar_jsps "+java),
		legacyBool("delete_jsps", nil, "--delete_jsps "+java),
		legacyBool("enable_jar_classes", nil, "--enable_jar_classes "+java),
		legacyBool("enable_jar_splitting", nil, "--enable_jar_splitting "+java),
		legacyString("jar_splitting_excludes", nil, "--jar_splitting_excludes "+java),
		{flag: &cli.StringFlag{Name: flagMaxSize, Aliases: []string{"S"},
			Usage: "skip files larger than `BYTES` with a warning, as appcfg.py 1.6 did (at most the host's limit)"}},
	}
}

// legacyFlags returns the flags of opts.
func legacyFlags(opts []legacyOption) []cli.Flag {
	flags := make([]cli.Flag, len(opts))
	for i, o := range opts {
		flags[i] = o.flag
	}
	return flags
}

// checkLegacy prints the note of each given option that has no meaning
// (once: each option is looked at once per run), and refuses the first
// option refused on purpose.
func checkLegacy(c *cli.Context, opts []legacyOption) error {
	quiet := c.Bool(flagQuiet)
	// The options given, looked up once: c.IsSet walks every flag's names
	// for each name it is asked about.
	given := map[string]bool{}
	for _, n := range c.LocalFlagNames() {
		given[n] = true
	}
	for _, o := range opts {
		if !slices.ContainsFunc(flagNames(o.flag), func(n string) bool { return given[n] }) {
			continue
		}
		if o.refuse != nil {
			return *o.refuse
		}
		if o.note != "" && !quiet {
			fmt.Fprintf(c.App.ErrWriter, "Note: %s.\n", o.note)
		}
	}
	return nil
}
