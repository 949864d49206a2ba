// Package pii masks personal data for display. Masked is the default
// everywhere; showing a clear value is a logged act of the module that owns it.
package pii

import "unicode/utf8"

// MaskPhone shows the first 3 and last 4 digits: 138****1234. Short values
// keep only their last 2 characters.
func MaskPhone(s string) string {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return ""
	case n >= 8:
		r := []rune(s)
		return string(r[:3]) + repeat('*', n-7) + string(r[n-4:])
	case n > 2:
		r := []rune(s)
		return repeat('*', n-2) + string(r[n-2:])
	default:
		return repeat('*', n)
	}
}

// MaskID shows the first 3 and last 4 characters of an ID number.
func MaskID(s string) string {
	r := []rune(s)
	if len(r) <= 7 {
		return repeat('*', len(r))
	}
	return string(r[:3]) + repeat('*', len(r)-7) + string(r[len(r)-4:])
}

func repeat(c rune, n int) string {
	b := make([]rune, n)
	for i := range b {
		b[i] = c
	}
	return string(b)
}

// MaskBirthday hides the year of a YYYY-MM-DD birthday, which with the day
// would single a person out; the month and day stay, for greetings.
func MaskBirthday(s string) string {
	if len(s) != 10 {
		return repeat('*', len([]rune(s)))
	}
	return "****" + s[4:]
}
