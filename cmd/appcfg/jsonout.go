package main

import (
	"encoding/json"
	"io"

	"github.com/appcfg/appcfg/internal/redact"
)

// printJSON writes v as indented JSON, as --json prints results that carry
// what a host said (versions, warnings): every string value has its
// credentials removed (internal/redact), so no token an answer echoed
// reaches the output, and the JSON stays valid.
func printJSON(w io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	data = append(redactJSONStrings(data), '\n')
	_, err = w.Write(data)
	return err
}

// redactJSONStrings returns data, a JSON text, with each string literal
// redacted; a literal that needs no change is copied as it was.
func redactJSONStrings(data []byte) []byte {
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); {
		if data[i] != '"' {
			out = append(out, data[i])
			i++
			continue
		}
		j := i + 1
		for j < len(data) && data[j] != '"' {
			if data[j] == '\\' {
				j++
			}
			j++
		}
		j = min(j+1, len(data))
		lit := data[i:j]
		var s string
		if json.Unmarshal(lit, &s) == nil {
			if r := redact.String(s); r != s {
				if enc, err := json.Marshal(r); err == nil {
					lit = enc
				}
			}
		}
		out = append(out, lit...)
		i = j
	}
	return out
}
