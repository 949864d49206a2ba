package app_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/flow"
)

// portalSetup is what the portal's verification fixtures work on: two
// pending requests (one to approve, one to reject) and a valid multipart
// request with a fresh code.
type portalSetup struct {
	approve, reject int64
	submit          writeFixture
}

// tinyPNG is a 1×1 PNG, the smallest proof photo there is.
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

func portalFixtures(t *testing.T, e *apptest.Env, ids demoIDs) portalSetup {
	t.Helper()
	var ps portalSetup
	err := e.DB.WithTx(t.Context(), func(ctx context.Context, tx *db.Tx) error {
		path := ids.Paths[ids.Garden]
		var unit int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO units (site_id, node_path, number, building, floor, created_at, updated_at) VALUES (?, ?, '8-0801', '8', 8, 0, 0) RETURNING id`,
			ids.Garden, path).Scan(&unit); err != nil {
			return err
		}
		for i, dst := range []*int64{&ps.approve, &ps.reject} {
			phone := fmt.Sprintf("1370000%04d", 7000+i)
			enc, err := e.App.Vault.Seal("portal.phone", phone)
			if err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `INSERT INTO portal_verifications (phone_idx, phone_enc, unit_id, node_path, role, name, state, created_at) VALUES (?, ?, ?, ?, 'owner', '接口测试', 'pending', 0) RETURNING id`,
				e.App.Vault.Index("phone", phone), enc, unit, path).Scan(dst); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("portal fixtures: %v", err)
	}
	// A request with a real code: ask for one, read it from the outbox.
	const phone = "13700008000"
	if res := e.Do("POST", "/api/portal/v1/verifications/code", "", map[string]string{"phone": phone}, nil); res.StatusCode != http.StatusAccepted {
		t.Fatalf("fixture verification code: %d %s", res.StatusCode, res.Body)
	}
	var text string
	if err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), `SELECT body FROM sms_messages WHERE phone = ? ORDER BY id DESC LIMIT 1`, phone).Scan(&text); err != nil {
		t.Fatalf("fixture code text: %v", err)
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"phone": phone, "code": sixDigits.FindString(text), "site_id": fmt.Sprint(ids.Garden), "unit": "8-0801", "role": "tenant", "name": "接口租户"} {
		w.WriteField(k, v)
	}
	fw, _ := w.CreateFormFile("file", "proof.png")
	fw.Write(tinyPNG)
	w.Close()
	ps.submit = writeFixture{Path: "/api/portal/v1/verifications", Raw: buf.String(), ContentType: w.FormDataContentType()}
	return ps
}

// portalReads binds a utility account to the fixtures' resident and
// starts an application for it, so the portal's application routes have
// something of the resident's to read.
func portalReads(t *testing.T, e *apptest.Env, ids demoIDs) map[string]string {
	t.Helper()
	err := e.DB.WithTx(t.Context(), func(ctx context.Context, tx *db.Tx) error {
		enc, err := e.App.Vault.Seal("portal.phone", residentPhone)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO portal_accounts (number, site_id, name, phone_enc, phone_idx, created_at) VALUES ('0100000001', ?, '', ?, ?, 0)`,
			ids.Utility, enc, e.App.Vault.Index("phone", residentPhone))
		return err
	})
	if err != nil {
		t.Fatalf("portal account: %v", err)
	}
	st, err := e.App.Flow.StartSystem(t.Context(), flow.StartInput{DefinitionKey: "jumin", BusinessKey: "YK-OPENAPI-1", SiteID: &ids.Utility, CustomerRef: "0100000001"})
	if err != nil {
		t.Fatalf("application: %v", err)
	}
	return map[string]string{
		"GET /api/portal/v1/applications/{id}":         fmt.Sprintf("/api/portal/v1/applications/%d", st.ID),
		"GET /api/portal/v1/applications/{id}/diagram": fmt.Sprintf("/api/portal/v1/applications/%d/diagram", st.ID),
	}
}

// doRaw sends a body with its own content type (a multipart form).
func doRaw(t *testing.T, e *apptest.Env, method, path, token, contentType, body string) *apptest.Response {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &apptest.Response{StatusCode: res.StatusCode, Header: res.Header, Body: b}
}
