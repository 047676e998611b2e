// Command loadgen is the serve benchmark's load generator (bench/serve.sh):
// a bounded HTTP client for loopback addresses, with keep-alive
// connections, that prints what it measured on one line of "key=value"
// pairs for the script to read.
//
//	loadgen latency -n N URL_A URL_B [URL_C ...]
//	                                   N sequential requests to each URL,
//	                                   taking turns (all see the same
//	                                   load): p50_a p99_a p50_b p99_b …
//	                                   in microseconds
//	loadgen rate -c C -n N URL         N requests over C connections at
//	                                   once: reqs, secs, rps, p50, p99
//	loadgen once [-want CODE] URL      one request on a new connection: us
//	loadgen relay URL                  the floors of a proxy in front of
//	loadgen proxy URL                  URL, for latency to compare with:
//	                                   a raw TCP relay (bytes copied both
//	                                   ways, no HTTP parsing) or a bare
//	                                   httputil.ReverseProxy (no logging,
//	                                   no routing); prints url=… and
//	                                   serves until -t passes
//
// Every answer must be 200 with a body (once: -want's status); anything
// else, or a non-loopback URL, fails the run (exit 1). -t bounds the
// whole run (default 60s); -host sets the Host header, which picks the
// service serve routes to.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	n := fs.Int("n", 1000, "requests (latency: to each URL)")
	c := fs.Int("c", 8, "connections at once (rate)")
	limit := fs.Duration("t", time.Minute, "bound on the whole run")
	want := fs.Int("want", http.StatusOK, "the status once expects")
	fs.StringVar(&hostHeader, "host", "", "the Host header of every request (the URL's host when empty), to pick a service")
	_ = fs.Parse(os.Args[2:])
	ctx, cancel := context.WithTimeout(context.Background(), *limit)
	defer cancel()
	var err error
	switch os.Args[1] {
	case "latency":
		if fs.NArg() < 2 || fs.NArg() > 26 {
			usage()
		}
		err = latency(ctx, *n, fs.Args())
	case "rate":
		if fs.NArg() != 1 {
			usage()
		}
		err = rate(ctx, *n, *c, fs.Arg(0))
	case "once":
		if fs.NArg() != 1 {
			usage()
		}
		err = once(ctx, fs.Arg(0), *want)
	case "relay", "proxy":
		if fs.NArg() != 1 {
			usage()
		}
		err = front(ctx, os.Args[1], fs.Arg(0))
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: loadgen latency [-n N] URL_A URL_B [URL ...] | rate [-c C] [-n N] URL | once [-want CODE] URL | relay URL | proxy URL  [-t LIMIT] [-host HOST]")
	os.Exit(2)
}

// hostHeader is -host.
var hostHeader string

// client is a keep-alive client for conns connections at once.
func client(conns int) *http.Client {
	return &http.Client{Transport: &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		DisableCompression:  true,
	}, Timeout: 10 * time.Second}
}

// loopback refuses any URL whose host is not a loopback address: the
// benchmark sends traffic to this machine only.
func loopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("%s is not a loopback address: loadgen sends requests to this machine only", raw)
}

// get sends one GET and reads the whole answer, which must be a 200 with
// a body; it returns how long that took.
func get(ctx context.Context, c *http.Client, u string) (time.Duration, error) {
	return getWant(ctx, c, u, http.StatusOK)
}

// getWant is get expecting status want.
func getWant(ctx context.Context, c *http.Client, u string, want int) (time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	if hostHeader != "" {
		req.Host = hostHeader
	}
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", u, err)
	}
	if resp.StatusCode != want || n == 0 {
		return 0, fmt.Errorf("%s answered %s with %d bytes, want %d with a body", u, resp.Status, n, want)
	}
	return d, nil
}

// pct is the p-th percentile (0..100) of sorted ds in microseconds.
func pct(ds []time.Duration, p float64) int64 {
	if len(ds) == 0 {
		return 0
	}
	i := int(float64(len(ds)-1) * p / 100)
	return ds[i].Microseconds()
}

func latency(ctx context.Context, n int, urls []string) error {
	for _, u := range urls {
		if err := loopback(u); err != nil {
			return err
		}
	}
	cs := make([]*http.Client, len(urls))
	ds := make([][]time.Duration, len(urls))
	// One request each first: the connections are open before timing.
	for i, u := range urls {
		cs[i] = client(1)
		ds[i] = make([]time.Duration, 0, n)
		if _, err := get(ctx, cs[i], u); err != nil {
			return err
		}
	}
	for range n {
		for i, u := range urls {
			d, err := get(ctx, cs[i], u)
			if err != nil {
				return err
			}
			ds[i] = append(ds[i], d)
		}
	}
	var out []string
	for i := range urls {
		slices.Sort(ds[i])
		k := string(rune('a' + i))
		out = append(out, fmt.Sprintf("p50_%s=%d p99_%s=%d", k, pct(ds[i], 50), k, pct(ds[i], 99)))
	}
	fmt.Println(strings.Join(out, " "))
	return nil
}

func rate(ctx context.Context, n, conns int, u string) error {
	if err := loopback(u); err != nil {
		return err
	}
	if conns < 1 || n < conns {
		return errors.New("rate needs 1 <= -c <= -n")
	}
	c := client(conns)
	// Open the connections first, so the run measures requests, not dials.
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := get(ctx, c, u); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	var left atomic.Int64
	left.Store(int64(n))
	lat := make([][]time.Duration, conns)
	start := time.Now()
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				d, err := get(ctx, c, u)
				if err != nil {
					errs <- err
					return
				}
				lat[i] = append(lat[i], d)
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	select {
	case err := <-errs:
		return err
	default:
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	fmt.Printf("reqs=%d secs=%.3f rps=%.0f p50=%d p99=%d\n", len(all), secs, float64(len(all))/secs, pct(all, 50), pct(all, 99))
	return nil
}

func once(ctx context.Context, u string, want int) error {
	if err := loopback(u); err != nil {
		return err
	}
	// Bounded by -t alone: the first request may build the version.
	c := client(1)
	c.Timeout = 0
	d, err := getWant(ctx, c, u, want)
	if err != nil {
		return err
	}
	fmt.Printf("us=%d\n", d.Microseconds())
	return nil
}

// front serves, on a loopback port of its own, a floor of what any proxy
// in front of target costs: "relay" copies bytes both ways between each
// client connection and one of its own to target (io.Copy, which splices
// in the kernel on Linux); "proxy" is net/http's ReverseProxy with keep-
// alive connections to target and nothing else. It prints url=… once it
// listens and serves until ctx ends (-t) or it is killed.
func front(ctx context.Context, mode, target string) error {
	if err := loopback(target); err != nil {
		return err
	}
	tu, err := url.Parse(target)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	fmt.Printf("url=http://%s/\n", ln.Addr())
	if mode == "proxy" {
		rp := httputil.NewSingleHostReverseProxy(tu)
		rp.Transport = &http.Transport{Proxy: nil, MaxIdleConns: 64, MaxIdleConnsPerHost: 64, DisableCompression: true}
		hs := &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
		if err := hs.Serve(ln); ctx.Err() == nil {
			return err
		}
		return nil
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			relay(ctx, c, tu.Host)
		}()
	}
}

// relay copies bytes between client c and a new connection to addr until
// either side closes or ctx ends.
func relay(ctx context.Context, c net.Conn, addr string) {
	defer c.Close()
	var d net.Dialer
	t, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return
	}
	defer t.Close()
	stop := context.AfterFunc(ctx, func() { c.Close(); t.Close() })
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(t, c)
		t.(*net.TCPConn).CloseWrite()
	}()
	_, _ = io.Copy(c, t)
	c.Close()
	<-done
}
