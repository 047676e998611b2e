package backendtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/appcfg/appcfg/backend"
)

func (s suite) logTests() []subtest {
	return []subtest{
		{"RoundTrip", s.testLogsRoundTrip},
		{"Order", s.testLogsOrder},
		{"Filters", s.testLogsFilters},
		{"Resume", s.testLogsResume},
		{"ManyPages", s.testLogsManyPages},
		{"StopAndCancel", s.testLogsStopAndCancel},
		{"UnknownApp", s.testLogsUnknownApp},
		{"Blocks", s.testLogBlocks},
		{"BlocksStop", s.testLogBlocksStop},
		{"Lines", s.testLogLines},
	}
}

// logBase is a fixed instant, so tests never depend on the clock (End is
// always given).
var logBase = time.Date(2026, 3, 8, 9, 30, 0, 0, time.UTC)

func logHost(t *testing.T, b backend.Backend) (backend.LogReader, backend.LogWriter) {
	t.Helper()
	r := capability[backend.LogReader](t, b, "reading request logs")
	w := capability[backend.LogWriter](t, b, "recording request logs")
	return r, w
}

// sampleLog is a log of version v of service "default" at logBase+sec.
func sampleLog(sec float64, version, resource string) backend.RequestLog {
	return backend.RequestLog{
		Time: logBase.Add(time.Duration(sec * float64(time.Second))), IP: "192.0.2.7", Method: "GET",
		Resource: resource, HTTPVersion: "HTTP/1.1", Status: 200, Bytes: 512, Host: "localhost:8080",
		Latency: 3 * time.Millisecond, Service: "default", Version: version,
	}
}

// readAll lists q, failing the test on error.
func readAll(t *testing.T, r backend.LogReader, q backend.LogQuery) []backend.RequestLog {
	t.Helper()
	if q.End.IsZero() {
		q.End = logBase.Add(1000 * time.Hour)
	}
	var got []backend.RequestLog
	err := r.ReadLogs(t.Context(), q, func(l backend.RequestLog) error {
		got = append(got, l)
		return nil
	})
	must(t, "ReadLogs", err)
	return got
}

func resources(ls []backend.RequestLog) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Resource
	}
	return out
}

// checkOrder fails unless ls is strictly increasing in (Time, ID) with
// IDs compared as strings, and every ID is set.
func checkOrder(t *testing.T, ls []backend.RequestLog) {
	t.Helper()
	for i, l := range ls {
		if l.ID == "" {
			t.Fatalf("log %d (%s) has no ID", i, l.Resource)
		}
		if i == 0 {
			continue
		}
		p := ls[i-1]
		if l.Time.Before(p.Time) || (l.Time.Equal(p.Time) && l.ID <= p.ID) {
			t.Fatalf("log %d (%s, %s, %s) is not after log %d (%s, %s, %s)", i, l.Resource, l.Time, l.ID, i-1, p.Resource, p.Time, p.ID)
		}
	}
}

func (s suite) testLogsRoundTrip(t *testing.T) {
	b, app := s.open(t), newApp(t)
	r, w := logHost(t, b)
	in := backend.RequestLog{
		Time: logBase.Add(1500 * time.Millisecond), IP: "2001:db8::1", Method: "POST",
		Resource: "/sign?x=1&y=%20", HTTPVersion: "HTTP/2.0", Status: 302, Bytes: 0,
		Referrer: "http://example.com/a \"b\"", UserAgent: "Mozilla/5.0 (X11) ünïcode", Host: "v1-dot-api.localhost:8080",
		Latency: 1234567 * time.Nanosecond, Service: "api", Version: "v1",
		AppLogs: []backend.AppLogLine{
			{Time: logBase.Add(1501 * time.Millisecond), Level: backend.Info, Message: "signed in"},
			{Time: logBase.Add(1502 * time.Millisecond), Level: backend.Error, Message: "two\nlines"},
		},
	}
	must(t, "WriteLogs", w.WriteLogs(t.Context(), app, []backend.RequestLog{in}))
	got := readAll(t, r, backend.LogQuery{App: app})
	if len(got) != 1 {
		t.Fatalf("ReadLogs returned %d logs, want 1", len(got))
	}
	g := got[0]
	if g.ID == "" || g.App != app {
		t.Errorf("ID %q, App %q: want an ID and app %s", g.ID, g.App, app)
	}
	if !g.Time.Equal(in.Time) {
		t.Errorf("Time %s, want %s", g.Time, in.Time)
	}
	for i := range in.AppLogs {
		if i < len(g.AppLogs) && !g.AppLogs[i].Time.Equal(in.AppLogs[i].Time) {
			t.Errorf("AppLogs[%d].Time %s, want %s", i, g.AppLogs[i].Time, in.AppLogs[i].Time)
		}
	}
	// Compare the rest with times and the host-assigned fields neutralised.
	g.ID, g.App, g.Time = "", "", in.Time
	for i := range g.AppLogs {
		if i < len(in.AppLogs) {
			g.AppLogs[i].Time = in.AppLogs[i].Time
		}
	}
	if !reflect.DeepEqual(g, in) {
		t.Errorf("ReadLogs returned\n%+v\nwant\n%+v", g, in)
	}
}

func (s suite) testLogsOrder(t *testing.T) {
	b, app := s.open(t), newApp(t)
	r, w := logHost(t, b)
	// Batches out of order, and overlapping in time: a long request that
	// started early is recorded late.
	must(t, "WriteLogs", w.WriteLogs(t.Context(), app, []backend.RequestLog{
		sampleLog(5, "v1", "/e"), sampleLog(1, "v1", "/a"), sampleLog(3, "v1", "/c"),
	}))
	must(t, "WriteLogs", w.WriteLogs(t.Context(), app, []backend.RequestLog{
		sampleLog(4, "v1", "/d"), sampleLog(2, "v1", "/b"), sampleLog(6, "v2", "/f"),
	}))
	must(t, "WriteLogs", w.WriteLogs(t.Context(), app, []backend.RequestLog{sampleLog(0, "v1", "/0")}))
	got := readAll(t, r, backend.LogQuery{App: app})
	checkOrder(t, got)
	want := []string{"/0", "/a", "/b", "/c", "/d", "/e", "/f"}
	if !equalStrings(resources(got), want) {
		t.Fatalf("ReadLogs order %v, want %v", resources(got), want)
	}
	ids := map[string]bool{}
	for _, l := range got {
		if ids[l.ID] {
			t.Fatalf("ID %s given twice", l.ID)
		}
		ids[l.ID] = true
	}
}

func (s suite) testLogsFilters(t *testing.T) {
	b, app := s.open(t), newApp(t)
	r, w := logHost(t, b)
	other := sampleLog(1, "v1", "/api")
	other.Service = "api"
	must(t, "WriteLogs", w.WriteLogs(t.Context(), app, []backend.RequestLog{
		sampleLog(0, "v1", "/v1-0"), sampleLog(1, "v2", "/v2-1"), other,
		sampleLog(2, "v1", "/v1-2"), sampleLog(3, "v1", "/v1-3"),
	}))
	must(t, "WriteLogs other app", w.WriteLogs(t.Context(), newApp(t), []backend.RequestLog{sampleLog(1, "v1", "/elsewhere")}))
	tests := []struct {
		name string
		q    backend.LogQuery
		want []string
	}{
		{"app", backend.LogQuery{App: app}, []string{"/v1-0", "/v2-1", "/api", "/v1-2", "/v1-3"}},
		{"service", backend.LogQuery{App: app, Service: "default"}, []string{"/v1-0", "/v2-1", "/v1-2", "/v1-3"}},
		{"version", backend.LogQuery{App: app, Service: "default", Version: "v1"}, []string{"/v1-0", "/v1-2", "/v1-3"}},
		{"other service", backend.LogQuery{App: app, Service: "api", Version: "v1"}, []string{"/api"}},
		{"start inclusive, end exclusive", backend.LogQuery{App: app, Service: "default", Version: "v1",
			Start: logBase.Add(2 * time.Second), End: logBase.Add(3 * time.Second)}, []string{"/v1-2"}},
		{"empty window", backend.LogQuery{App: app, Start: logBase.Add(10 * time.Second), End: logBase.Add(20 * time.Second)}, nil},
	}
	for _, tt := range tests {
		got := resources(readAll(t, r, tt.q))
		if !equalStrings(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}

func (s suite) testLogsResume(t *testing.T) {
	b, app := s.open(t), newApp(t)
	r, w := logHost(t, b)
	var in []backend.RequestLog
	for i := range 12 {
		// Groups of three share a Time, so resuming inside a group uses IDs.
		in = append(in, sampleLog(float64(i/3), "v1", fmt.Sprintf("/r%02d", i)))
	}
	must(t, "WriteLogs", w.WriteLogs(t.Context(), app, in[:6]))
	must(t, "WriteLogs", w.WriteLogs(t.Context(), app, in[6:]))
	all := readAll(t, r, backend.LogQuery{App: app})
	checkOrder(t, all)
	if len(all) != len(in) {
		t.Fatalf("ReadLogs returned %d logs, want %d", len(all), len(in))
	}
	for i, l := range all {
		got := readAll(t, r, backend.LogQuery{App: app, AfterTime: l.Time, AfterID: l.ID})
		if !equalStrings(resources(got), resources(all[i+1:])) {
			t.Fatalf("after log %d: got %v, want %v", i, resources(got), resources(all[i+1:]))
		}
	}
}

func (s suite) testLogsManyPages(t *testing.T) {
	b, app := s.open(t), newApp(t)
	r, w := logHost(t, b)
	// 2,600 logs in batches of 500 written newest batch first, 1,200 of
	// them at one instant: any page or chunk size a host picks is crossed.
	const n = 2600
	batch := make([]backend.RequestLog, 0, 500)
	for start := n - 500; start > -500; start -= 500 {
		batch = batch[:0]
		for i := max(start, 0); i < start+500; i++ {
			sec := float64(i) / 100
			if i >= 700 && i < 1900 {
				sec = 7
			}
			batch = append(batch, sampleLog(sec, "v1", fmt.Sprintf("/p%04d", i)))
		}
		must(t, "WriteLogs", w.WriteLogs(t.Context(), app, batch))
	}
	got := readAll(t, r, backend.LogQuery{App: app, Service: "default", Version: "v1"})
	if len(got) != n {
		t.Fatalf("ReadLogs returned %d logs, want %d", len(got), n)
	}
	checkOrder(t, got)
	seen := map[string]bool{}
	for _, l := range got {
		seen[l.Resource] = true
	}
	if len(seen) != n {
		t.Fatalf("ReadLogs returned %d distinct logs, want %d", len(seen), n)
	}
}

var errStop = errors.New("stop here")

func (s suite) testLogsStopAndCancel(t *testing.T) {
	b, app := s.open(t), newApp(t)
	r, w := logHost(t, b)
	must(t, "WriteLogs", w.WriteLogs(t.Context(), app, []backend.RequestLog{
		sampleLog(0, "v1", "/a"), sampleLog(1, "v1", "/b"), sampleLog(2, "v1", "/c"),
	}))
	q := backend.LogQuery{App: app, End: logBase.Add(time.Hour)}
	ctx := checkStopAndCancel(t, "ReadLogs", 2, func(ctx context.Context, fn func() error) error {
		return r.ReadLogs(ctx, q, func(backend.RequestLog) error { return fn() })
	})
	wantCanceled(t, "WriteLogs", w.WriteLogs(ctx, app, []backend.RequestLog{sampleLog(9, "v1", "/late")}))
	if got := readAll(t, r, backend.LogQuery{App: app}); len(got) != 3 {
		t.Errorf("a WriteLogs with a cancelled context recorded logs: %d logs, want 3", len(got))
	}
}

func (s suite) testLogsUnknownApp(t *testing.T) {
	b := s.open(t)
	r, _ := logHost(t, b)
	if got := readAll(t, r, backend.LogQuery{App: newApp(t)}); len(got) != 0 {
		t.Fatalf("an app never seen has %d logs, want none", len(got))
	}
}

// blockReader returns r as a LogBlockReader or skips the test: the
// capability is optional.
func blockReader(t *testing.T, r backend.LogReader) backend.LogBlockReader {
	t.Helper()
	br, ok := r.(backend.LogBlockReader)
	if !ok {
		t.Skip("optional capability LogBlockReader not implemented")
	}
	return br
}

// readBlocks lists q with ReadLogBlocks, expanding each record, and checks
// what a block must hold.
func readBlocks(t *testing.T, br backend.LogBlockReader, q backend.LogQuery) []backend.RequestLog {
	t.Helper()
	if q.End.IsZero() {
		q.End = logBase.Add(1000 * time.Hour)
	}
	var got []backend.RequestLog
	err := br.ReadLogBlocks(t.Context(), q, func(bl *backend.LogBlock) error {
		if len(bl.Records) == 0 {
			t.Errorf("an empty block")
		}
		for i, r := range bl.Records {
			for f, idx := range r.Str {
				if int(idx) >= len(bl.Dict[f]) {
					t.Fatalf("record %d: string field %d has index %d past its dictionary (%d values)", i, f, idx, len(bl.Dict[f]))
				}
			}
			l := bl.Log(i)
			// Copy the strings: the block is valid only during the call.
			l.IP, l.Method, l.Resource, l.HTTPVersion = clone(l.IP), clone(l.Method), clone(l.Resource), clone(l.HTTPVersion)
			l.Referrer, l.UserAgent, l.Host = clone(l.Referrer), clone(l.UserAgent), clone(l.Host)
			l.App, l.Service, l.Version, l.ID = clone(l.App), clone(l.Service), clone(l.Version), clone(l.ID)
			app := append([]backend.AppLogLine(nil), l.AppLogs...)
			for j := range app {
				app[j].Message = clone(app[j].Message)
			}
			if len(app) == 0 {
				app = nil
			}
			l.AppLogs = app
			got = append(got, l)
		}
		return nil
	})
	must(t, "ReadLogBlocks", err)
	return got
}

func clone(s string) string { return string([]byte(s)) }

// testLogBlocks checks ReadLogBlocks lists exactly what ReadLogs does, for
// overlapping chunks, several versions and services, bounds and resume
// points.
func (s suite) testLogBlocks(t *testing.T) {
	b, app := s.open(t), newApp(t)
	r, w := logHost(t, b)
	br := blockReader(t, r)
	var in []backend.RequestLog
	for i := range 3000 {
		sec := float64(i%1500) / 50 // two interleaved halves: overlapping chunks
		l := sampleLog(sec, []string{"v1", "v2"}[i%7/6], fmt.Sprintf("/p%d?q=\"%d\"", i%37, i))
		l.UserAgent = []string{"", "curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64)"}[i%3]
		l.IP = fmt.Sprintf("192.0.2.%d", i%200)
		if i%11 == 0 {
			l.Service = "api"
		}
		if i%13 == 0 {
			l.AppLogs = []backend.AppLogLine{{Time: l.Time.Add(time.Millisecond), Level: backend.Warning, Message: fmt.Sprint("note ", i)}}
		}
		in = append(in, l)
	}
	for lo := 0; lo < len(in); lo += 400 {
		must(t, "WriteLogs", w.WriteLogs(t.Context(), app, in[lo:min(lo+400, len(in))]))
	}
	all := readAll(t, r, backend.LogQuery{App: app})
	mid := all[len(all)/2]
	queries := []backend.LogQuery{
		{App: app},
		{App: app, Service: "default"},
		{App: app, Service: "default", Version: "v1"},
		{App: app, Service: "api", Version: "v2"},
		{App: app, Start: logBase.Add(5 * time.Second), End: logBase.Add(17 * time.Second)},
		{App: app, AfterTime: mid.Time, AfterID: mid.ID},
		{App: newApp(t)},
	}
	for _, q := range queries {
		want := readAll(t, r, q)
		got := readBlocks(t, br, q)
		if !reflect.DeepEqual(got, want) {
			n := min(len(got), len(want))
			for i := range n {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("query %+v: log %d from ReadLogBlocks\n%+v\nfrom ReadLogs\n%+v", q, i, got[i], want[i])
				}
			}
			t.Fatalf("query %+v: ReadLogBlocks listed %d logs, ReadLogs %d", q, len(got), len(want))
		}
	}
}

func (s suite) testLogBlocksStop(t *testing.T) {
	b, app := s.open(t), newApp(t)
	r, w := logHost(t, b)
	br := blockReader(t, r)
	var in []backend.RequestLog
	for i := range 3000 {
		in = append(in, sampleLog(float64(i)/10, "v1", fmt.Sprint("/", i)))
	}
	must(t, "WriteLogs", w.WriteLogs(t.Context(), app, in))
	q := backend.LogQuery{App: app, End: logBase.Add(time.Hour)}
	checkStopAndCancel(t, "ReadLogBlocks", 1, func(ctx context.Context, fn func() error) error {
		return br.ReadLogBlocks(ctx, q, func(*backend.LogBlock) error { return fn() })
	})
}

// checkStopAndCancel checks a listing stops at the first error of its
// callback (failing on call stopAt) and with a cancelled context, which it
// returns.
func checkStopAndCancel(t *testing.T, name string, stopAt int, list func(ctx context.Context, fn func() error) error) context.Context {
	t.Helper()
	calls := 0
	err := list(t.Context(), func() error {
		calls++
		if calls == stopAt {
			return errStop
		}
		return nil
	})
	wantErr(t, name+" whose callback fails", err, errStop)
	if calls != stopAt {
		t.Errorf("%s: the callback ran %d times after failing on call %d", name, calls, stopAt)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	wantCanceled(t, name, list(ctx, func() error { return nil }))
	return ctx
}

// LineFormat returns a backend.LineFormat of the suite's own, also for a
// store's own tests: what a format renders is the consumer's business, so
// any will do. tag sets it apart from another version's rendering.
func LineFormat(version, tag string) backend.LineFormat {
	return backend.LineFormat{Version: version, New: func() func([]byte, *backend.RequestLog) []byte {
		return func(b []byte, l *backend.RequestLog) []byte {
			b = append(b, tag...)
			b = strconv.AppendInt(b, l.Time.UnixNano(), 10)
			b = append(b, ' ')
			b = append(b, l.ID...)
			b = append(b, ' ')
			b = strconv.AppendQuote(b, l.Version+" "+l.Resource+" "+l.Referrer)
			return append(b, '\n')
		}
	}}
}

// testLogLines: a LogLineReader hands over exactly the lines its format
// renders of the logs ReadLogs lists, for batches one after the other and
// batches that overlap in time, whole listings and windows; whether the
// lines were kept in that format (LogLineWriter), in another one, or not
// at all.
func (s suite) testLogLines(t *testing.T) {
	b, app := s.open(t), newApp(t)
	r, w := logHost(t, b)
	lr, ok := r.(backend.LogLineReader)
	if !ok {
		t.Skip("optional capability LogLineReader not implemented")
	}
	kept, other := LineFormat("suite/1", "A "), LineFormat("suite/2", "B ")
	lw, keeps := w.(backend.LogLineWriter)
	var in []backend.RequestLog
	for i := range 4000 {
		sec := float64(i) / 20 // one after the other...
		if i >= 3000 {
			sec = float64(i-3000) / 7 // ...then overlapping the first ones
		}
		l := sampleLog(sec, []string{"v1", "v2"}[i%9/8], fmt.Sprintf("/p%d?q=\"%d\" x", i%37, i))
		l.Referrer = []string{"", "http://example.com/a b"}[i%2]
		in = append(in, l)
	}
	for n, lo := 0, 0; lo < len(in); n, lo = n+1, lo+500 {
		batch := in[lo:min(lo+500, len(in))]
		if keeps && n != 3 { // one batch without lines
			must(t, "WriteLogsWithLines", lw.WriteLogsWithLines(t.Context(), app, batch, kept))
		} else {
			must(t, "WriteLogs", w.WriteLogs(t.Context(), app, batch))
		}
	}
	all := readAll(t, r, backend.LogQuery{App: app})
	mid := all[len(all)/2]
	end := logBase.Add(1000 * time.Hour)
	for _, q := range []backend.LogQuery{
		{App: app, End: end},
		{App: app, Service: "default", Version: "v1", End: end},
		{App: app, Start: logBase.Add(30 * time.Second), End: logBase.Add(170 * time.Second)},
		{App: app, AfterTime: mid.Time, AfterID: mid.ID, End: end},
		{App: newApp(t), End: end},
	} {
		for _, f := range []backend.LineFormat{kept, other} {
			render := f.New()
			var want []byte
			for _, l := range readAll(t, r, q) {
				want = render(want, &l)
			}
			var got []byte
			lines := 0
			must(t, "ReadLogLines", lr.ReadLogLines(t.Context(), q, f, func(run io.Reader, n int) error {
				data, err := io.ReadAll(run)
				got = append(got, data...)
				lines += n
				if c := bytes.Count(data, []byte("\n")); c != n {
					t.Errorf("query %+v: a run said %d lines and held %d", q, n, c)
				}
				return err
			}))
			if !bytes.Equal(got, want) || lines != bytes.Count(want, []byte("\n")) {
				t.Fatalf("query %+v, format %s: ReadLogLines gave %d bytes in %d lines, the format's lines of ReadLogs are %d bytes; differ at byte %d",
					q, f.Version, len(got), lines, len(want), firstDiff(got, want))
			}
		}
	}
}

// firstDiff returns the offset of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
