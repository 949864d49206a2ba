package i18n

import (
	"strings"
	"testing"
)

// Every key must exist in every locale: a screen half in Chinese and half in
// English, or a raw key on screen, is a defect.
func TestCatalogsHaveTheSameKeys(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	base := c.Keys(Default)
	if len(base) == 0 {
		t.Fatal("empty default catalog")
	}
	for _, loc := range Locales[1:] {
		for _, k := range base {
			if !c.Has(loc, k) {
				t.Errorf("%s lacks %q", loc, k)
			}
		}
		for _, k := range c.Keys(loc) {
			if !c.Has(Default, k) {
				t.Errorf("%s has %q that %s lacks", loc, k, Default)
			}
		}
	}
	for _, loc := range Locales {
		for _, k := range c.Keys(loc) {
			if strings.TrimSpace(c.T(loc, k)) == "" {
				t.Errorf("%s: %q is empty", loc, k)
			}
		}
	}
}

func TestTranslate(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if got := c.T("en", "error.field.too_long"); got == "error.field.too_long" {
		t.Fatal("key not translated")
	}
	if got := c.T("en", "no.such.key"); got != "no.such.key" {
		t.Fatalf("missing key: %q", got)
	}
	if Normalize("en-US,en;q=0.9") != "en" || Normalize("zh-TW") != "zh-CN" || Normalize("") != "zh-CN" || Normalize("fr") != "zh-CN" {
		t.Fatal("Normalize")
	}
}
