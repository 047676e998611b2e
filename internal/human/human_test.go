package human

import "testing"

func TestSize(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{512, "512 B"},
		{5327, "5.2 KiB"},
		{54874837, "52 MiB"},
		{-2048, "-2.0 KiB"},
	}
	for _, tt := range tests {
		if got := Size(tt.n); got != tt.want {
			t.Errorf("Size(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestPath(t *testing.T) {
	tests := []struct {
		name, want string
	}{
		{"static/app.js", "static/app.js"},
		{"static/my file (1).txt", "static/my file (1).txt"},
		{"docs/ünïcödé/日本.txt", "docs/ünïcödé/日本.txt"},
		{"a'b", "a'b"},
		{"evil\x1b]0;pwned\x07.txt", `"evil\x1b]0;pwned\a.txt"`},
		{"x\x1b[2J\x1b[Hy", `"x\x1b[2J\x1b[Hy"`},
		{"two\nlines", `"two\nlines"`},
		{"cr\rover", `"cr\rover"`},
		{"tab\there", `"tab\there"`},
		{"del\x7f", `"del\x7f"`},
		{"c1\u009b31m", `"c1\u009b31m"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"txt.\u202egpj", `"txt.\u202egpj"`},
		{`"quoted".txt`, `"\"quoted\".txt"`},
	}
	for _, tt := range tests {
		if got := Path(tt.name); got != tt.want {
			t.Errorf("Path(%q) = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestPathEveryByte: a name with any one byte is quoted exactly when the
// byte is a control character (C0 or DEL) or not UTF-8 on its own, as
// printable ASCII is passed without decoding runes.
func TestPathEveryByte(t *testing.T) {
	for b := 0; b < 256; b++ {
		name := "a" + string([]byte{byte(b)}) + "z"
		want := b < 0x20 || b == 0x7f || b >= 0x80
		if got := Path(name) != name; got != want {
			t.Errorf("Path(%q) quoted: %v, want %v", name, got, want)
		}
	}
}
