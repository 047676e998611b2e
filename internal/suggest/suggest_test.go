package suggest

import "testing"

func TestClosest(t *testing.T) {
	names := []string{"handlers", "handler_x", "runtime", "update", "update_cron", "dry-run"}
	tests := []struct{ in, want string }{
		{"handelrs", "handlers"}, // a swap is one edit
		{"runtim", "runtime"},
		{"updaet", "update"},
		{"dyr-run", "dry-run"},
		{"frobnicate", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := Closest(tt.in, names, nil); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
