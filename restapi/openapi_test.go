package restapi_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"usercenter/restapi"
	"usercenter/uctest"
)

// openAPI is the part of the document the agreement tests read.
type openAPI struct {
	OpenAPI    string                                `json:"openapi"`
	Security   []map[string][]string                 `json:"security"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas         map[string]schema          `json:"schemas"`
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		Parameters      map[string]parameter       `json:"parameters"`
	} `json:"components"`
}

type operation struct {
	OperationID string                     `json:"operationId"`
	Security    *[]map[string][]string     `json:"security"`
	Parameters  []parameter                `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

type parameter struct {
	Ref  string `json:"$ref"`
	Name string `json:"name"`
	In   string `json:"in"`
}

type schema struct {
	Properties map[string]struct {
		Enum []any `json:"enum"`
	} `json:"properties"`
	Required []string `json:"required"`
}

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	var doc openAPI
	dec := json.NewDecoder(bytes.NewReader(restapi.OpenAPIDocument()))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("openapi.json does not parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Fatalf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	return &doc
}

// TestOpenAPIAgreesWithRoutes checks that the routes table and the
// document list the same operations, in both directions, with the same
// operationIds, security and path parameters.
func TestOpenAPIAgreesWithRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	documented := map[string]operation{}
	pathParams := map[string][]parameter{}
	for path, item := range doc.Paths {
		for key, raw := range item {
			if key == "parameters" {
				var ps []parameter
				if err := json.Unmarshal(raw, &ps); err != nil {
					t.Fatalf("%s parameters: %v", path, err)
				}
				pathParams[path] = ps
				continue
			}
			if !slices.Contains(httpMethods, key) {
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			documented[strings.ToUpper(key)+" "+path] = op
		}
	}
	routed := map[string][4]string{}
	for _, rt := range restapi.RouteTable() {
		routed[rt[0]+" "+rt[1]] = rt
	}
	for k := range routed {
		if _, ok := documented[k]; !ok {
			t.Errorf("route %s is not in openapi.json", k)
		}
	}
	for k := range documented {
		if _, ok := routed[k]; !ok {
			t.Errorf("openapi.json documents %s, which no route serves", k)
		}
	}
	for k, rt := range routed {
		op, ok := documented[k]
		if !ok {
			continue
		}
		if op.OperationID != rt[2] {
			t.Errorf("%s: operationId %q, route op %q", k, op.OperationID, rt[2])
		}
		security := doc.Security
		if op.Security != nil {
			security = *op.Security
		}
		var schemes []string
		for _, s := range security {
			schemes = slices.AppendSeq(schemes, maps.Keys(s))
		}
		want := map[string][]string{"basic": {"basicAuth"}, "bearer": {"bearerAuth"}, "": nil}[rt[3]]
		if !slices.Equal(schemes, want) {
			t.Errorf("%s: security %v, route authenticates with %v", k, schemes, want)
		}
		for _, s := range schemes {
			if _, ok := doc.Components.SecuritySchemes[s]; !ok {
				t.Errorf("%s: undefined security scheme %s", k, s)
			}
		}
		// Every {name} of the path is a declared path parameter.
		path := strings.SplitN(k, " ", 2)[1]
		declared := map[string]bool{}
		for _, p := range append(slices.Clone(pathParams[path]), op.Parameters...) {
			if p.Ref != "" {
				p = doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
			}
			if p.In == "path" {
				declared[p.Name] = true
			}
		}
		for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter %s is not declared", k, m[1])
			}
			delete(declared, m[1])
		}
		if len(declared) > 0 {
			t.Errorf("%s: declares path parameters %v not in the path", k, declared)
		}
		if len(op.Responses) == 0 {
			t.Errorf("%s: no responses", k)
		}
	}
	if len(routed) < 8 {
		t.Fatalf("only %d routes", len(routed))
	}
}

// TestOpenAPIDocument checks the document's own consistency: its problem
// codes are the catalog's, every $ref resolves, the schemas the issue
// names exist, and it is served as embedded.
func TestOpenAPIDocument(t *testing.T) {
	doc := loadOpenAPI(t)
	for _, name := range []string{"User", "UserInput", "UserList", "AuditEvent", "AuditList", "Problem"} {
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("schema %s missing", name)
		}
	}
	var codes []string
	for _, c := range doc.Components.Schemas["Problem"].Properties["code"].Enum {
		codes = append(codes, c.(string))
	}
	slices.Sort(codes)
	catalog := restapi.ProblemCodes()
	slices.Sort(catalog)
	if !slices.Equal(codes, catalog) {
		t.Errorf("Problem.code enum %v\ncatalog %v", codes, catalog)
	}
	var generic any
	json.Unmarshal(restapi.OpenAPIDocument(), &generic)
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if !resolves(generic, ref) {
					t.Errorf("$ref %s does not resolve", ref)
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(generic)

	env := uctest.New(t)
	res := do(t, env, request{Method: "GET", Path: "/v1/openapi.json"})
	if res.Status != 200 || !bytes.Equal(res.Body, restapi.OpenAPIDocument()) || res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("served document: %d %s", res.Status, res.Header.Get("Content-Type"))
	}
}

func resolves(root any, ref string) bool {
	if !strings.HasPrefix(ref, "#/") {
		return false
	}
	cur := root
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		if cur, ok = m[part]; !ok {
			return false
		}
	}
	return true
}

// TestOpenAPISchemasAgreeWithAnswers checks the User schema against a
// real answer, and UserInput against what the decoder accepts.
func TestOpenAPISchemasAgreeWithAnswers(t *testing.T) {
	doc := loadOpenAPI(t)
	env := uctest.New(t)
	u := createUser(t, env, env.Key, env.App.SdkAppID, `{"thirdPartyIds": {"qq": "1"}}`)
	res := do(t, env, request{Method: "GET", Path: "/v1/users/" + u.UserID, Auth: basic(env.Key)})
	answer := slices.Sorted(maps.Keys(res.JSON(t)))
	user := doc.Components.Schemas["User"]
	documented := slices.Sorted(maps.Keys(user.Properties))
	if !slices.Equal(answer, documented) {
		t.Errorf("User answer has %v\nschema has %v", answer, documented)
	}
	required := slices.Sorted(slices.Values(user.Required))
	if !slices.Equal(required, documented) {
		t.Errorf("User requires %v, has %v", required, documented)
	}
	for _, name := range []string{"UserList", "AuditList", "AuditEvent"} {
		s := doc.Components.Schemas[name]
		if !slices.Equal(slices.Sorted(slices.Values(s.Required)), slices.Sorted(maps.Keys(s.Properties))) {
			t.Errorf("%s: required %v, properties %v", name, s.Required, slices.Sorted(maps.Keys(s.Properties)))
		}
	}
	// Every documented input field is accepted (a type error is fine: the
	// name was known), and every other member of User is refused.
	input := doc.Components.Schemas["UserInput"]
	for name := range user.Properties {
		res := do(t, env, request{Method: "PATCH", Path: "/v1/users/" + u.UserID, Auth: basic(env.Key), Body: `{"` + name + `": [1]}`})
		var p struct{ Code string }
		json.Unmarshal(res.Body, &p)
		_, writable := input.Properties[name]
		if writable == (p.Code == "unknown_field") {
			t.Errorf("%s: writable in UserInput %v, but the API answers %d %s", name, writable, res.Status, res.Body)
		}
	}
	for name := range input.Properties {
		if _, ok := user.Properties[name]; !ok {
			t.Errorf("UserInput has %s, which User lacks", name)
		}
	}
}
