package restapi

// RouteTable returns the method and path of every row of the routes table,
// with its operationId and whether it authenticates with a key, a bearer
// token or not at all ("basic", "bearer", "").
func RouteTable() [][4]string {
	var out [][4]string
	for _, rt := range (&api{}).routes() {
		auth := map[authScheme]string{authNone: "", authKey: "basic", authBearer: "bearer"}[rt.auth]
		out = append(out, [4]string{rt.method, rt.path, rt.op, auth})
	}
	return out
}

// ProblemCodes lists every code of the problem catalog.
func ProblemCodes() []string {
	var out []string
	for c := range problemTypes {
		out = append(out, c)
	}
	return out
}

// OpenAPIDocument is the embedded document.
func OpenAPIDocument() []byte { return openAPIDoc }
