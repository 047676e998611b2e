package appconfig

import "testing"

func TestParseDispatch(t *testing.T) {
	info, probs := ParseDispatch("dispatch.yaml", []byte("dispatch:\n- url: \"*/favicon.ico\"\n  service: default\n- url: \"*/mobile/*\"\n  module: mobile\n"))
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	if info.Dispatch[0].ServiceName() != "default" || info.Dispatch[1].ServiceName() != "mobile" || info.Dispatch[1].Service != "" {
		t.Errorf("entries = %+v %+v", info.Dispatch[0], info.Dispatch[1])
	}
	// An empty file is no rules, as in the SDK.
	info, probs = ParseDispatch("dispatch.yaml", nil)
	if info == nil || len(info.Dispatch) != 0 || len(probs) != 0 {
		t.Errorf("empty dispatch.yaml: %+v %v", info, probs)
	}
	_, probs = ParseDispatch("dispatch.yaml", []byte("dispatch:\n- url: 12\n  service: s\n"))
	if len(probs) != 1 || probs[0].Message != "url must be a string, not '<class 'int'>'" || probs[0].Column != 8 {
		t.Errorf("numeric url: %v", probs)
	}
}
