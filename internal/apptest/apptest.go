// Package apptest starts the whole application on a fresh test database
// with the demo data, behind a real HTTP server, and gives tests a small
// client. Nothing is faked: the database, the routes and the sessions are
// the ones users get.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/guanjia/guanjia/internal/app"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/demo"
	"github.com/guanjia/guanjia/internal/pii"
	"github.com/guanjia/guanjia/internal/sms"
)

// Env is a running application.
type Env struct {
	T      testing.TB
	App    *app.App
	DB     *db.DB
	Server *httptest.Server
	URL    string
	tokens map[string]string
	// SMSLog is what the console SMS provider wrote (when the test did not
	// configure another provider): one "SMS to PHONE: TEXT" line a message.
	SMSLog *SyncBuffer
}

// FastArgon2 keeps password hashing cheap in tests (the production cost is
// measured by the login benchmark, not paid by every test).
var FastArgon2 = auth.Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// Start builds the application on d, loads the demo data and serves it.
func Start(tb testing.TB, d *db.DB) *Env { return StartWith(tb, d, nil) }

// StartWith is Start with a chance to change the configuration first.
func StartWith(tb testing.TB, d *db.DB, configure func(*app.Config)) *Env {
	tb.Helper()
	ctx := context.Background()
	cfg := app.Config{Auth: auth.DefaultConfig()}
	cfg.Auth.Argon2 = FastArgon2
	cfg.Auth.LoginsPerIP = 100000
	cfg.PIIKeys = pii.NewKeySpec("test") // kept in App.Cfg, so a restart in the test opens the same data
	smsLog := &SyncBuffer{}
	cfg.SMSProvider = &sms.Console{W: smsLog}
	if configure != nil {
		configure(&cfg)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{tb}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	a, err := app.NewWithDB(ctx, cfg, log, d)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := a.LoadDemo(ctx); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(a.Server.Handler())
	tb.Cleanup(srv.Close)
	return &Env{T: tb, App: a, DB: d, Server: srv, URL: srv.URL, tokens: map[string]string{}, SMSLog: smsLog}
}

type testWriter struct{ tb testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Login signs in over the API and returns the bearer token (cached per user).
func (e *Env) Login(username string) string {
	e.T.Helper()
	if tok, ok := e.tokens[username]; ok {
		return tok
	}
	tok := e.LoginFresh(username, demo.Password)
	e.tokens[username] = tok
	return tok
}

// LoginFresh signs in and returns a new token; it fails the test on error.
func (e *Env) LoginFresh(username, password string) string {
	e.T.Helper()
	var out struct{ Token string }
	res := e.Do("POST", "/api/v1/auth/login", "", map[string]string{"username": username, "password": password}, &out)
	if res.StatusCode != 200 || out.Token == "" {
		e.T.Fatalf("login %s: status %d", username, res.StatusCode)
	}
	return out.Token
}

// Response is an HTTP answer with its body read.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Do sends a JSON request with a bearer token (none when ""). body is
// marshalled unless it is a string or []byte, sent as is. out, when not nil,
// receives the decoded JSON answer.
func (e *Env) Do(method, path, token string, body, out any) *Response {
	e.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.T.Fatal(err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		e.T.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(http.DefaultClient, req, out)
}

func (e *Env) send(c *http.Client, req *http.Request, out any) *Response {
	e.T.Helper()
	res, err := c.Do(req)
	if err != nil {
		e.T.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.T.Fatal(err)
	}
	if out != nil && len(b) > 0 && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			e.T.Fatalf("%s %s: decode %q: %v", req.Method, req.URL.Path, b, err)
		}
	}
	return &Response{StatusCode: res.StatusCode, Header: res.Header, Body: b}
}

// Browser is a cookie-keeping client that does not follow redirects, like
// a browser's form posts seen one step at a time.
type Browser struct {
	E      *Env
	Client *http.Client
}

// SignIn returns a browser signed in through the login form as a demo
// user.
func (e *Env) SignIn(username string) *Browser {
	e.T.Helper()
	b := e.NewBrowser()
	if res := b.PostForm("/login", map[string][]string{"username": {username}, "password": {demo.Password}}, nil); res.StatusCode != http.StatusSeeOther {
		e.T.Fatalf("sign in %s: %d", username, res.StatusCode)
	}
	return b
}

// NewBrowser returns a client with an empty cookie jar.
func (e *Env) NewBrowser() *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{E: e, Client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Get fetches a page.
func (b *Browser) Get(path string) *Response {
	req, _ := http.NewRequest("GET", b.E.URL+path, nil)
	return b.E.send(b.Client, req, nil)
}

// PostForm posts a form as a browser on the same origin would.
func (b *Browser) PostForm(path string, form map[string][]string, headers map[string]string) *Response {
	var vals []string
	for k, vs := range form {
		for _, v := range vs {
			vals = append(vals, urlEncode(k)+"="+urlEncode(v))
		}
	}
	req, _ := http.NewRequest("POST", b.E.URL+path, strings.NewReader(strings.Join(vals, "&")))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.E.URL)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return b.E.send(b.Client, req, nil)
}

// Count returns the rows in a table (tests check that bad input wrote nothing).
func (e *Env) Count(table string) int {
	e.T.Helper()
	var n int
	if err := e.DB.Q(context.Background()).QueryRowContext(context.Background(), `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
		e.T.Fatal(err)
	}
	return n
}

// StaffID returns the id of a staff member by username.
func (e *Env) StaffID(username string) int64 {
	e.T.Helper()
	var id int64
	if err := e.DB.Q(context.Background()).QueryRowContext(context.Background(), `SELECT id FROM staff WHERE username = ?`, username).Scan(&id); err != nil {
		e.T.Fatalf("staff %s: %v", username, err)
	}
	return id
}

// SiteID returns the id of an org node by name.
func (e *Env) SiteID(name string) int64 {
	e.T.Helper()
	var id int64
	if err := e.DB.Q(context.Background()).QueryRowContext(context.Background(), `SELECT id FROM org_nodes WHERE name = ?`, name).Scan(&id); err != nil {
		e.T.Fatalf("node %s: %v", name, err)
	}
	return id
}

// DeliverSMS sends every queued text message now through the configured
// provider (tests run no job workers).
func (e *Env) DeliverSMS() {
	e.T.Helper()
	ctx := context.Background()
	rows, err := e.DB.Q(ctx).QueryContext(ctx, `SELECT id FROM sms_messages WHERE state = 'queued' ORDER BY id`)
	if err != nil {
		e.T.Fatal(err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			e.T.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := e.App.SMS.Deliver(ctx, id, false); err != nil {
			e.T.Fatal(err)
		}
	}
}
