package portal_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
)

// emptyUnit makes a unit of 示例花园 with no household yet.
func (e *env) emptyUnit(t *testing.T, number string) int64 {
	t.Helper()
	site := e.SiteID("示例花园")
	var id int64
	err := e.DB.WithTx(t.Context(), func(ctx context.Context, tx *db.Tx) error {
		var path string
		if err := tx.QueryRowContext(ctx, `SELECT path FROM org_nodes WHERE id = ?`, site).Scan(&path); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `INSERT INTO units (site_id, node_path, number, building, floor, created_at, updated_at) VALUES (?, ?, ?, '9', 1, 0, 0) RETURNING id`,
			site, path, number).Scan(&id)
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// submit sends a verification request as the API's multipart form.
func (e *env) submit(t *testing.T, fields map[string]string, proof []byte) *apptest.Response {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if proof != nil {
		fw, _ := w.CreateFormFile("file", "proof.png")
		fw.Write(proof)
	}
	w.Close()
	req, _ := http.NewRequest("POST", e.URL+"/api/portal/v1/verifications", &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &apptest.Response{StatusCode: res.StatusCode, Header: res.Header, Body: b}
}

func (e *env) smsTo(t *testing.T, phone string) []string {
	t.Helper()
	e.DeliverSMS()
	var out []string
	for _, line := range strings.Split(e.SMSLog.String(), "\n") {
		if strings.HasPrefix(line, "SMS to "+phone+":") {
			out = append(out, strings.TrimPrefix(line, "SMS to "+phone+":"))
		}
	}
	return out
}

// A phone nobody registered asks to be verified at a unit with a photo of
// proof; until the unit's butler approves, it can neither sign in nor see
// anything; the butler is told, sees the request masked and decides; the
// person is told by text; once approved the phone's portal includes the
// household (a unit without one gets one).
func TestVerificationFlow(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		hh := e.Resident("9-0501", "郑十", "13911110000")
		empty := e.emptyUnit(t, "9-0502")
		site := fmt.Sprint(e.SiteID("示例花园"))
		const phone = "13700001111"
		var butlerPhone string
		d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT phone FROM staff WHERE username = 'butler'`).Scan(&butlerPhone)

		// An unknown phone gets no sign-in code.
		e.Do("POST", "/api/portal/v1/auth/code", "", map[string]string{"phone": phone}, nil)
		if got := e.smsTo(t, phone); len(got) != 0 {
			t.Fatalf("an unknown phone got %q", got)
		}
		// It does get a verification code.
		e.now = e.now.Add(61e9)
		var sent struct {
			MaskedPhone string `json:"masked_phone"`
		}
		if res := e.Do("POST", "/api/portal/v1/verifications/code", "", map[string]string{"phone": phone}, &sent); res.StatusCode != http.StatusAccepted || sent.MaskedPhone != "137****1111" {
			t.Fatalf("verification code: %d %s", res.StatusCode, res.Body)
		}
		// Sign-in codes and verification codes are different things.
		code := e.lastCode(t, phone)
		if res := e.Do("POST", "/api/portal/v1/auth/verify", "", map[string]string{"phone": phone, "code": code}, nil); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a verification code signed in: %d", res.StatusCode)
		}
		form := map[string]string{"phone": phone, "code": code, "site_id": site, "unit": "9-0501", "role": "tenant", "name": "冯租客"}
		with := func(k, v string) map[string]string {
			m := map[string]string{}
			for a, b := range form {
				m[a] = b
			}
			m[k] = v
			return m
		}
		before := e.Count("portal_verifications")
		for _, c := range []struct {
			name   string
			fields map[string]string
			proof  []byte
			status int
			field  string
		}{
			{"no proof", form, nil, 422, "file"},
			{"not a photo", form, []byte("%PDF-1.4 not an image"), 422, "file"},
			{"bad role", with("role", "landlord"), png, 422, "role"},
			{"no name", with("name", " "), png, 422, "name"},
			{"unknown site", with("site_id", "999999"), png, 422, "site_id"},
			{"unknown unit", with("unit", "99-9999"), png, 422, "unit"},
			{"bad code", with("code", "12ab"), png, 422, "code"},
		} {
			res := e.submit(t, c.fields, c.proof)
			if res.StatusCode != c.status || !bytes.Contains(res.Body, []byte(`"`+c.field+`"`)) {
				t.Errorf("%s: %d %s", c.name, res.StatusCode, res.Body)
			}
		}
		// The unit number is read as people type it (full-width digits).
		ok := with("unit", "９－０５０１")
		if res := e.submit(t, ok, png); res.StatusCode != http.StatusCreated {
			t.Fatalf("request: %d %s", res.StatusCode, res.Body)
		}
		if n := e.Count("portal_verifications"); n != before+1 {
			t.Fatalf("verifications %d → %d", before, n)
		}
		// The code is used up; the same unit again waits already.
		e.now = e.now.Add(61e9)
		e.Do("POST", "/api/portal/v1/verifications/code", "", map[string]string{"phone": phone}, nil)
		if res := e.submit(t, with("code", e.lastCode(t, phone)), png); res.StatusCode != http.StatusConflict {
			t.Fatalf("second request for the same unit: %d %s", res.StatusCode, res.Body)
		}
		// The household's butler is told, in the bell and by text.
		var note string
		d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT payload FROM notifications WHERE recipient_id = ? AND kind = 'portal.verification'`, e.StaffID("butler")).Scan(&note)
		if !strings.Contains(note, "9-0501") || !strings.Contains(note, "冯租客") {
			t.Fatalf("butler's notification: %q", note)
		}
		if texts := e.smsTo(t, butlerPhone); len(texts) == 0 || !strings.Contains(texts[len(texts)-1], "住户认证") {
			t.Fatalf("butler's texts: %q", texts)
		}
		// Nothing before approval: no code, no sign-in.
		e.now = e.now.Add(61e9)
		n := len(e.smsTo(t, phone))
		e.Do("POST", "/api/portal/v1/auth/code", "", map[string]string{"phone": phone}, nil)
		if len(e.smsTo(t, phone)) != n {
			t.Fatal("a pending phone got a sign-in code")
		}

		// The butler's list: masked phone, the proof behind the page.
		var list struct {
			Items []struct {
				ID       int64
				Phone    string
				Unit     string
				Role     string
				HasProof bool `json:"has_proof"`
			}
		}
		if res := e.Do("GET", "/api/v1/portal/verifications", e.Login("butler"), nil, &list); res.StatusCode != 200 || len(list.Items) != 1 ||
			list.Items[0].Phone != "137****1111" || !list.Items[0].HasProof || list.Items[0].Unit != "9-0501" || bytes.Contains(res.Body, []byte(phone)) {
			t.Fatalf("pending list: %d %s", res.StatusCode, res.Body)
		}
		id := list.Items[0].ID
		for _, who := range []string{"technician", "attendant", "clerk"} {
			if res := e.Do("GET", "/api/v1/portal/verifications", e.Login(who), nil, nil); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s lists requests: %d", who, res.StatusCode)
			}
		}
		proof := e.get(t, fmt.Sprintf("/verifications/%d/proof", id), e.Login("butler"))
		if proof.StatusCode != 200 || proof.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("proof: %d %s", proof.StatusCode, proof.Header.Get("Content-Type"))
		}

		// A second request, at the empty unit, is rejected with a reason.
		e.now = e.now.Add(61e9)
		e.Do("POST", "/api/portal/v1/verifications/code", "", map[string]string{"phone": phone}, nil)
		if res := e.submit(t, map[string]string{"phone": phone, "code": e.lastCode(t, phone), "site_id": site, "unit": "9-0502", "role": "owner", "name": "冯租客"}, png); res.StatusCode != http.StatusCreated {
			t.Fatalf("second unit: %d %s", res.StatusCode, res.Body)
		}
		var second struct{ Items []struct{ ID int64 } }
		e.Do("GET", "/api/v1/portal/verifications", e.Login("supervisor"), nil, &second)
		if len(second.Items) != 2 {
			t.Fatalf("supervisor sees %d", len(second.Items))
		}
		rejectID := second.Items[0].ID
		if res := e.Do("POST", fmt.Sprintf("/api/v1/portal/verifications/%d/reject", rejectID), e.Login("butler"), map[string]string{"reason": " "}, nil); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("reject without a reason: %d", res.StatusCode)
		}
		if res := e.Do("POST", fmt.Sprintf("/api/v1/portal/verifications/%d/reject", rejectID), e.Login("butler"), map[string]string{"reason": "证明照片看不清"}, nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("reject: %d %s", res.StatusCode, res.Body)
		}
		if texts := e.smsTo(t, phone); !strings.Contains(texts[len(texts)-1], "证明照片看不清") {
			t.Fatalf("applicant's texts: %q", texts)
		}
		if res := e.Do("POST", fmt.Sprintf("/api/v1/portal/verifications/%d/approve", rejectID), e.Login("butler"), nil, nil); res.StatusCode != http.StatusConflict {
			t.Fatalf("approve a rejected request: %d", res.StatusCode)
		}

		// Approval: the phone's portal includes the household from now on.
		if res := e.Do("POST", fmt.Sprintf("/api/v1/portal/verifications/%d/approve", id), e.Login("butler"), nil, nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("approve: %d %s", res.StatusCode, res.Body)
		}
		if texts := e.smsTo(t, phone); !strings.Contains(texts[len(texts)-1], "已通过") {
			t.Fatalf("applicant's texts: %q", texts)
		}
		e.now = e.now.Add(61e9)
		tok := e.PortalToken(phone)
		var me struct{ Households []struct{ ID int64 } }
		e.Do("GET", "/api/portal/v1/me", tok, nil, &me)
		if len(me.Households) != 1 || me.Households[0].ID != hh {
			t.Fatalf("me after approval: %+v", me)
		}
		var audits int
		d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(*) FROM audit_log WHERE entity = 'portal_verification'`).Scan(&audits)
		if audits != 4 {
			t.Errorf("%d audit rows, want 4 (two requests, a rejection, an approval)", audits)
		}

		// Approving at a unit with no household gives it one.
		e.now = e.now.Add(61e9)
		const other = "13700002222"
		e.Do("POST", "/api/portal/v1/verifications/code", "", map[string]string{"phone": other}, nil)
		if res := e.submit(t, map[string]string{"phone": other, "code": e.lastCode(t, other), "site_id": site, "unit": "9-0502", "role": "owner", "name": "褚业主"}, png); res.StatusCode != http.StatusCreated {
			t.Fatalf("empty unit request: %d %s", res.StatusCode, res.Body)
		}
		// With no household butler, the site's holders of household.manage are told.
		var told int
		d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT COUNT(DISTINCT recipient_id) FROM notifications WHERE kind = 'portal.verification' AND payload LIKE '%褚业主%'`).Scan(&told)
		if told < 1 {
			t.Fatal("nobody was told of the request at the empty unit")
		}
		var pend struct{ Items []struct{ ID int64 } }
		e.Do("GET", "/api/v1/portal/verifications", e.Login("butler"), nil, &pend)
		if res := e.Do("POST", fmt.Sprintf("/api/v1/portal/verifications/%d/approve", pend.Items[0].ID), e.Login("butler"), nil, nil); res.StatusCode != http.StatusNoContent {
			t.Fatalf("approve at the empty unit: %d %s", res.StatusCode, res.Body)
		}
		var created int64
		d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT id FROM households WHERE unit_id = ? AND status = 'current'`, empty).Scan(&created)
		if created == 0 {
			t.Fatal("no household for the unit")
		}
		e.now = e.now.Add(61e9)
		var me2 struct{ Households []struct{ ID int64 } }
		e.Do("GET", "/api/portal/v1/me", e.PortalToken(other), nil, &me2)
		if len(me2.Households) != 1 || me2.Households[0].ID != created {
			t.Fatalf("me at the new household: %+v", me2)
		}
	})
}

func (e *env) get(t *testing.T, path, token string) *apptest.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", e.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &apptest.Response{StatusCode: res.StatusCode, Header: res.Header, Body: b}
}

// The verification pages: the resident's two steps, and the butler's
// review page with approve and reject.
func TestVerificationPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := start(t, d)
		e.Resident("9-0601", "卫十一", "13922220000")
		const phone = "13700003333"
		v := e.visitor(t)
		v.get("/portal/join").status(200).has(`action="/portal/join/code"`)
		step2 := v.post("/portal/join/code", url.Values{"phone": {phone}}).status(200).has("137****3333", `name="site_id"`, "示例花园", `name="role"`, `name="file"`)
		_ = step2
		fields := map[string]string{"phone": phone, "code": e.lastCode(t, phone), "site_id": fmt.Sprint(e.SiteID("示例花园")), "unit": "9-0601", "role": "co_resident", "name": "蒋同住"}
		v.multipart("/portal/join", fields, nil).status(http.StatusUnprocessableEntity).has("请上传证明照片", `value="9-0601"`, `value="蒋同住"`)
		v.multipart("/portal/join", fields, map[string][][]byte{"file": {png}}).status(http.StatusCreated).has("等待管家审核")

		staff := e.SignIn("butler")
		list := page{staff.Get("/verifications"), t}.status(200).has("9-0601", "蒋同住", "同住人", "137****3333", "mainnav").lacks(phone)
		var id int64
		d.Q(t.Context()).QueryRowContext(t.Context(), `SELECT id FROM portal_verifications`).Scan(&id)
		res := staff.PostForm(fmt.Sprintf("/verifications/%d/approve", id), map[string][]string{"csrf_token": {list.csrf()}}, nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/verifications?done=approved" {
			t.Fatalf("approve form: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		page{staff.Get("/verifications?state=approved"), t}.status(200).has("蒋同住", "已通过", "赵管家")
		// The resident signs in now.
		e.now = e.now.Add(61e9)
		e.pageSignIn(t, e.visitor(t), phone).has("9-0601")
	})
}
