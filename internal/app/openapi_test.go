package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pb33f/jsonschema/v6"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	oaserrors "github.com/pb33f/libopenapi-validator/errors"

	"github.com/guanjia/guanjia/internal/apptest"
	"github.com/guanjia/guanjia/internal/db"
	"github.com/guanjia/guanjia/internal/db/dbtest"
	"github.com/guanjia/guanjia/internal/demo"
	"github.com/guanjia/guanjia/internal/sla"
	"github.com/guanjia/guanjia/internal/web"
)

// apiDoc is the OpenAPI document a running app serves, ready to check real
// answers against.
type apiDoc struct {
	raw map[string]any
	v   validator.Validator
}

// loadAPIDoc fetches /api/openapi.json (public) and builds a validator.
func loadAPIDoc(t *testing.T, e *apptest.Env) *apiDoc {
	t.Helper()
	res := e.Do("GET", "/api/openapi.json", "", nil, nil)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	d := &apiDoc{}
	if err := json.Unmarshal(res.Body, &d.raw); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	doc, err := libopenapi.NewDocument(res.Body)
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("openapi.json: %v", errs)
	}
	d.v = v
	return d
}

// check validates a real answer against the operation's response schema
// for its status (the "default" error response for 4xx and 5xx).
func (d *apiDoc) check(t *testing.T, method, path string, res *apptest.Response) {
	t.Helper()
	req, err := http.NewRequest(method, "http://guanjia.test"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	hr := &http.Response{StatusCode: res.StatusCode, Header: res.Header, Body: io.NopCloser(bytes.NewReader(res.Body)), Request: req}
	if ok, verrs := d.v.ValidateHttpResponse(req, hr); !ok {
		t.Errorf("%s %s → %d does not match the OpenAPI document:%s\nbody: %.500s", method, path, res.StatusCode, describe(verrs), res.Body)
	}
}

// checkRequest validates a request body we know the server accepts against
// the operation's request schema.
func (d *apiDoc) checkRequest(t *testing.T, method, path string, body any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://guanjia.test"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer x")
	if ok, verrs := d.v.ValidateHttpRequestSync(req); !ok {
		t.Errorf("%s %s: an accepted request does not match the OpenAPI document:%s", method, path, describe(verrs))
	}
}

func describe(verrs []*oaserrors.ValidationError) string {
	var b strings.Builder
	for _, e := range verrs {
		fmt.Fprintf(&b, "\n  %s: %s", e.Message, e.Reason)
		for _, se := range e.SchemaValidationErrors {
			fmt.Fprintf(&b, "\n    %s %s", se.FieldPath, se.Reason)
		}
	}
	return b.String()
}

// TestOpenAPIDocument checks the generated document: valid OpenAPI 3.1,
// every component a valid JSON Schema 2020-12, every $ref resolving, every
// /api/ route present with a success and a default error response, and
// nothing documented that is not routed.
func TestOpenAPIDocument(t *testing.T) {
	e := apptest.Start(t, dbtest.Open(t, db.SQLite))
	d := loadAPIDoc(t, e)
	if d.raw["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", d.raw["openapi"])
	}
	if ok, verrs := d.v.ValidateDocument(); !ok {
		t.Fatalf("not a valid OpenAPI 3.1 document:%s", describe(verrs))
	}

	t.Run("refs resolve", func(t *testing.T) {
		walkRefs(d.raw, "#", func(at, ref string) {
			if !strings.HasPrefix(ref, "#/") {
				t.Errorf("%s: $ref %q is not local", at, ref)
				return
			}
			if _, ok := pointer(d.raw, ref); !ok {
				t.Errorf("%s: $ref %q does not resolve", at, ref)
			}
		})
	})

	t.Run("schemas compile", func(t *testing.T) {
		// Each component must be a valid JSON Schema 2020-12 (the dialect of
		// OpenAPI 3.1): the compiler checks it against the meta-schema.
		const base = "https://guanjia.test/openapi.json"
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft2020)
		if err := c.AddResource(base, schemaResource(d.raw)); err != nil {
			t.Fatal(err)
		}
		schemas, _ := pointer(d.raw, "#/components/schemas")
		m, _ := schemas.(map[string]any)
		if len(m) == 0 {
			t.Fatal("no component schemas")
		}
		for _, name := range sortedKeys(m) {
			if _, err := c.Compile(base + "#/components/schemas/" + name); err != nil {
				t.Errorf("schema %s: %v", name, err)
			}
		}
	})

	t.Run("routes documented", func(t *testing.T) {
		paths, _ := d.raw["paths"].(map[string]any)
		routed := map[string]bool{}
		opIDs := map[string]string{}
		for _, r := range e.App.Server.Routes() {
			if !r.IsAPI() {
				continue
			}
			key := r.Method + " " + r.Path
			routed[key] = true
			op, ok := operation(paths, r.Path, r.Method)
			if !ok {
				t.Errorf("%s is routed but not in the document", key)
				continue
			}
			checkOperation(t, key, r, op, opIDs)
		}
		for p, item := range paths {
			for m := range item.(map[string]any) {
				if key := strings.ToUpper(m) + " " + p; !routed[key] {
					t.Errorf("%s is documented but not routed", key)
				}
			}
		}
	})
}

var pathParamRe = regexp.MustCompile(`\{([^}]+)\}`)

// checkOperation checks one documented operation against its route.
func checkOperation(t *testing.T, key string, r web.Route, op map[string]any, opIDs map[string]string) {
	t.Helper()
	id, _ := op["operationId"].(string)
	if id == "" {
		t.Errorf("%s: no operationId", key)
	} else if other, dup := opIDs[id]; dup {
		t.Errorf("%s: operationId %q is also used by %s", key, id, other)
	}
	opIDs[id] = key
	responses, _ := op["responses"].(map[string]any)
	status := r.Doc.Status
	if status == 0 {
		status = http.StatusOK
	}
	ok, found := responses[strconv.Itoa(status)].(map[string]any)
	if !found || status < 200 || status > 299 {
		t.Errorf("%s: no success response %d", key, status)
	} else if hasContent := ok["content"] != nil; hasContent != (r.Doc.Resp != nil) {
		t.Errorf("%s: success response content %v, but the route's Resp is %T", key, hasContent, r.Doc.Resp)
	}
	def, _ := responses["default"].(map[string]any)
	if ref, _ := pointerIn(def, "content", "application/json", "schema", "$ref"); ref != "#/components/schemas/Error" {
		t.Errorf("%s: default response is not the Error body: %v", key, def)
	}
	if hasBody := op["requestBody"] != nil; hasBody != (r.Doc.Body != nil || len(r.Doc.RawBody) > 0) {
		t.Errorf("%s: requestBody documented %v, but the route's Body is %T and RawBody %v", key, hasBody, r.Doc.Body, r.Doc.RawBody)
	}
	declared := map[string]bool{}
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		pm := p.(map[string]any)
		if pm["in"] == "path" {
			declared[pm["name"].(string)] = pm["required"] == true
		}
	}
	for _, m := range pathParamRe.FindAllStringSubmatch(r.Path, -1) {
		if !declared[m[1]] {
			t.Errorf("%s: path parameter %s not declared as a required path parameter", key, m[1])
		}
		delete(declared, m[1])
	}
	for name := range declared {
		t.Errorf("%s: declares path parameter %s that the path has not", key, name)
	}
	_, secured := op["security"]
	if secured != (r.Access != web.Public) {
		t.Errorf("%s: security documented %v for access %v", key, secured, r.Access)
	}
	if r.Perm != "" && op["x-permission"] != string(r.Perm) {
		t.Errorf("%s: x-permission %v, want %s", key, op["x-permission"], r.Perm)
	}
}

func operation(paths map[string]any, path, method string) (map[string]any, bool) {
	item, ok := paths[path].(map[string]any)
	if !ok {
		return nil, false
	}
	op, ok := item[strings.ToLower(method)].(map[string]any)
	return op, ok
}

// walkRefs calls fn for every "$ref" in v.
func walkRefs(v any, at string, fn func(at, ref string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && k == "$ref" {
				fn(at, s)
				continue
			}
			walkRefs(c, at+"/"+escapePointer(k), fn)
		}
	case []any:
		for i, c := range x {
			walkRefs(c, at+"/"+strconv.Itoa(i), fn)
		}
	}
}

func escapePointer(s string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(s) }

// pointer resolves a local JSON pointer ("#/a/b").
func pointer(doc any, ref string) (any, bool) {
	cur := doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		part, err := url.PathUnescape(part)
		if err != nil {
			return nil, false
		}
		part = strings.NewReplacer("~1", "/", "~0", "~").Replace(part)
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[part]
			if !ok {
				return nil, false
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

func pointerIn(m map[string]any, keys ...string) (string, bool) {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		cur = mm[k]
	}
	s, ok := cur.(string)
	return s, ok
}

// schemaResource is the document with only its components, so the compiler
// reads it as a schema resource whose "#/components/schemas/…" refs resolve.
func schemaResource(raw map[string]any) any {
	b, _ := json.Marshal(map[string]any{"components": raw["components"]})
	v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// readPaths gives each GET route with a path id a request for an existing
// record (after writeFixtures has made the flow ones).
func readPaths(t *testing.T, e *apptest.Env, ids demoIDs) map[string]string {
	t.Helper()
	first := func(q string) int64 {
		t.Helper()
		var id int64
		if err := e.DB.Q(t.Context()).QueryRowContext(t.Context(), q).Scan(&id); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	def := first(`SELECT MIN(id) FROM flow_definitions`)
	inst := first(`SELECT MIN(id) FROM flow_instances`)
	task := first(`SELECT MIN(id) FROM flow_tasks`)
	policy := first(`SELECT MIN(id) FROM sla_policies`)
	if _, err := e.App.SLA.Start(t.Context(), sla.StartInput{Subject: "case:openapi", Metric: sla.MetricFirstResponse,
		Match: sla.Match{CaseType: sla.CaseRepair, NodePath: fmt.Sprintf("/%d/%d/", ids.Company, ids.Garden)}}); err != nil {
		t.Fatalf("sla cycle to read: %v", err)
	}
	out := map[string]string{
		"GET /api/v1/org/nodes/{id}":                  fmt.Sprintf("/api/v1/org/nodes/%d", ids.Garden),
		"GET /api/v1/staff/{id}":                      fmt.Sprintf("/api/v1/staff/%d", ids.Staff["butler"]),
		"GET /api/v1/staff/{id}/grants":               fmt.Sprintf("/api/v1/staff/%d/grants", ids.Staff["butler"]),
		"GET /api/v1/calendars/{id}":                  "/api/v1/calendars/cn-workday",
		"GET /api/v1/calendars/{id}/add":              "/api/v1/calendars/cn-workday/add?from=2025-09-30T17:00:00%2B08:00&duration=2h",
		"GET /api/v1/calendars/{id}/between":          "/api/v1/calendars/cn-workday/between?from=2025-09-30T09:00:00%2B08:00&to=2025-10-09T18:00:00%2B08:00",
		"GET /api/v1/process-definitions/{id}":        fmt.Sprintf("/api/v1/process-definitions/%d", def),
		"GET /api/v1/process-definitions/{id}/source": fmt.Sprintf("/api/v1/process-definitions/%d/source", def),
		"GET /api/v1/process-instances/{id}":          fmt.Sprintf("/api/v1/process-instances/%d", inst),
		"GET /api/v1/tasks/{id}":                      fmt.Sprintf("/api/v1/tasks/%d", task),
		"GET /api/v1/sla/policies/{id}":               fmt.Sprintf("/api/v1/sla/policies/%d", policy),
		"GET /api/v1/sla/subjects/{subject}":          "/api/v1/sla/subjects/case:openapi",
	}
	maps.Copy(out, caseFixturesFor(t, e, ids).reads)
	maps.Copy(out, householdReads(t, e))
	maps.Copy(out, hkReads(t, e, ids))
	maps.Copy(out, portalReads(t, e, ids))
	return out
}

// writeOrder runs sign-in first and the password change and sign-out last,
// so each fixture meets the state it was written for.
func writeOrder(key string) int {
	switch key {
	case "POST /api/v1/auth/login":
		return 0
	case "POST /api/v1/auth/logout", "POST /api/portal/v1/auth/logout":
		return 2
	case "POST /api/v1/auth/password":
		return 3
	}
	return 1
}

// TestOpenAPIResponses checks real answers against the document: every GET
// route as every demo role (the admin must get 200), then every write
// route's valid request as the admin, which must succeed with the
// documented status and body. Each valid request must also match the
// documented request schema.
func TestOpenAPIResponses(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := apptest.Start(t, d)
		ids := lookupDemo(t, e)
		doc := loadAPIDoc(t, e)
		fixtures := writeFixtures(t, e, ids)
		reads := readPaths(t, e, ids)
		routes := apiRoutes(e)
		for _, r := range routes {
			if r.Method != http.MethodGet {
				continue
			}
			key := routeKey(r)
			path := r.Path
			if p, ok := reads[key]; ok {
				path = p
			} else if pathHasID(r.Path) {
				t.Errorf("%s: nothing to read: add a request for an existing record to readPaths", key)
				continue
			}
			t.Run(key, func(t *testing.T) {
				if r.Access == web.Resident {
					res := e.Do("GET", path, caseFixturesFor(t, e, ids).resident, nil, nil)
					doc.check(t, "GET", path, res)
					if res.StatusCode != http.StatusOK {
						t.Errorf("resident: %d %.300s", res.StatusCode, res.Body)
					}
					return
				}
				for _, acc := range demo.Accounts {
					res := e.Do("GET", path, e.Login(acc.Username), nil, nil)
					doc.check(t, "GET", path, res)
					if acc.Username == "admin" && res.StatusCode != http.StatusOK {
						t.Errorf("admin: %d %.300s", res.StatusCode, res.Body)
					}
				}
			})
		}
		var writes []web.Route
		for _, r := range routes {
			if isWrite(r) {
				writes = append(writes, r)
			}
		}
		sort.SliceStable(writes, func(i, j int) bool { return writeOrder(routeKey(writes[i])) < writeOrder(routeKey(writes[j])) })
		for _, r := range writes {
			key := routeKey(r)
			fx, ok := fixtures[key]
			if !ok {
				t.Errorf("%s: no valid request: add one to writeFixtures", key)
				continue
			}
			t.Run(key, func(t *testing.T) {
				tok := e.Login("admin")
				if key == "POST /api/v1/auth/logout" || key == "POST /api/v1/auth/password" {
					tok = e.LoginFresh("admin", demo.Password) // both end sessions
				}
				if r.Access == web.Resident {
					tok = caseFixturesFor(t, e, ids).resident
				}
				if key == "POST /api/portal/v1/auth/verify" {
					fx.Body = freshVerify(t, e) // a code just sent: codes are single use
				}
				var body any
				switch {
				case fx.Body != nil:
					body = fx.Body
					doc.checkRequest(t, r.Method, fx.Path, fx.Body)
				case fx.Raw != "":
					body = fx.Raw
					if len(r.Doc.RawBody) == 0 {
						t.Errorf("the route reads a file but its Doc has no RawBody media types")
					}
				}
				var res *apptest.Response
				if fx.ContentType != "" {
					res = doRaw(t, e, r.Method, fx.Path, tok, fx.ContentType, fx.Raw)
				} else {
					res = e.Do(r.Method, fx.Path, tok, body, nil)
				}
				doc.check(t, r.Method, fx.Path, res)
				status := r.Doc.Status
				if status == 0 {
					status = http.StatusOK
				}
				if res.StatusCode != status {
					t.Errorf("valid request: %d, want %d: %.300s", res.StatusCode, status, res.Body)
				}
			})
		}
	})
}
