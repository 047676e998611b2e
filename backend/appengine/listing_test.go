package appengine

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

// TestListBucketPages: the bucket listing reads a small bucket in one
// request, a bucket of a few pages as one chain of pages (2 requests for
// 2,000 objects: it was 16 listings by first hex digit, each of which a
// server may pay for with a walk of the whole bucket), and a big one as
// ranges listed at once, never many more requests than pages; every object
// is found, names no digest can have (before "0", from "g" on) are not
// listed.
func TestListBucketPages(t *testing.T) {
	for _, tc := range []struct {
		objects, maxRequests int
		parallel             bool
	}{
		{0, 1, false},
		{800, 1, false},
		{2000, 2, false},
		{4500, 5, false},
		{40000, 40 + 16, true}, // at most 16 ranges, each ending in a part page
	} {
		t.Run(strconv.Itoa(tc.objects), func(t *testing.T) {
			b, f := newTestBackend(t)
			names := make([]string, 0, tc.objects+2)
			for i := range tc.objects {
				sum := sha1.Sum([]byte(strconv.Itoa(i)))
				names = append(names, hex.EncodeToString(sum[:]))
			}
			// Names no digest can have, before "0" and from "g" on:
			// listing them would be waste.
			names = append(names, "-x", "go-app-stager/main", "zz")
			slices.Sort(names)
			var (
				mu                   sync.Mutex
				requests, inFlight   int
				maxInFlight, outside int
			)
			f.storageMW = func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != "GET" || r.URL.Path != "/storage/v1/b/staging.p.appspot.com/o" {
					return false
				}
				mu.Lock()
				requests++
				inFlight++
				maxInFlight = max(maxInFlight, inFlight)
				mu.Unlock()
				time.Sleep(5 * time.Millisecond) // so listings at once overlap
				q := r.URL.Query()
				start, end, prefix := q.Get("startOffset"), q.Get("endOffset"), q.Get("prefix")
				if tok := q.Get("pageToken"); tok != "" {
					start = tok
				}
				limit, _ := strconv.Atoi(q.Get("maxResults"))
				var items []any
				next := ""
				from, _ := slices.BinarySearch(names, start)
				for _, n := range names[from:] {
					if end != "" && n >= end {
						break
					}
					if !strings.HasPrefix(n, prefix) {
						continue
					}
					if limit > 0 && len(items) == limit {
						next = n
						break
					}
					items = append(items, map[string]any{"name": n, "size": "1", "timeCreated": "2026-12-01T00:00:00Z"})
				}
				mu.Lock()
				inFlight--
				for _, it := range items {
					if n := it.(map[string]any)["name"].(string); n < "0" || n >= "g" {
						outside++
					}
				}
				mu.Unlock()
				writeJSON(w, 200, map[string]any{"items": items, "nextPageToken": next})
				return true
			}
			bi, err := b.codeBucket(t.Context(), "p")
			if err != nil {
				t.Fatal(err)
			}
			present, err := b.listBucket(t.Context(), bi, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				if validDigest(n) == nil && !present[n] {
					t.Fatalf("%s not found (%d of %d found)", n, len(present), tc.objects)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if outside > 0 {
				t.Errorf("%d names outside the hex range were listed", outside)
			}
			if requests > tc.maxRequests {
				t.Errorf("%d objects listed in %d requests, want at most %d", tc.objects, requests, tc.maxRequests)
			}
			if tc.parallel != (maxInFlight > 1) {
				t.Errorf("%d objects: %d listings at once at most, want parallel %v", tc.objects, maxInFlight, tc.parallel)
			}
		})
	}
}

// TestDecodeListing: a listing page is read as a stream, whatever else the
// answer holds (fields a server sends although fields= left them out, an
// empty page's null items); an answer that is not a listing is an error.
func TestDecodeListing(t *testing.T) {
	for _, tc := range []struct {
		in, names, next string
		ok              bool
	}{
		{`{"kind":"storage#objects","items":[{"name":"a1","size":"3","metadata":{"x":[1,{"y":2}]},"timeCreated":"2026-12-01T00:00:00Z"},{"name":"b2"}],"nextPageToken":"b3"}`, "a1 b2", "b3", true},
		{`{"items":null}`, "", "", true},
		{`{}`, "", "", true},
		{`{"kind":"storage#objects"}`, "", "", true},
		{`{"items":[{"name":"a1"}`, "a1", "", false},
		{`["a1"]`, "", "", false},
		{`{"items":{"name":"a1"}}`, "", "", false},
		{`<html>`, "", "", false},
	} {
		var names []string
		next := ""
		err := decodeListing(strings.NewReader(tc.in), func(o gcsObject) { names = append(names, o.Name) }, &next)
		if (err == nil) != tc.ok || strings.Join(names, " ") != tc.names || next != tc.next {
			t.Errorf("%s: names %q, next %q, error %v; want %q, %q, ok %v", tc.in, names, next, err, tc.names, tc.next, tc.ok)
		}
	}
}

// listingPages are listing answers that hold escapes, brackets and quotes
// inside strings, nested values to step over, nulls and white space.
func listingPages() []string {
	item := func(name string) string {
		return `{"kind":"storage#object","name":` + name + `,"id":"b/x","size":"2345","acl":[{"entity":"a]}\"[{","role":"OWNER","projectTeam":{}}],` +
			`"metadata":{"k":"v\\\"}","n":[1,-2.5e3,true,false,null,{"z":[[]]}]},"timeCreated":"2026-12-04T18:30:01.123456Z","generation":"17","updated":null}`
	}
	return []string{
		`{"kind":"storage#objects","items":[` + item(`"0a1b"`) + `,` + item(`"a\u0062c"`) + `,` + item(`"d\\e\/f\n"`) + `],"nextPageToken":"n\u00e9xt"}`,
		` { "items" : [ { "name" : "x" , "size" : null , "timeCreated" : "2026-01-02T03:04:05+02:00" } ] , "prefixes" : [ "p/" ] } `,
		`{"nextPageToken":null,"items":[],"kind":"storage#objects"}`,
	}
}

// TestDecodeListingAsEncodingJSON: the one-pass reader of a listing page
// finds what encoding/json finds, in answers that hold escapes, brackets
// and quotes inside strings, nested values to step over and nulls, read
// whole and a byte at a time (every string then spans a refill), and
// refuses what encoding/json refuses.
func TestDecodeListingAsEncodingJSON(t *testing.T) {
	pages := append(listingPages(), `{"items":[{"name":"long`+strings.Repeat("é", 40000)+`"}]}`)
	type page struct {
		Items         []gcsObject `json:"items"`
		NextPageToken string      `json:"nextPageToken"`
	}
	for _, in := range pages {
		var want page
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("the test's page is not JSON: %v\n%s", err, in)
		}
		for _, r := range []io.Reader{strings.NewReader(in), iotest.OneByteReader(strings.NewReader(in))} {
			var got page
			if err := decodeListing(r, func(o gcsObject) { got.Items = append(got.Items, o) }, &got.NextPageToken); err != nil {
				t.Errorf("%.60s: %v", in, err)
				continue
			}
			if len(got.Items) != len(want.Items) || got.NextPageToken != want.NextPageToken {
				t.Errorf("%.60s: %d items, next %q; want %d, %q", in, len(got.Items), got.NextPageToken, len(want.Items), want.NextPageToken)
				continue
			}
			for i := range got.Items {
				g, w := got.Items[i], want.Items[i]
				if g.Name != w.Name || g.Size != w.Size || !g.TimeCreated.Equal(w.TimeCreated) {
					t.Errorf("%.60s: item %d = %+v, want %+v", in, i, g, w)
				}
			}
		}
	}
	for _, in := range []string{
		`{"items":[{"name":"a","timeCreated":"yesterday"}]}`,
		`{"items":[{"name":1}]}`,
		`{"items":[{"size":2345}]}`,
		`{"items":[{"name":"a"]}`,
		`{"items":[{"name":"a","acl":[}]}]}`,
		`{"items":[{"name":"a\x01"}]}`,
		`{"items":[{"name":"a"`,
		`{"items" "x"}`,
		`{"items":[1 2]}`,
	} {
		if err := json.Unmarshal([]byte(in), new(page)); err == nil {
			t.Fatalf("encoding/json reads %s", in)
		}
		if err := decodeListing(strings.NewReader(in), func(gcsObject) {}, new(string)); err == nil {
			t.Errorf("%s: no error", in)
		}
	}
}

// FuzzDecodeListingCutShort: the one-pass reader never panics, and an
// answer that is JSON cut anywhere before its closing brace (a connection
// lost mid-page) is an error, never a shorter page taken as whole.
func FuzzDecodeListingCutShort(f *testing.F) {
	for _, p := range listingPages() {
		f.Add(p)
	}
	f.Add(`{"items":[{"name":"a"}],"x":[[[[{"y":"}]"}]]]],"nextPageToken":"t"}`)
	f.Fuzz(func(t *testing.T, in string) {
		decodeListing(strings.NewReader(in), func(gcsObject) {}, new(string))
		whole := strings.TrimRight(in, " \t\r\n")
		if !json.Valid([]byte(whole)) || !strings.HasSuffix(whole, "}") {
			return
		}
		for n := range len(whole) {
			if err := decodeListing(strings.NewReader(whole[:n]), func(gcsObject) {}, new(string)); err == nil {
				t.Fatalf("%q cut to %d bytes: no error", whole, n)
			}
		}
	})
}

// TestUploadAnswerSizeChecked: an upload's answer, a whole object resource
// read in one pass (decodeObject), is checked for the size stored; an
// answer naming another size, or one that is not an object resource, is an
// error, and one that is right (its ACL, metadata and all) is not.
func TestUploadAnswerSizeChecked(t *testing.T) {
	content := []byte("print('hello')\n")
	sum := sha1.Sum(content)
	d := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		answer, wantErr string
	}{
		{`{"kind":"storage#object","name":"` + d + `","size":"15","acl":[{"entity":"user-x","role":"OWNER","projectTeam":{"team":"owners"}}],"metadata":{"a":"{\"b\":[1]}"},"timeCreated":"2026-12-01T00:00:00.5Z"}` + "\n", ""},
		{`{"name":"` + d + `","size":"14"}`, "the bucket stored 14 bytes, expected 15"},
		{`{"name":"` + d + `","size":15}`, "not the expected JSON"},
		{`[]`, "not the expected JSON"},
	} {
		b, f := newTestBackend(t)
		f.storageMW = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != "POST" || !strings.HasPrefix(r.URL.Path, "/upload/") {
				return false
			}
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, tc.answer)
			return true
		}
		err := b.PutBlob(t.Context(), "p", d, int64(len(content)), bytes.NewReader(content))
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("answer %.50s: got %v, want %q", tc.answer, err, tc.wantErr)
		}
	}
}
