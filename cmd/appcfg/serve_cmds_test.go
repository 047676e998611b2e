package main

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdHTTPGet is the script command `httpget URLFILE PATH [REFERRER]`: it
// waits (up to 10 seconds) for URLFILE, written by `appcfg serve
// --url_file`, then GETs PATH from that server without following
// redirects, as the user agent "appcfg-test", and prints
// "STATUS CONTENT-TYPE" and, for a redirect, "-> LOCATION".
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 || len(args) > 3 {
		ts.Fatalf("usage: httpget URLFILE PATH [REFERRER]")
	}
	base := waitURL(ts, ts.MkAbs(args[0]))
	req, err := http.NewRequest(http.MethodGet, strings.TrimSuffix(base, "/")+args[1], nil)
	ts.Check(err)
	req.Header.Set("User-Agent", "appcfg-test")
	if len(args) == 3 {
		req.Header.Set("Referer", args[2])
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Transport:     selfSignedOK,
	}
	resp, err := client.Do(req)
	ts.Check(err)
	resp.Body.Close()
	fmt.Fprintf(ts.Stdout(), "%d %s\n", resp.StatusCode, resp.Header.Get("Content-Type"))
	if loc := resp.Header.Get("Location"); loc != "" {
		fmt.Fprintf(ts.Stdout(), "-> %s\n", loc)
	}
}

// cmdHTTPBody is the script command `httpbody URLFILE PATH`: a GET of
// PATH on the server whose URL is in URLFILE, printing the status and the
// body. Its timeout allows an instance's first start (a build, a venv).
func cmdHTTPBody(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: httpbody URLFILE PATH")
	}
	base := waitURL(ts, ts.MkAbs(args[0]))
	client := &http.Client{Timeout: 90 * time.Second, Transport: selfSignedOK}
	resp, err := client.Get(strings.TrimSuffix(base, "/") + args[1])
	ts.Check(err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%d\n%s\n", resp.StatusCode, body)
}

// selfSignedOK is a transport that accepts serve --https's self-signed
// certificate (the scripts talk to their own server on loopback).
var selfSignedOK = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}

// waitURL reads the server's URL from file, polling while the server starts.
func waitURL(ts *testscript.TestScript, file string) string {
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, err := os.ReadFile(file)
		if err == nil && strings.HasSuffix(string(data), "\n") {
			return strings.TrimSpace(string(data))
		}
		if time.Now().After(deadline) {
			ts.Fatalf("the server did not write %s within 10 seconds", file)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdMatchLines is the script command `matchlines PATTERNS FILE`: FILE
// must have exactly as many lines as PATTERNS, each matching the regular
// expression on the same line of PATTERNS in full.
func cmdMatchLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: matchlines PATTERNS FILE")
	}
	pats := lines(ts.ReadFile(args[0]))
	got := lines(ts.ReadFile(args[1]))
	for i := 0; i < len(pats) || i < len(got); i++ {
		switch {
		case i >= len(got):
			ts.Fatalf("%s has %d lines; line %d should match %s", args[1], len(got), i+1, pats[i])
		case i >= len(pats):
			ts.Fatalf("%s has more lines than %s; line %d is %q", args[1], args[0], i+1, got[i])
		}
		re, err := regexp.Compile("^(?:" + pats[i] + ")$")
		ts.Check(err)
		if !re.MatchString(got[i]) {
			ts.Fatalf("%s line %d:\n  %s\ndoes not match\n  %s", args[1], i+1, got[i], pats[i])
		}
	}
}

func lines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}
