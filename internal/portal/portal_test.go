package portal_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/web"
)

type env struct {
	*apptest.Env
	now time.Time
}

func start(t *testing.T, d *db.DB) *env {
	e := apptest.Start(t, d)
	en := &env{Env: e, now: time.Now().UTC()}
	e.App.Portal.Now = func() time.Time { return en.now }
	return en
}

var codeRe = regexp.MustCompile(`\b\d{6}\b`)

// lastCode reads the code from the provider's log line for phone.
func (e *env) lastCode(t *testing.T, phone string) string {
	t.Helper()
	e.DeliverSMS()
	code := ""
	for _, line := range strings.Split(e.SMSLog.String(), "\n") {
		if strings.HasPrefix(line, "SMS to "+phone+":") {
			code = codeRe.FindString(strings.TrimPrefix(line, "SMS to "+phone+":"))
		}
	}
	if code == "" {
		t.Fatalf("no code for %s in %q", phone, e.SMSLog.String())
	}
	return code
}

func TestCodeSignInRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		const phone = "13911112222"
		e.Resident("9-0101", "李四", phone)
		code := func(p string) int {
			return e.Do("POST", "/api/portal/v1/auth/code", "", map[string]string{"phone": p}, nil).StatusCode
		}
		verify := func(p, c string) *apptest.Response {
			return e.Do("POST", "/api/portal/v1/auth/verify", "", map[string]string{"phone": p, "code": c}, nil)
		}
		// An unknown phone gets the same answer and no message.
		if s := code("13700000000"); s != http.StatusAccepted {
			t.Fatalf("unknown phone: %d", s)
		}
		e.DeliverSMS()
		if strings.Contains(e.SMSLog.String(), "13700000000") {
			t.Fatal("an unknown phone was texted")
		}
		if s := code(phone); s != http.StatusAccepted {
			t.Fatalf("code: %d", s)
		}
		c1 := e.lastCode(t, phone)
		// Stored hashed: the code appears in no column.
		var hashes []string
		rows, _ := d.Q(context.Background()).QueryContext(context.Background(), `SELECT code_hash || subject FROM otp_codes`)
		for rows.Next() {
			var h string
			rows.Scan(&h)
			hashes = append(hashes, h)
		}
		rows.Close()
		if strings.Contains(strings.Join(hashes, " "), c1) || strings.Contains(strings.Join(hashes, " "), phone) {
			t.Fatal("a code or phone is stored in clear")
		}
		// One code a minute.
		if s := code(phone); s != http.StatusTooManyRequests {
			t.Fatalf("second code within a minute: %d", s)
		}
		// Expired after 5 minutes.
		e.now = e.now.Add(5*time.Minute + time.Second)
		if res := verify(phone, c1); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("expired code: %d", res.StatusCode)
		}
		// Single use.
		code(phone)
		c2 := e.lastCode(t, phone)
		if res := verify(phone, c2); res.StatusCode != 200 {
			t.Fatalf("verify: %d %s", res.StatusCode, res.Body)
		}
		if res := verify(phone, c2); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("reused code: %d", res.StatusCode)
		}
		// Five an hour: three more fit (two were sent), the sixth does not.
		for i := 0; i < 3; i++ {
			e.now = e.now.Add(61 * time.Second)
			if s := code(phone); s != http.StatusAccepted {
				t.Fatalf("code %d in the hour: %d", i+3, s)
			}
		}
		e.now = e.now.Add(61 * time.Second)
		if s := code(phone); s != http.StatusTooManyRequests {
			t.Fatalf("sixth code in an hour: %d", s)
		}
		// Ten a day: after the hour, five more, then no more until a day passed.
		e.now = e.now.Add(time.Hour)
		for i := 0; i < 5; i++ {
			if s := code(phone); s != http.StatusAccepted {
				t.Fatalf("code %d in the day: %d", i+6, s)
			}
			e.now = e.now.Add(61 * time.Second)
		}
		e.now = e.now.Add(time.Hour)
		if s := code(phone); s != http.StatusTooManyRequests {
			t.Fatalf("eleventh code in a day: %d", s)
		}
		e.now = e.now.Add(24 * time.Hour)
		if s := code(phone); s != http.StatusAccepted {
			t.Fatalf("next day: %d", s)
		}
		// Five wrong codes in a row lock the phone for 30 minutes, the right
		// one included. The reused code above was the first wrong one.
		right := e.lastCode(t, phone)
		wrong := fmt.Sprintf("%06d", (mustAtoi(right)+1)%1000000)
		for i := 2; i <= 5; i++ {
			res := verify(phone, wrong)
			want := http.StatusUnauthorized
			if i == 5 {
				want = http.StatusTooManyRequests
			}
			if res.StatusCode != want {
				t.Fatalf("wrong code %d: %d %s", i, res.StatusCode, res.Body)
			}
		}
		if res := verify(phone, right); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("right code while locked: %d", res.StatusCode)
		}
		if s := code(phone); s != http.StatusTooManyRequests {
			t.Fatalf("code while locked: %d", s)
		}
		e.now = e.now.Add(30*time.Minute + time.Second)
		if s := code(phone); s != http.StatusAccepted {
			t.Fatalf("code after the lock: %d", s)
		}
		if res := verify(phone, e.lastCode(t, phone)); res.StatusCode != 200 {
			t.Fatalf("sign-in after the lock: %d %s", res.StatusCode, res.Body)
		}
	})
}

func mustAtoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// Resident A reaches none of resident B's cases, photos or household
// through any portal route; portal tokens reach no staff route and staff
// tokens no portal route.
func TestResidentIsolation(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		hhA := e.Resident("9-0201", "王五", "13922223333")
		hhB := e.Resident("9-0202", "赵六", "13933334444")
		a, b := e.PortalToken("13922223333"), e.PortalToken("13933334444")
		var me struct{ Households []struct{ ID int64 } }
		e.Do("GET", "/api/portal/v1/me", a, nil, &me)
		if len(me.Households) != 1 || me.Households[0].ID != hhA {
			t.Fatalf("me: %+v", me)
		}
		var created struct{ Case struct{ ID int64 } }
		res := e.Do("POST", "/api/portal/v1/cases", b, map[string]any{"type": "repair", "description": "卧室空调漏水"}, &created)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("B reports: %d %s", res.StatusCode, res.Body)
		}
		bCase := created.Case.ID
		var photo struct{ ID int64 }
		e.uploadPhoto(t, b, bCase, &photo)
		// A cannot report for B's household.
		if res := e.Do("POST", "/api/portal/v1/cases", a, map[string]any{"type": "repair", "household_id": hhB, "description": "x"}, nil); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("A reports for B: %d", res.StatusCode)
		}
		for _, r := range e.App.Server.Routes() {
			if !strings.HasPrefix(r.Path, "/api/portal/") || r.Access != web.Resident || r.Path == "/api/portal/v1/auth/logout" {
				continue
			}
			path := strings.NewReplacer("{id}", fmt.Sprint(bCase), "{file}", fmt.Sprint(photo.ID)).Replace(r.Path)
			var body any
			if r.Doc != nil && r.Doc.Body != nil {
				body = map[string]any{"speed": 5, "quality": 5, "attitude": 5, "type": "repair", "household_id": hhB, "description": "x"}
			}
			res := e.Do(r.Method, path, a, body, nil)
			if bytes.Contains(res.Body, []byte("赵六")) || bytes.Contains(res.Body, []byte("卧室空调漏水")) {
				t.Errorf("%s %s leaks B's data to A: %s", r.Method, path, res.Body)
			}
			if strings.Contains(r.Path, "{id}") && res.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s as A: %d, want 404", r.Method, path, res.StatusCode)
			}
			if res := e.Do(r.Method, path, e.Login("admin"), body, nil); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("staff token on %s: %d", path, res.StatusCode)
			}
		}
		var list struct{ Items []struct{ ID int64 } }
		e.Do("GET", "/api/portal/v1/cases", a, nil, &list)
		if len(list.Items) != 0 {
			t.Fatalf("A sees cases: %+v", list.Items)
		}
		// B sees their own; the portal token opens no staff route.
		if res := e.Do("GET", fmt.Sprintf("/api/portal/v1/cases/%d", bCase), b, nil, nil); res.StatusCode != 200 || !bytes.Contains(res.Body, []byte("卧室空调漏水")) {
			t.Fatalf("B's case: %d", res.StatusCode)
		}
		for _, p := range []string{"/api/v1/cases", "/api/v1/staff", "/api/v1/auth/me", "/api/v1/inbox"} {
			if res := e.Do("GET", p, b, nil, nil); res.StatusCode != http.StatusUnauthorized {
				t.Errorf("portal token on %s: %d", p, res.StatusCode)
			}
		}
		// The case reached B's butler like a phone call would.
		var cs struct {
			Items []struct{ Number, Source string }
		}
		e.Do("GET", "/api/v1/cases?state=open", e.Login("butler"), nil, &cs)
		found := false
		for _, c := range cs.Items {
			found = found || c.Source == "portal"
		}
		if !found {
			t.Fatal("the butler does not see the portal case")
		}
	})
}

func (e *env) uploadPhoto(t *testing.T, token string, caseID int64, out any) {
	t.Helper()
	var buf bytes.Buffer
	w := newMultipart(&buf)
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/portal/v1/cases/%d/photos", e.URL, caseID), &buf)
	req.Header.Set("Content-Type", w)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("photo: %d", res.StatusCode)
	}
	if err := decodeJSON(res, out); err != nil {
		t.Fatal(err)
	}
}
