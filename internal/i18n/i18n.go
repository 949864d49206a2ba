// Package i18n holds the message catalogs. Every user-visible string and error
// goes through a flat key ("staff.title", "error.field.required"). Catalogs
// live in locales/<locale>/<module>.json so each module keeps its own file;
// they are merged at start and a key defined twice is an error.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed locales
var localesFS embed.FS

// Default is the locale used when none is chosen: the users are Chinese.
const Default = "zh-CN"

// Locales lists the supported locales, the default first.
var Locales = []string{"zh-CN", "en"}

// Catalogs maps a locale to its messages.
type Catalogs struct {
	msgs map[string]map[string]string
}

// Load reads the embedded catalogs. It returns an error for malformed JSON or
// a key defined in two files of one locale.
func Load() (*Catalogs, error) { return LoadFS(localesFS) }

// LoadFS reads catalogs from fsys (a "locales" folder).
func LoadFS(fsys fs.FS) (*Catalogs, error) {
	c := &Catalogs{msgs: map[string]map[string]string{}}
	for _, loc := range Locales {
		m := map[string]string{}
		files, err := fs.Glob(fsys, path.Join("locales", loc, "*.json"))
		if err != nil {
			return nil, err
		}
		sort.Strings(files)
		for _, f := range files {
			b, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, err
			}
			var one map[string]string
			if err := json.Unmarshal(b, &one); err != nil {
				return nil, fmt.Errorf("i18n: %s: %w", f, err)
			}
			for k, v := range one {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("i18n: %s: key %q defined twice", f, k)
				}
				m[k] = v
			}
		}
		c.msgs[loc] = m
	}
	return c, nil
}

// MustLoad is Load that panics; the catalogs are embedded, so a failure is a
// build defect caught by tests.
func MustLoad() *Catalogs {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Keys returns the sorted keys of one locale.
func (c *Catalogs) Keys(locale string) []string {
	keys := make([]string, 0, len(c.msgs[locale]))
	for k := range c.msgs[locale] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Has reports whether the locale defines key.
func (c *Catalogs) Has(locale, key string) bool { _, ok := c.msgs[locale][key]; return ok }

// Normalize maps an Accept-Language value or a cookie to a supported locale.
func Normalize(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, part := range strings.Split(s, ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		switch {
		case strings.HasPrefix(tag, "zh"):
			return "zh-CN"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return Default
}

// T translates key in locale, filling {name} placeholders from args given as
// alternating name, value pairs. A missing key falls back to the default
// locale and then to the key itself, so a gap shows up on screen and in tests.
func (c *Catalogs) T(locale, key string, args ...any) string {
	msg, ok := c.msgs[locale][key]
	if !ok {
		if msg, ok = c.msgs[Default][key]; !ok {
			return key
		}
	}
	if len(args) == 0 || !strings.Contains(msg, "{") {
		return msg
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

// TMap is T with arguments from a map.
func (c *Catalogs) TMap(locale, key string, args map[string]any) string {
	kv := make([]any, 0, 2*len(args))
	for k, v := range args {
		kv = append(kv, k, v)
	}
	return c.T(locale, key, kv...)
}

// Localizer is a catalog bound to one locale, for templates and handlers.
type Localizer struct {
	C      *Catalogs
	Locale string
}

// T translates key.
func (l Localizer) T(key string, args ...any) string { return l.C.T(l.Locale, key, args...) }
