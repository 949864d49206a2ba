package portal

import (
	"regexp"

	"github.com/guanjia/guanjia/internal/pii"
)

// A lobby screen (kiosk) shows personal values masked only: phones as
// 138****1234, account and application numbers with their last four
// characters, and phone numbers people typed into free text masked too.

// maskNumber keeps the last four characters of an account or application
// number (and the first two of a long one): enough for its owner to
// recognise, too little for a passer-by to use.
func maskNumber(s string) string {
	r := []rune(s)
	if len(r) <= 4 {
		return s
	}
	head := 0
	if len(r) >= 10 {
		head = 2
	}
	out := make([]rune, len(r))
	for i := range r {
		if i < head || i >= len(r)-4 {
			out[i] = r[i]
		} else {
			out[i] = '*'
		}
	}
	return string(out)
}

// phoneInText finds mainland mobile and landline numbers in free text.
var phoneInText = regexp.MustCompile(`(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}|0\d{2,3}-?\d{7,8}`)

// maskPhonesIn masks every phone number found in a text.
func maskPhonesIn(s string) string {
	return phoneInText.ReplaceAllStringFunc(s, func(p string) string { return pii.MaskPhone(digits(p)) })
}
