package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/appcfg/appcfg/backend"
	"github.com/appcfg/appcfg/internal/crash"
	"github.com/appcfg/appcfg/logs"
	"github.com/appcfg/appcfg/serve"
)

// shutdownGrace bounds how long a stopping server waits for requests in
// flight and for the last logs to be written.
const shutdownGrace = 15 * time.Second

// defaultServePort is where serve listens unless --port says otherwise;
// update names the local URLs with it.
const defaultServePort = 8080

func serveCommand(io stdio) *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "serve the deployed versions of an application over HTTP, recording request logs",
		ArgsUsage: "[DIR]  (or -A APP_ID)",
		Description: "Serves the versions deployed to the backend, routed by app.yaml's handlers and dispatch.yaml,\n" +
			"and records every request (see request_logs). Static files are served from the store; every\n" +
			"other URL of a second-generation runtime (python3, nodejs, go, java …) goes to an instance of\n" +
			"the version, started on its first request. Stop it with Ctrl-C or SIGTERM.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "port", Value: defaultServePort, Usage: "TCP port to listen on (0 picks a free one)"},
			&cli.StringFlag{Name: "host", Value: "127.0.0.1", Usage: "address to listen on"},
			&cli.StringFlag{Name: "url_file", Usage: "also write the server's URL to this file once it listens (for scripts)"},
			&cli.BoolFlag{Name: "trust_proxy", Usage: "believe X-Forwarded-Proto, -Host and -For (only behind a reverse proxy that sets them)"},
			&cli.BoolFlag{Name: "https", Usage: "speak https with a self-signed certificate made for this run, and enforce secure: (plain http does not, as the SDK's dev server)"},
			&cli.BoolFlag{Name: "warm", Usage: "start an instance of every version with traffic (and every manual-scaling one) at once, not on its first request"},
			&cli.BoolFlag{Name: "cron", Usage: "run the jobs of the deployed cron.yaml on their schedules, as App Engine's cron service (X-Appengine-Cron: true); each run is a request in the logs"},
			&cli.BoolFlag{Name: "cron_run_now", Usage: "with --cron: run every job once at start, then on its schedule (to try cron handlers without waiting)"},
		},
		Action: action(io, serveOptionsFrom, runServe),
	}
}

// serveOptions are serve's options.
type serveOptions struct {
	versionsOptions
	host, urlFile string
	port          int
	trustProxy    bool // believe the X-Forwarded-* headers
	https         bool // speak https with a certificate made for this run
	warm          bool // start the instances at once
	cron          bool // run cron.yaml's jobs
	cronRunNow    bool // and each once at start
}

func serveOptionsFrom(c *cli.Context) (serveOptions, error) {
	if p := c.Int("port"); p < 0 || p > 65535 {
		return serveOptions{}, usagef("--port %d is not a TCP port (0 to 65535)", p)
	}
	if c.Bool("cron_run_now") && !c.Bool("cron") {
		return serveOptions{}, usagef("--cron_run_now runs cron jobs at start: give --cron too")
	}
	vo, err := versionsOptionsFrom(c)
	return serveOptions{versionsOptions: vo, host: c.String("host"), port: c.Int("port"), urlFile: c.String("url_file"),
		trustProxy: c.Bool("trust_proxy"), https: c.Bool("https"), warm: c.Bool("warm"),
		cron: c.Bool("cron"), cronRunNow: c.Bool("cron_run_now")}, err
}

// runServe serves the application's deployed versions until ctx ends or
// the process is signalled.
func runServe(ctx context.Context, opts serveOptions, d deps) error {
	// The signal context is set here too, so the server drains its
	// logs however the process was started.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	id, err := resolveIdent(ctx, d.io, opts.versionsOptions, false)
	if err != nil {
		return err
	}
	return d.onHost(ctx, opts.globals, func(ctx context.Context, b backend.Backend) error {
		return serveHost(ctx, opts, d.io, b, id.app)
	})
}

// serveHost serves app from b until ctx ends.
func serveHost(ctx context.Context, opts serveOptions, io stdio, b backend.Backend, app string) error {
	g := opts.globals
	vs, err := backend.As[backend.Versions](b, "versions")
	if err != nil {
		return err
	}
	contents, err := backend.As[backend.Contents](b, "reading deployed contents")
	if err != nil {
		return err
	}
	lw, err := backend.As[backend.LogWriter](b, "recording request logs")
	if err != nil {
		return err
	}
	addr := net.JoinHostPort(opts.host, strconv.Itoa(opts.port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listening on %s: %w (pick another --port)", addr, err)
	}
	cfg, err := instanceSettings(b, app, io, g)
	if err != nil {
		ln.Close()
		return err
	}
	scheme := "http"
	if opts.https {
		tc, err := selfSignedTLS()
		if err != nil {
			ln.Close()
			return fmt.Errorf("making the self-signed certificate of --https: %w", err)
		}
		ln = tls.NewListener(ln, tc)
		scheme = "https"
	}
	if cfg.Configs == nil {
		// dispatch.yaml's rules and cron.yaml's jobs, where the host keeps
		// them (a static-only host too).
		if cs, err := backend.As[backend.ConfigStore](b, "cron.yaml and dispatch.yaml"); err == nil {
			cfg.Configs = cs
		} else if opts.cron {
			ln.Close()
			return fmt.Errorf("--cron: %w", err)
		}
	}
	cfg.App, cfg.Versions, cfg.Contents, cfg.Logs = app, vs, contents, logs.KeepLines(lw)
	cfg.Addr, cfg.TrustProxy = publicAddr(ln.Addr()), opts.trustProxy
	cfg.EnforceSecure = opts.https || opts.trustProxy
	cfg.OnError = func(err error) { fmt.Fprintf(io.err, "appcfg serve: %v\n", err) }
	// Logs go to a spool before each response and into the store off the
	// request path, where the store has one (docs/logs.md); opening it
	// folds the spool a killed serve left.
	if sp, ok := cfg.Logs.(backend.LogSpooler); ok {
		if cfg.Spool, err = sp.OpenLogSpool(ctx, app, backend.LineFormat{}); err != nil {
			ln.Close()
			return err
		}
	}
	srv, err := serve.New(cfg)
	if err != nil {
		ln.Close()
		if cfg.Spool != nil {
			_, _ = cfg.Spool.Close(ctx) // nothing spooled yet
		}
		return err
	}
	url := scheme + "://" + ln.Addr().String() + "/"
	if f := opts.urlFile; f != "" {
		if err := writeFileAtomic(f, []byte(url+"\n")); err != nil {
			ln.Close()
			return err
		}
	}
	fmt.Fprintf(io.out, "Serving app %s at %s\n", app, url)
	if w := exposureWarning(ln.Addr()); w != "" {
		fmt.Fprintf(io.err, "%s\n", w)
	}
	g.statusf(io, "Host: %s. Press Ctrl-C to stop.", b.Location())

	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go srv.Watch(watchCtx)
	if opts.warm {
		if err := srv.Warm(ctx); err != nil {
			fmt.Fprintf(io.err, "appcfg serve: --warm: %v\n", err)
		}
	}

	cronDone := make(chan struct{})
	if opts.cron {
		go func() {
			defer close(cronDone)
			srv.RunCron(watchCtx, serve.CronOptions{RunNow: opts.cronRunNow, Grace: shutdownGrace,
				OnRun:  func(r serve.CronRun) { g.statusf(io, "%s", cronRunLine(r)) },
				Notify: func(msg string) { g.statusf(io, "%s", msg) }})
		}()
	} else {
		close(cronDone)
	}

	hs := srv.HTTPServer()
	served := make(chan error, 1)
	// A handler's panic answers 500 and is logged in one line, not
	// with net/http's trace.
	hs.Handler = crash.Handler(hs.Handler, func(format string, args ...any) {
		fmt.Fprintf(io.err, format+"\n", args...)
	})
	go func() {
		var err error
		defer func() { served <- err }()
		defer crash.Recover(&err)
		err = hs.Serve(ln)
	}()
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	// Stop taking requests, let those in flight finish, then write the
	// last logs: in that order, no served request goes unrecorded.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	// Cron runs in flight end (and are recorded) before the logs close.
	stopWatch()
	<-cronDone
	if serr := hs.Shutdown(sctx); serr != nil && err == nil {
		err = fmt.Errorf("stopping the server: %w", serr)
	}
	if cerr := srv.Close(sctx); cerr != nil {
		return fmt.Errorf("saving the last request logs: %w", cerr)
	}
	g.statusf(io, "Stopped. %d requests recorded.", srv.Recorded())
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving on %s: %w", addr, err)
	}
	return nil
}

// publicAddr is the host:port clients reach a listener at, for the
// absolute URLs serve builds: its address, or this machine's name when it
// listens on every interface (0.0.0.0 is no address a client can use).
func publicAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || !ta.IP.IsUnspecified() {
		return a.String()
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	return net.JoinHostPort(host, strconv.Itoa(ta.Port))
}

// exposureWarning is the warning for a listener other machines can reach:
// the local host's sign-in asks for no password, so anyone who can connect
// can make themselves administrator. "" for a loopback address.
func exposureWarning(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok && ta.IP.IsLoopback() {
		return ""
	}
	return fmt.Sprintf("warning: serve listens on %s, which other machines can reach. Its sign-in asks for no password: "+
		"anyone who can connect can set the login cookie and act as an administrator of the app (login: admin pages included). "+
		"Use --host 127.0.0.1 unless every machine that can reach this address is trusted.", a)
}

// writeFileAtomic writes data to a temporary file and renames it to name,
// so a reader never sees it half-written.
func writeFileAtomic(name string, data []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(tmp, name); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", name, err)
	}
	return nil
}

// cronRunLine is serve's line for one cron run.
func cronRunLine(r serve.CronRun) string {
	what := "cron: GET " + r.URL
	if r.Target != "" {
		what += " (target " + r.Target + ")"
	}
	if r.Retry > 0 {
		what += fmt.Sprintf(" retry %d", r.Retry)
	}
	line := fmt.Sprintf("%s: %d in %s", what, r.Status, r.Latency.Round(time.Millisecond))
	if r.Failed() {
		line += ", failed"
	}
	if r.Next.IsZero() {
		return line + "; its schedule runs no more"
	}
	return line + "; next at " + r.Next.Format(time.RFC3339)
}
