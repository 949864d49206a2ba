package pii

import "testing"

func TestMask(t *testing.T) {
	for in, want := range map[string]string{"13812341234": "138****1234", "": "", "12": "**", "12345": "***45", "0755-12345678": "075******5678"} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
	if got := MaskID("110101199003071234"); got != "110***********1234" {
		t.Errorf("MaskID = %q", got)
	}
}
