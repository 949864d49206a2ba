package households

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"

	"github.com/guanjia/guanjia/internal/db"
)

// Search tokens. Each row of household_search is one token pointing at a
// household (and the person who matched). A query becomes one or more
// token ranges, walked in index order and stopped at a limit, so a search
// costs the same over 2,000 people or 2,000,000.
const (
	tokName     = "n:" // the whole name
	tokGiven    = "g:" // the name without the surname
	tokInitials = "i:" // pinyin initials of the name
	tokUnit     = "u:" // unit number "3-1502"
	tokRoom     = "r:" // the floor-and-door part "1502"
	tokTail     = "t:" // blind index of a phone's last four digits
	tokPhone    = "p:" // blind index of a whole phone number
)

// tokenMax ends a prefix range: every token with the prefix sorts below
// prefix+tokenMax in byte order (SQLite BINARY, PostgreSQL COLLATE "C").
const tokenMax = "\U0010FFFF"

// Index fields of the vault.
const (
	fieldPhone     = "phone"
	fieldPhoneTail = "phone_tail"
	fieldIDNumber  = "id_number"
	fieldBirthday  = "birthday"
	fieldBirthMD   = "birthday_md"
)

// compoundSurnames are the two-character surnames, so "欧阳娜娜" is found
// by "娜娜" too.
var compoundSurnames = map[string]bool{"欧阳": true, "司马": true, "上官": true, "诸葛": true, "东方": true, "皇甫": true, "尉迟": true,
	"公孙": true, "慕容": true, "令狐": true, "夏侯": true, "司徒": true, "长孙": true, "宇文": true, "端木": true, "西门": true, "南宫": true}

// surnameInitials are surnames read differently from the character's usual
// reading (曾 zēng, 单 shàn, 解 xiè …).
var surnameInitials = map[rune]byte{'曾': 'z', '单': 's', '解': 'x', '仇': 'q', '区': 'o', '查': 'z', '朴': 'p', '覃': 'q',
	'盖': 'g', '乐': 'y', '翟': 'z', '缪': 'm', '召': 's', '尉': 'y', '长': 'z', '重': 'c', '种': 'c', '秘': 'b', '员': 'y'}

var pinyinArgs = func() pinyin.Args {
	a := pinyin.NewArgs()
	a.Style = pinyin.FirstLetter
	return a
}()

// Initials returns the pinyin initials of a name: "张三" → "zs", "曾国藩" →
// "zgf", "李Anna" → "la". Digits and punctuation are dropped.
func Initials(name string) string {
	var b strings.Builder
	inWord := false
	for i, r := range []rune(name) {
		switch {
		case unicode.Is(unicode.Han, r):
			inWord = false
			if c, ok := surnameInitials[r]; ok && i == 0 {
				b.WriteByte(c)
				continue
			}
			if p := pinyin.LazyPinyin(string(r), pinyinArgs); len(p) > 0 && p[0] != "" {
				b.WriteString(strings.ToLower(p[0][:1]))
			}
		case r < unicode.MaxASCII && unicode.IsLetter(r):
			if !inWord {
				b.WriteRune(unicode.ToLower(r))
			}
			inWord = true
		default:
			inWord = false
		}
	}
	return b.String()
}

// givenName returns the name without its surname ("" for one character).
func givenName(name string) string {
	r := []rune(name)
	if len(r) >= 3 && compoundSurnames[string(r[:2])] {
		return string(r[2:])
	}
	if len(r) >= 2 && unicode.Is(unicode.Han, r[0]) {
		return string(r[1:])
	}
	return ""
}

// nameTokens returns the search tokens of a person's name.
func nameTokens(name string) []string {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "" {
		return nil
	}
	out := []string{tokName + n}
	if g := givenName(n); g != "" {
		out = append(out, tokGiven+g)
	}
	if i := Initials(n); i != "" {
		out = append(out, tokInitials+i)
	}
	return out
}

// phoneTail is the last four digits of a phone number.
func phoneTail(number string) string {
	d := digits(number)
	if len(d) < 4 {
		return d
	}
	return d[len(d)-4:]
}

// phoneTokens returns the search tokens of a phone number.
func (s *Service) phoneTokens(number string) []string {
	return []string{tokTail + s.vault.Index(fieldPhoneTail, phoneTail(number)), tokPhone + s.vault.Index(fieldPhone, digits(number))}
}

// unitTokens returns the search tokens of a unit number "3-1502".
func unitTokens(number string) []string {
	out := []string{tokUnit + strings.ToLower(number)}
	if _, room, ok := strings.Cut(number, "-"); ok && room != "" {
		out = append(out, tokRoom+strings.ToLower(room))
	}
	return out
}

// tokenRange is one part of a search: tokens in [lo, hi), or one of exact.
type tokenRange struct {
	lo, hi string
	exact  []string
	// suffix, when set, keeps only people with a phone ending in it (a
	// suffix longer than the four digits the index knows).
	suffix string
}

var (
	unitQueryRe   = regexp.MustCompile(`^\d{1,3}-\d{0,6}$`)
	digitsQueryRe = regexp.MustCompile(`^\d+$`)
	lettersRe     = regexp.MustCompile(`^[a-z]+$`)
)

// plan turns what a user typed into token ranges.
func (s *Service) plan(q string) []tokenRange {
	q = strings.ToLower(strings.Join(strings.Fields(q), ""))
	prefix := func(p string) tokenRange { return tokenRange{lo: p, hi: p + tokenMax} }
	exact := func(kind string, vals []string) tokenRange {
		r := tokenRange{}
		for _, v := range vals {
			r.exact = append(r.exact, kind+v)
		}
		return r
	}
	switch {
	case q == "":
		return nil
	case unitQueryRe.MatchString(q):
		return []tokenRange{prefix(tokUnit + q)}
	case digitsQueryRe.MatchString(q):
		var out []tokenRange
		switch {
		case len(q) == 4:
			out = append(out, exact(tokTail, s.vault.Indexes(fieldPhoneTail, q)))
		case len(q) >= 5 && len(q) <= 10:
			r := exact(tokTail, s.vault.Indexes(fieldPhoneTail, q[len(q)-4:]))
			r.suffix = q
			out = append(out, r)
		case len(q) >= 11:
			out = append(out, exact(tokPhone, s.vault.Indexes(fieldPhone, q)))
		}
		if len(q) <= 6 {
			out = append(out, prefix(tokRoom+q))
		}
		return out
	case lettersRe.MatchString(q):
		return []tokenRange{prefix(tokInitials + q), prefix(tokName + q)}
	default:
		return []tokenRange{prefix(tokName + q), prefix(tokGiven + q)}
	}
}

// searchHit is one household found and the person who matched.
type searchHit struct {
	householdID int64
	personID    *int64
}

// searchLimit caps the households one search returns.
const searchLimit = 50

// searchPage is how many tokens one step of a search reads, and
// searchPages how many steps it takes at most: a search reads at most
// 5,000 index entries whatever the size of the database.
const (
	searchPage  = 200
	searchPages = 25
)

// search returns up to searchLimit current households matching q that the
// caller may see (and that extra, a condition on households h, admits), in
// token order, and whether more were cut off. It walks the token index in
// pages (keyset on token and household) and checks each page's households
// in a second query on their primary key, so neither query depends on the
// planner's statistics: both databases read index ranges only.
func (s *Service) search(ctx context.Context, q string, extra string, extraArgs []any) ([]searchHit, bool, error) {
	var hits []searchHit
	seen := map[int64]bool{}
	more := false
	for _, r := range s.plan(q) {
		cond, args := "", []any{}
		if len(r.exact) > 0 {
			cond = "s.token IN (" + db.Placeholders(len(r.exact)) + ")"
			for _, e := range r.exact {
				args = append(args, e)
			}
		} else {
			cond = "s.token >= ? AND s.token < ?"
			args = append(args, r.lo, r.hi)
		}
		lastToken, lastHH := "", int64(0)
		for page := 0; page < searchPages && len(hits) < searchLimit; page++ {
			q := `SELECT s.token, s.household_id, s.person_id FROM household_search s WHERE ` + cond
			pargs := append([]any{}, args...)
			if page > 0 {
				q += ` AND (s.token > ? OR (s.token = ? AND s.household_id > ?))`
				pargs = append(pargs, lastToken, lastToken, lastHH)
			}
			rows, err := s.db.Q(ctx).QueryContext(ctx, q+` ORDER BY s.token, s.household_id LIMIT ?`, append(pargs, searchPage)...)
			if err != nil {
				return nil, false, fmt.Errorf("households: search: %w", err)
			}
			var found []searchHit
			n := 0
			for rows.Next() {
				var h searchHit
				if err := rows.Scan(&lastToken, &h.householdID, &h.personID); err != nil {
					rows.Close()
					return nil, false, err
				}
				lastHH = h.householdID
				n++
				if !seen[h.householdID] {
					found = append(found, h)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, false, err
			}
			if found, err = s.visibleHits(ctx, found, extra, extraArgs); err != nil {
				return nil, false, err
			}
			if r.suffix != "" {
				if found, err = s.keepPhoneSuffix(ctx, found, r.suffix); err != nil {
					return nil, false, err
				}
			}
			for _, h := range found {
				if seen[h.householdID] {
					continue
				}
				if len(hits) == searchLimit {
					return hits, true, nil
				}
				seen[h.householdID] = true
				hits = append(hits, h)
			}
			if n < searchPage {
				break // the range is exhausted
			}
			if page == searchPages-1 {
				more = true
			}
		}
		if len(hits) == searchLimit {
			more = true
		}
	}
	return hits, more, nil
}

// visibleHits keeps the hits whose household is current, in the caller's
// scope and admitted by extra, in their order. The households are read by
// primary key and the scope is checked here, as Principal.Can does: a
// LIKE on node_path in the query would let a planner without statistics
// prefer that index and read every household of the site.
func (s *Service) visibleHits(ctx context.Context, hits []searchHit, extra string, extraArgs []any) ([]searchHit, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	ids := make([]any, 0, len(hits))
	for _, h := range hits {
		ids = append(ids, h.householdID)
	}
	rows, err := s.db.Q(ctx).QueryContext(ctx, `SELECT h.id, h.node_path FROM households h WHERE h.id IN (`+db.Placeholders(len(ids))+`)
		AND h.status = 'current'`+extra, append(ids, extraArgs...)...)
	if err != nil {
		return nil, fmt.Errorf("households: search scope: %w", err)
	}
	defer rows.Close()
	ok := map[int64]bool{}
	p := principal(ctx)
	for rows.Next() {
		var id int64
		var path string
		if err := rows.Scan(&id, &path); err != nil {
			return nil, err
		}
		ok[id] = p.Can(PermView, path)
	}
	out := hits[:0]
	for _, h := range hits {
		if ok[h.householdID] {
			out = append(out, h)
		}
	}
	return out, rows.Err()
}

// keepPhoneSuffix keeps the hits whose person has a phone ending in suffix;
// the index only knows the last four digits, the rest is checked on the
// opened values.
func (s *Service) keepPhoneSuffix(ctx context.Context, hits []searchHit, suffix string) ([]searchHit, error) {
	var out []searchHit
	for _, h := range hits {
		if h.personID == nil {
			continue
		}
		phones, err := s.clearPhones(ctx, *h.personID)
		if err != nil {
			return nil, err
		}
		for _, p := range phones {
			if strings.HasSuffix(digits(p), suffix) {
				out = append(out, h)
				break
			}
		}
	}
	return out, nil
}
