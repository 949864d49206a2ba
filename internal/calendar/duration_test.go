package calendar

import (
	"strings"
	"testing"
	"time"
)

func TestParseBusinessDuration(t *testing.T) {
	tests := []struct {
		input string
		want  BusinessDuration
		text  string // String() of the result
	}{
		{"8h", BusinessDuration{Clock: 8 * time.Hour}, "PT8H"},
		{"90m", BusinessDuration{Clock: 90 * time.Minute}, "PT1H30M"},
		{"1h30m15.5s", BusinessDuration{Clock: time.Hour + 30*time.Minute + 15500*time.Millisecond}, "PT1H30M15.5S"},
		{"0", BusinessDuration{}, "PT0S"},
		{"PT8H", BusinessDuration{Clock: 8 * time.Hour}, "PT8H"},
		{"pt1.5h", BusinessDuration{Clock: 90 * time.Minute}, "PT1H30M"},
		{"PT0,5H", BusinessDuration{Clock: 30 * time.Minute}, "PT30M"},
		{"P3D", BusinessDuration{Days: 3}, "P3D"},
		{"P1DT4H", BusinessDuration{Days: 1, Clock: 4 * time.Hour}, "P1DT4H"},
		{"P2W", BusinessDuration{Weeks: 2}, "P2W"},
		{"P1W2DT30M", BusinessDuration{Weeks: 1, Days: 2, Clock: 30 * time.Minute}, "P1W2DT30M"},
		{" PT36H ", BusinessDuration{Clock: 36 * time.Hour}, "PT36H"},
		{"P0D", BusinessDuration{}, "PT0S"},
	}
	for _, tc := range tests {
		got, err := ParseBusinessDuration(tc.input)
		if err != nil {
			t.Errorf("ParseBusinessDuration(%q): %v", tc.input, err)
			continue
		}
		if got != tc.want {
			t.Errorf("ParseBusinessDuration(%q) = %+v, want %+v", tc.input, got, tc.want)
		}
		if got.String() != tc.text {
			t.Errorf("%+v.String() = %q, want %q", got, got.String(), tc.text)
		}
	}
}

func TestParseBusinessDurationErrors(t *testing.T) {
	tests := []struct{ input, part string }{
		{"", "empty"},
		{"P", "no components"},
		{"PT", "no components"},
		{"P1DT", "T must be followed"},
		{"P1M", "years and months"},
		{"P1Y", "years and months"},
		{"P1.5D", "whole numbers"},
		{"PD", "lacks a number"},
		{"P3", "lacks a designator"},
		{"P1D2W", "out of order"},
		{"PT1H1H", "out of order"},
		{"PT5X", "unknown"},
		{"P999999D", "more than"},
		{"PT9999999999999H", "too large"},
		{"-8h", "negative"},
		{"8 hours", "8 hours"},
		{"3d", "unknown unit"},
	}
	for _, tc := range tests {
		_, err := ParseBusinessDuration(tc.input)
		if err == nil || !strings.Contains(err.Error(), tc.part) || !strings.HasPrefix(err.Error(), "calendar: business duration") {
			t.Errorf("ParseBusinessDuration(%q) error = %v, want one mentioning %q", tc.input, err, tc.part)
		}
	}
}

func FuzzParseBusinessDuration(f *testing.F) {
	for _, seed := range []string{"8h", "90m", "PT8H", "P3D", "P1DT4H", "P2W", "pt1,5h", "P1W2DT3H4M5.000000006S", "P1M", "-1s"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, input string) {
		bd, err := ParseBusinessDuration(input)
		if err != nil {
			return
		}
		if bd.Weeks < 0 || bd.Days < 0 || bd.Clock < 0 || bd.Days > maxBusinessDays || bd.Weeks > maxBusinessDays {
			t.Fatalf("%q parsed to out-of-range %+v", input, bd)
		}
		again, err := ParseBusinessDuration(bd.String())
		if err != nil || again != bd {
			t.Fatalf("%q → %+v → %q → %+v, %v", input, bd, bd.String(), again, err)
		}
	})
}
