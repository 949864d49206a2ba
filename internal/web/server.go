package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/guanjia/guanjia/internal/audit"
	"github.com/guanjia/guanjia/internal/auth"
	"github.com/guanjia/guanjia/internal/errs"
	"github.com/guanjia/guanjia/internal/i18n"
)

//go:embed static
var staticFS embed.FS

// Cookie names.
const (
	SessionCookie = "gj_session"
	PortalCookie  = "gj_portal"
	LocaleCookie  = "gj_lang"
)

// Config configures the HTTP shell.
type Config struct {
	// SecureCookies marks cookies Secure; on by default, off for plain-HTTP
	// local runs (make run on 127.0.0.1).
	SecureCookies bool
	// TrustProxy takes the client IP from X-Forwarded-For (behind a load balancer).
	TrustProxy bool
}

// Server is the HTTP application.
type Server struct {
	cfg     Config
	log     *slog.Logger
	auth    *auth.Service
	cat     *i18n.Catalogs
	render  *Renderer
	routes  []Route
	nav     []NavItem
	mux     *http.ServeMux
	ready   func(ctx context.Context) (map[string]any, error)
	reg     *prometheus.Registry
	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
	openapiState
	portal PortalAuth
}

// PortalAuth resolves a portal token to the resident (an opaque value the
// portal module reads back with Ctx.Resident) and the session's CSRF token.
// It returns EUnauthorized for unknown or expired tokens.
type PortalAuth func(ctx context.Context, token string) (resident any, csrf string, err error)

// SetPortalAuth installs the portal's authentication for Resident routes.
func (s *Server) SetPortalAuth(f PortalAuth) { s.portal = f }

// NavItem is an entry of the main navigation, shown to holders of Perm.
type NavItem struct {
	Key    string // i18n key of the label
	Href   string
	Perm   auth.Perm
	Group  string // i18n key of the section
	Active bool
}

// New returns a server. ready reports readiness details for /readyz.
func New(cfg Config, log *slog.Logger, a *auth.Service, cat *i18n.Catalogs, ready func(ctx context.Context) (map[string]any, error)) (*Server, error) {
	r, err := NewRenderer()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, auth: a, cat: cat, render: r, mux: http.NewServeMux(), ready: ready, reg: prometheus.NewRegistry()}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "guanjia_http_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "guanjia_http_request_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"})
	s.reg.MustRegister(s.reqs, s.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return s, nil
}

// Registry returns the Prometheus registry for modules' own metrics.
func (s *Server) Registry() *prometheus.Registry { return s.reg }

// Renderer returns the page renderer so modules can add their pages.
func (s *Server) Renderer() *Renderer { return s.render }

// Catalogs returns the message catalogs.
func (s *Server) Catalogs() *i18n.Catalogs { return s.cat }

// AddNav adds navigation entries.
func (s *Server) AddNav(items ...NavItem) { s.nav = append(s.nav, items...) }

// Routes returns every registered route (the authorisation matrix and the
// OpenAPI document are generated from it).
func (s *Server) Routes() []Route { return s.routes }

// Mount registers the routes of modules. A duplicate pattern panics, as
// ServeMux does: it is a programming error caught by any test.
func (s *Server) Mount(mods ...Module) {
	for _, m := range mods {
		for _, r := range m.Routes() {
			s.handle(r)
		}
	}
}

func (s *Server) handle(r Route) {
	if r.IsAPI() && r.Doc == nil {
		panic(fmt.Sprintf("web: API route %s %s has no Doc", r.Method, r.Path))
	}
	route := r
	s.routes = append(s.routes, route)
	pattern := route.Method + " " + route.Path
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, req *http.Request) {
		s.serve(w, req, &route, pattern)
	})
}

// Handler returns the root handler with the operational endpoints.
func (s *Server) Handler() http.Handler {
	root := http.NewServeMux()
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
	})
	root.HandleFunc("GET /readyz", s.readyz)
	root.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{}))
	static, _ := fs.Sub(staticFS, "static")
	root.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(http.FileServerFS(static))))
	root.HandleFunc("GET /api/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.OpenAPI())
	})
	root.Handle("/", s.mux)
	return securityHeaders(root)
}

func cacheStatic(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		h.ServeHTTP(w, r)
	})
}

func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	details, err := s.ready(ctx)
	body := map[string]any{"status": "ok", "details": details}
	status := http.StatusOK
	if err != nil {
		body["status"] = "unavailable"
		body["error"] = err.Error()
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = jsonEncode(w, body)
}

// serve runs one route: locale, authentication, CSRF, the access rule, the
// handler, and error rendering.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, route *Route, pattern string) {
	start := time.Now()
	c := &Ctx{W: w, R: r, S: s, route: route, IP: s.clientIP(r)}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic", "path", r.URL.Path, "panic", p)
			c.renderError(fmt.Errorf("panic: %v", p))
		}
		status := c.status
		if status == 0 {
			status = 200
		}
		s.reqs.WithLabelValues(pattern, fmt.Sprint(status)).Inc()
		s.latency.WithLabelValues(pattern).Observe(time.Since(start).Seconds())
	}()
	c.L = i18n.Localizer{C: s.cat, Locale: s.locale(r, nil)}
	if route.Access == Resident {
		if err := s.authenticateResident(c); err != nil {
			c.renderError(err)
			return
		}
		c.R = r.WithContext(audit.WithActor(r.Context(), audit.Actor{IP: c.IP, Name: "portal"}))
		if err := route.Handler(c); err != nil {
			c.renderError(err)
		}
		return
	}
	if err := s.authenticate(c); err != nil {
		c.renderError(err)
		return
	}
	if err := s.checkAccess(c); err != nil {
		c.renderError(err)
		return
	}
	ctx := r.Context()
	if c.P != nil {
		ctx = auth.WithPrincipal(ctx, c.P)
		ctx = audit.WithActor(ctx, audit.Actor{ID: c.P.StaffID, Name: c.P.Username, IP: c.IP})
		c.L.Locale = s.locale(r, c.P)
	} else {
		ctx = audit.WithActor(ctx, audit.Actor{IP: c.IP, Name: "anonymous"})
	}
	c.R = r.WithContext(ctx)
	if err := route.Handler(c); err != nil {
		c.renderError(err)
	}
}

// locale picks the language: the cookie set by the switch, then the
// account's setting, then Accept-Language.
func (s *Server) locale(r *http.Request, p *auth.Principal) string {
	if ck, err := r.Cookie(LocaleCookie); err == nil && ck.Value != "" {
		return i18n.Normalize(ck.Value)
	}
	if p != nil && p.Locale != "" {
		return p.Locale
	}
	if al := r.Header.Get("Accept-Language"); al != "" {
		return i18n.Normalize(al)
	}
	return i18n.Default
}

// authenticate resolves the caller from a Bearer header or the session
// cookie. A missing credential is fine here; checkAccess decides.
func (s *Server) authenticate(c *Ctx) error {
	tok, fromCookie := bearer(c.R), false
	if tok == "" {
		if ck, err := c.R.Cookie(SessionCookie); err == nil {
			tok, fromCookie = ck.Value, true
		}
	}
	if tok == "" {
		return nil
	}
	p, err := s.auth.Authenticate(c.R.Context(), tok)
	if err != nil {
		if errs.CodeOf(err) == errs.EUnauthorized && fromCookie {
			s.clearSession(c.W)
			if c.route.Access == Public {
				return nil
			}
		}
		return err
	}
	c.P = p
	if fromCookie && unsafe(c.R.Method) && !c.route.NoCSRF {
		return s.checkCSRF(c)
	}
	return nil
}

// authenticateResident resolves the portal user of a Resident route from a
// bearer token or the portal cookie; cookie-authenticated writes need the
// portal session's CSRF token.
func (s *Server) authenticateResident(c *Ctx) error {
	if s.portal == nil {
		return errs.New(errs.EUnauthorized, "error.unauthorized")
	}
	tok, fromCookie := bearer(c.R), false
	if tok == "" {
		if ck, err := c.R.Cookie(PortalCookie); err == nil {
			tok, fromCookie = ck.Value, true
		}
	}
	if tok == "" {
		return errs.New(errs.EUnauthorized, "error.unauthorized")
	}
	res, csrf, err := s.portal(c.R.Context(), tok)
	if err != nil {
		return err
	}
	c.Resident = res
	if fromCookie && unsafe(c.R.Method) && !c.route.NoCSRF {
		got := c.R.Header.Get("X-CSRF-Token")
		if got == "" {
			got = c.R.FormValue("csrf_token")
		}
		if got == "" || got != csrf {
			return errs.New(errs.EForbidden, "error.csrf")
		}
	}
	return nil
}

// SetPortalSession writes the portal cookie.
func (s *Server) SetPortalSession(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: PortalCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode, Expires: expires})
}

// ClearPortalSession removes the portal cookie.
func (s *Server) ClearPortalSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: PortalCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func unsafe(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// checkCSRF requires the session's token in X-CSRF-Token or the csrf_token
// form field for every unsafe request authenticated by cookie.
func (s *Server) checkCSRF(c *Ctx) error {
	got := c.R.Header.Get("X-CSRF-Token")
	if got == "" {
		got = c.R.FormValue("csrf_token")
	}
	if got == "" || got != c.P.CSRF {
		return errs.New(errs.EForbidden, "error.csrf")
	}
	return nil
}

func (s *Server) checkAccess(c *Ctx) error {
	switch c.route.Access {
	case Public:
		return nil
	case Staff:
		if c.P == nil {
			return errs.New(errs.EUnauthorized, "error.unauthorized")
		}
		if c.route.Perm != "" && !c.P.CanAnywhere(c.route.Perm) {
			return errs.Forbidden()
		}
		if c.P.MustChangePassword && c.R.URL.Path != "/account/password" && c.R.URL.Path != "/logout" && !c.IsAPI() {
			return c.Redirect("/account/password")
		}
		return nil
	}
	return errs.Forbidden()
}

// SetSession writes the session cookie.
func (s *Server) SetSession(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode, Expires: expires})
}

func (s *Server) clearSession(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.cfg.SecureCookies,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
}

// SetLocale writes the language cookie.
func (s *Server) SetLocale(w http.ResponseWriter, loc string) {
	http.SetCookie(w, &http.Cookie{Name: LocaleCookie, Value: loc, Path: "/", Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
		MaxAge: 365 * 24 * 3600})
}

func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			return strings.TrimSpace(first)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) navFor(p *auth.Principal, path string) []NavItem {
	var out []NavItem
	for _, n := range s.nav {
		if n.Perm == "" || p.CanAnywhere(n.Perm) {
			n.Active = path == n.Href || (n.Href != "/" && strings.HasPrefix(path, n.Href+"/"))
			out = append(out, n)
		}
	}
	return out
}

// Auth returns the auth service.
func (s *Server) Auth() *auth.Service { return s.auth }

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func asErr(err error, target **errs.Error) bool { return errors.As(err, target) }
