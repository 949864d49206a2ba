package web

import (
	"encoding"
	"encoding/json"
	"net/http"
	pathpkg "path"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OpenAPI returns the OpenAPI 3.1 document generated from the route table:
// every /api/ route, its parameters, request and response schemas (derived
// from the Go types by reflection) and the shared error body.
func (s *Server) OpenAPI() []byte {
	s.openapiOnce.Do(func() { s.openapiDoc = s.buildOpenAPI() })
	return s.openapiDoc
}

type openapiState struct {
	openapiOnce sync.Once
	openapiDoc  []byte
}

var pathParamRe = regexp.MustCompile(`\{([a-zA-Z_]+)\}`)

func (s *Server) buildOpenAPI() []byte {
	g := &schemaGen{defs: map[string]any{}, outputs: map[reflect.Type]bool{}}
	for _, r := range s.routes {
		if r.Doc != nil && r.Doc.Resp != nil {
			markOutputs(reflect.TypeOf(r.Doc.Resp), g.outputs)
		}
	}
	markOutputs(reflect.TypeOf(APIError{}), g.outputs)
	paths := map[string]map[string]any{}
	for _, r := range s.routes {
		if !r.IsAPI() || r.Doc == nil {
			continue
		}
		d := r.Doc
		op := map[string]any{"summary": d.Summary, "operationId": operationID(r)}
		if d.Tag != "" {
			op["tags"] = []string{d.Tag}
		}
		var params []any
		for _, m := range pathParamRe.FindAllStringSubmatch(r.Path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]any{"type": "integer"}})
		}
		for _, q := range d.Query {
			t := q.Type
			if t == "" {
				t = "string"
			}
			params = append(params, map[string]any{"name": q.Name, "in": "query", "description": q.Desc, "schema": map[string]any{"type": t}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if d.Body != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.inputSchema(reflect.TypeOf(d.Body))}}}
		} else if len(d.RawBody) > 0 {
			content := map[string]any{}
			for _, ct := range d.RawBody {
				content[ct] = map[string]any{"schema": map[string]any{"type": "string"}}
			}
			op["requestBody"] = map[string]any{"required": true, "content": content}
		}
		status := d.Status
		if status == 0 {
			status = http.StatusOK
		}
		resp := map[string]any{"description": http.StatusText(status)}
		if d.Resp != nil {
			resp["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(d.Resp))}}
		}
		errRef := map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
		responses := map[string]any{itoa(status): resp, "default": errRef}
		op["responses"] = responses
		if r.Access != Public {
			op["security"] = []any{map[string]any{"bearer": []string{}}, map[string]any{"cookie": []string{}}}
			if r.Perm != "" {
				op["x-permission"] = string(r.Perm)
			}
		}
		p := r.Path
		if paths[p] == nil {
			paths[p] = map[string]any{}
		}
		paths[p][strings.ToLower(r.Method)] = op
	}
	g.schema(reflect.TypeOf(APIError{}))
	g.defs["Error"] = g.defs["web.APIError"]
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "guanjia API", "version": "1",
			"description": "Butler-style service operations. Authenticate with POST /api/v1/auth/login, then send the token as Authorization: Bearer."},
		"paths": paths,
		"components": map[string]any{
			"schemas": g.defs,
			"securitySchemes": map[string]any{
				"bearer": map[string]any{"type": "http", "scheme": "bearer"},
				"cookie": map[string]any{"type": "apiKey", "in": "cookie", "name": SessionCookie},
			},
		},
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	return b
}

func operationID(r Route) string {
	p := pathParamRe.ReplaceAllString(r.Path, "by_$1")
	p = strings.NewReplacer("/api/", "", "/", "_", "-", "_").Replace(p)
	return strings.ToLower(r.Method) + "_" + strings.Trim(p, "_")
}

func itoa(n int) string { return strconv.Itoa(n) }

// schemaGen turns Go types into JSON Schema (2020-12, as OpenAPI 3.1 uses).
//
// A response always carries every field without omitempty, so its schema
// lists them as required. A request body may leave any field out (Decode
// leaves the zero value and the service answers 422 naming what is
// missing), so request schemas list none; a struct type that appears in
// both gets a second component named with an "Input" suffix.
type schemaGen struct {
	defs    map[string]any
	outputs map[reflect.Type]bool // struct types reachable from a response
	input   bool                  // generating a request body
}

func (g *schemaGen) inputSchema(t reflect.Type) map[string]any {
	g.input = true
	defer func() { g.input = false }()
	return g.schema(t)
}

// markOutputs records the named struct types reachable from t.
func markOutputs(t reflect.Type, seen map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t == timeT || seen[t] {
		return
	}
	if t.Name() != "" {
		seen[t] = true
	}
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.IsExported() {
			markOutputs(f.Type, seen)
		}
	}
}

var (
	timeT    = reflect.TypeOf(time.Time{})
	rawJSONT = reflect.TypeOf(json.RawMessage{})
	numberT  = reflect.TypeOf(json.Number(""))
)

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	nullable := false
	for t.Kind() == reflect.Pointer {
		t, nullable = t.Elem(), true
	}
	s := g.schemaOf(t)
	if nullable {
		if typ, ok := s["type"].(string); ok {
			s = copyMap(s)
			s["type"] = []string{typ, "null"}
		} else if ref, ok := s["$ref"]; ok {
			s = map[string]any{"anyOf": []any{map[string]any{"$ref": ref}, map[string]any{"type": "null"}}}
		}
	}
	return s
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (g *schemaGen) schemaOf(t reflect.Type) map[string]any {
	switch {
	case t == timeT:
		return map[string]any{"type": "string", "format": "date-time"}
	case t == rawJSONT:
		return map[string]any{}
	case t == numberT:
		return map[string]any{"type": "number"}
	}
	if s, ok := customSchema(t); ok {
		return s
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": []string{"array", "null"}, "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": []string{"object", "null"}, "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := t.Name()
		if name == "" {
			return g.structSchema(t)
		}
		// Modules reuse short names (List, Page, Item): the package keeps
		// them apart, e.g. "notify.List" and "calendars.List".
		name = pathpkg.Base(t.PkgPath()) + "." + name
		if g.input && g.outputs[t] {
			name += "Input"
		}
		if _, ok := g.defs[name]; !ok {
			g.defs[name] = map[string]any{} // placeholder against recursion
			g.defs[name] = g.structSchema(t)
		}
		return map[string]any{"$ref": "#/components/schemas/" + name}
	}
	return map[string]any{}
}

// Schemaer is implemented by a type that writes its own JSON and says what
// it looks like, for the OpenAPI document.
type Schemaer interface {
	JSONSchema() map[string]any
}

var (
	schemaerT      = reflect.TypeOf((*Schemaer)(nil)).Elem()
	jsonMarshalerT = reflect.TypeOf((*json.Marshaler)(nil)).Elem()
	textMarshalerT = reflect.TypeOf((*encoding.TextMarshaler)(nil)).Elem()
)

// customSchema describes a type that marshals itself: reflection would see
// its Go fields, not what it writes. It asks a Schemaer, calls a text
// marshaler a string, and allows any JSON value for the rest.
func customSchema(t reflect.Type) (map[string]any, bool) {
	pt := reflect.PointerTo(t)
	switch {
	case t.Implements(schemaerT):
		return reflect.Zero(t).Interface().(Schemaer).JSONSchema(), true
	case pt.Implements(schemaerT):
		return reflect.New(t).Interface().(Schemaer).JSONSchema(), true
	case t.Implements(jsonMarshalerT) || pt.Implements(jsonMarshalerT):
		return map[string]any{}, true
	case t.Implements(textMarshalerT) || pt.Implements(textMarshalerT):
		return map[string]any{"type": "string"}, true
	}
	return nil, false
}

func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	g.addFields(t, props, &required)
	sort.Strings(required)
	s := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 && !g.input {
		s["required"] = required
	}
	return s
}

func (g *schemaGen) addFields(t reflect.Type, props map[string]any, required *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				g.addFields(ft, props, required)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		props[name] = g.schema(f.Type)
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			*required = append(*required, name)
		}
	}
}
