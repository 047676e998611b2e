package main

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/appcfg/appcfg/appconfig"
)

// The output layer: every command hands its result here, and --format
// decides how it reaches stdout. Status and progress go to stderr (or, with
// ndjson, are events on stdout); docs/output.md names the schemas.

// format is what --format asked for.
type format string

const (
	formatText   format = "text"   // for people: each command's own lines
	formatJSON   format = "json"   // one JSON document on stdout
	formatNDJSON format = "ndjson" // one JSON event a line, the result last
)

const (
	flagFormat = "format"
	flagJSON   = "json"
)

// parseFormat reads --format and its alias --json.
func parseFormat(value string, asJSON bool) (format, error) {
	f := format(strings.ToLower(strings.TrimSpace(value)))
	switch {
	case value == "" && asJSON, f == formatJSON && asJSON:
		return formatJSON, nil
	case asJSON && f != formatText:
		return "", usagef("--json is --format json; it cannot go with --format %s", value)
	case asJSON:
		return formatJSON, nil
	case f == "":
		return formatText, nil
	case f == formatText, f == formatJSON, f == formatNDJSON:
		return f, nil
	}
	return "", usagef("--format must be text, json or ndjson, not %q", value)
}

// machine reports whether stdout is for a program (json or ndjson).
func (f format) machine() bool { return f == formatJSON || f == formatNDJSON }

// emit prints the result v of a command in the format g asks for: text
// through the command's own printer, one JSON document, or one ndjson
// "result" event. Arrays are [] and never null (fillNilSlices). text
// writes to io.out.
func emit(io stdio, g globals, v any, text func()) error {
	switch g.format {
	case formatJSON:
		return printJSON(io.out, fillNilSlices(v))
	case formatNDJSON:
		return writeEvent(io.out, event{Event: "result", Command: g.command, Result: fillNilSlices(v)})
	}
	if text != nil {
		text()
	}
	return nil
}

// messageResult is the result of a command whose whole outcome is one
// sentence (docs/schemas/message.json).
type messageResult struct {
	Message string `json:"message"`
}

// event is one line of --format ndjson. docs/schemas/event.json lists the
// fields of each kind.
type event struct {
	Event   string `json:"event"` // phase, progress, phase_end, status, warning, record, result, error
	Time    string `json:"time"`
	Command string `json:"command,omitempty"`
	Phase   string `json:"phase,omitempty"`
	// Files and Bytes are done so far (progress, phase_end); TotalFiles
	// and TotalBytes what the phase announced (0 when unknown).
	Files      *int64   `json:"files,omitempty"`
	Bytes      *int64   `json:"bytes,omitempty"`
	TotalFiles *int64   `json:"total_files,omitempty"`
	TotalBytes *int64   `json:"total_bytes,omitempty"`
	Unit       string   `json:"unit,omitempty"`
	Complete   *bool    `json:"complete,omitempty"`
	Seconds    *float64 `json:"seconds,omitempty"`
	Message    string   `json:"message,omitempty"`
	Record     any      `json:"record,omitempty"` // request_logs: one request log
	Result     any      `json:"result,omitempty"`
	Error      any      `json:"error,omitempty"`
}

// writeEvent writes e as one line, in one Write, so that events of several
// goroutines never interleave (stdout is a lockedWriter).
func writeEvent(w io.Writer, e event) error {
	if e.Time == "" {
		e.Time = time.Now().UTC().Format(time.RFC3339Nano)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = w.Write(append(redactJSONStrings(data), '\n'))
	return err
}

// fillNilSlices returns v with every nil slice it holds (in fields, maps,
// pointers, elements) made empty, so that JSON shows [] where a list has no
// element, never null. Byte slices are left alone (base64 or raw JSON).
// What v points to is changed in place.
func fillNilSlices(v any) any {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return v
	}
	cp := reflect.New(rv.Type()).Elem()
	cp.Set(rv)
	fillValue(cp, 0)
	return cp.Interface()
}

func fillValue(v reflect.Value, depth int) {
	if depth > 32 {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			fillValue(v.Elem(), depth+1)
		}
	case reflect.Interface:
		if v.IsNil() || !v.CanSet() {
			return
		}
		e := v.Elem()
		cp := reflect.New(e.Type()).Elem()
		cp.Set(e)
		fillValue(cp, depth+1)
		v.Set(cp)
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Field(i); f.CanSet() {
				fillValue(f, depth+1)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		if v.IsNil() {
			if v.CanSet() {
				v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			}
			return
		}
		for i := range v.Len() {
			fillValue(v.Index(i), depth+1)
		}
	case reflect.Array:
		for i := range v.Len() {
			fillValue(v.Index(i), depth+1)
		}
	case reflect.Map:
		iter := v.MapRange()
		for iter.Next() {
			e := iter.Value()
			cp := reflect.New(e.Type()).Elem()
			cp.Set(e)
			fillValue(cp, depth+1)
			v.SetMapIndex(iter.Key(), cp)
		}
	}
}

// requestedFormat finds --format/--json in a command line, for the one
// thing decided before the command's flags are parsed (or when they could
// not be): how a failure is printed. A value that is no format is text.
func requestedFormat(args []string) format {
	asJSON, value := false, ""
	for i := 1; i < len(args); i++ {
		tok := args[i]
		if tok == "--" {
			break
		}
		name, v, hasValue := flagName(tok)
		switch {
		case !strings.HasPrefix(tok, "-"):
		case flagKey(name) == flagJSON:
			asJSON = true
		case flagKey(name) == flagFormat && hasValue:
			value = v
		case flagKey(name) == flagFormat && i+1 < len(args):
			value = args[i+1]
			i++
		}
	}
	f, err := parseFormat(value, asJSON)
	if err != nil {
		return formatText
	}
	return f
}

// watchedWriter tells whether anything was written through it: a failed
// command whose JSON result is already on stdout (validate's problems)
// gets no second document.
type watchedWriter struct {
	mu      sync.Mutex
	w       io.Writer
	written bool
}

func (w *watchedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(p) > 0 {
		w.written = true
	}
	return w.w.Write(p)
}

func (w *watchedWriter) used() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.written
}

// errorObject is what a failed command prints on stdout with --format
// json (docs/schemas/error.json), and the "error" of ndjson's last event.
type errorObject struct {
	Class    string `json:"class"`
	ExitCode int    `json:"exit_code"`
	Message  string `json:"message"`
	// Problems are the configuration's problems that stopped the command
	// (update, the config pushes), as validate lists them.
	Problems []appconfig.Problem `json:"problems,omitempty"`
}

// printFailure prints the JSON error object of a failed command on stdout:
// with json unless the command already printed its document, with ndjson
// always, as the stream's last event.
func printFailure(out *watchedWriter, f format, class string, code int, err error) {
	if err == nil || !f.machine() {
		return
	}
	obj := errorObject{Class: class, ExitCode: code, Message: err.Error()}
	var pe *problemsError
	if errors.As(err, &pe) {
		obj.Problems = pe.problems
	}
	switch {
	case f == formatNDJSON:
		_ = writeEvent(out, event{Event: "error", Error: obj})
	case !out.used():
		_ = printJSON(out, struct {
			Error errorObject `json:"error"`
		}{obj})
	}
}
