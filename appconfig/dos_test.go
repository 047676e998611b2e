package appconfig

import "testing"

func TestParseDOS(t *testing.T) {
	info, probs := ParseDOS("dos.yaml", []byte("blacklist:\n- subnet: 1.2.3.4\n  description: one host\n- subnet: 2001:db8::/32\n"))
	if len(probs) != 0 {
		t.Fatalf("problems: %v", probs)
	}
	if info.Blacklist[0].Subnet != "1.2.3.4" || info.Blacklist[0].Description != "one host" || info.Blacklist[1].Subnet != "2001:db8::/32" {
		t.Errorf("blacklist = %+v %+v", info.Blacklist[0], info.Blacklist[1])
	}
	_, probs = ParseDOS("dos.yaml", []byte("blacklist:\n- subnet: 10\n"))
	if len(probs) != 1 || probs[0].Message != "subnet must be a string, not '<class 'int'>'" {
		t.Errorf("numeric subnet: %v", probs)
	}
	_, probs = ParseDOS("dos.yaml", []byte("blacklist:\n- subnet: 1.2.3.4\n  reason: spam\n"))
	if len(probs) != 1 || probs[0].Message != "Unexpected attribute 'reason' for object of type BlacklistEntry." {
		t.Errorf("unknown key: %v", probs)
	}
}
