package tcapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"usercenter"
)

// Request parameters arrive in two shapes: a JSON object (TC3 POST), or
// flattened key/value pairs such as "Users.0.Name" (TC3 GET, and signature
// v1 in the query or a form body). Both are turned into the same tree of
// maps and bound onto the action's request struct by one binder, so the
// two shapes obey the same rules and report the same error codes.
//
// Struct fields are bound by their `tc:"Name"` tag; `tc:"Name,required"`
// makes a field required. Supported field types: string, uint64, int64,
// pointers to those, nested structs and slices of structs.

// paramError is a request-shape problem, reported with its API error code.
type paramError struct {
	code string // MissingParameter, InvalidParameter, UnknownParameter, InvalidParameterValue
	msg  string
}

func (e *paramError) Error() string { return e.msg }

func missing(name string) error {
	return &paramError{code: "MissingParameter", msg: fmt.Sprintf("the parameter %s is required", name)}
}

func invalid(format string, args ...any) error {
	return &paramError{code: "InvalidParameter", msg: fmt.Sprintf(format, args...)}
}

// maxDepth bounds nesting so that a hostile body cannot exhaust the stack.
const maxDepth = 8

// bindJSON binds a JSON object onto dst.
func bindJSON(body []byte, dst any) error {
	if !utf8.Valid(body) {
		return invalid("the request body is not valid UTF-8")
	}
	if json.Valid(body) {
		tree, err := fastObject(body)
		if err != nil {
			return err
		}
		return bind(tree, reflect.ValueOf(dst).Elem(), "", false)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return invalid("the request body is not valid JSON")
	}
	if tok != json.Delim('{') {
		return invalid("the request body must be a JSON object")
	}
	tree, err := decodeObject(dec, 1)
	if err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("the request body has data after the JSON object")
	}
	return bind(tree, reflect.ValueOf(dst).Elem(), "", false)
}

// decodeObject reads the members of an object whose '{' has been read.
// It refuses duplicate keys, which encoding/json would silently resolve
// to the last one, and nesting deeper than maxDepth.
func decodeObject(dec *json.Decoder, depth int) (map[string]any, error) {
	if depth > maxDepth {
		return nil, invalid("the request body is nested too deeply")
	}
	obj := map[string]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalid("the request body is not valid JSON")
		}
		key, ok := tok.(string)
		if !ok {
			return nil, invalid("the request body is not valid JSON")
		}
		if _, dup := obj[key]; dup {
			return nil, invalid("the parameter %s is given more than once", usercenter.ClipName(key, maxEchoName))
		}
		v, err := decodeValue(dec, depth)
		if err != nil {
			return nil, err
		}
		obj[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, invalid("the request body is not valid JSON")
	}
	return obj, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, invalid("the request body is not valid JSON")
	}
	switch tok {
	case json.Delim('{'):
		return decodeObject(dec, depth+1)
	case json.Delim('['):
		if depth+1 > maxDepth {
			return nil, invalid("the request body is nested too deeply")
		}
		list := []any{}
		for dec.More() {
			v, err := decodeValue(dec, depth+1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		if _, err := dec.Token(); err != nil { // the closing ']'
			return nil, invalid("the request body is not valid JSON")
		}
		return list, nil
	}
	return tok, nil
}

// maxEchoName is how many bytes of a caller-supplied name a message echoes.
const maxEchoName = 64

// bindFlat binds flattened parameters onto dst.
func bindFlat(params url.Values, dst any) error {
	tree := map[string]any{}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := params[k]
		if !utf8.ValidString(k) {
			return invalid("a parameter name is not valid UTF-8")
		}
		if len(vs) != 1 {
			return invalid("the parameter %s is given more than once", usercenter.ClipName(k, maxEchoName))
		}
		if !utf8.ValidString(vs[0]) {
			return invalid("the parameter %s is not valid UTF-8", usercenter.ClipName(k, maxEchoName))
		}
		parts := strings.Split(k, ".")
		if len(parts) > maxDepth {
			return invalid("the parameter %s is nested too deeply", usercenter.ClipName(k, maxEchoName))
		}
		node := tree
		for i, p := range parts {
			if p == "" {
				return &paramError{code: "UnknownParameter", msg: fmt.Sprintf("the parameter %s is not known", usercenter.ClipName(k, maxEchoName))}
			}
			if i == len(parts)-1 {
				if _, exists := node[p]; exists {
					return invalid("the parameter %s conflicts with another", usercenter.ClipName(k, maxEchoName))
				}
				node[p] = vs[0]
				break
			}
			child, exists := node[p]
			if !exists {
				child = map[string]any{}
				node[p] = child
			}
			m, ok := child.(map[string]any)
			if !ok {
				return invalid("the parameter %s conflicts with another", usercenter.ClipName(k, maxEchoName))
			}
			node = m
		}
	}
	return bind(tree, reflect.ValueOf(dst).Elem(), "", true)
}

// bind sets v from src. flat means scalars arrive as strings and lists as
// maps keyed "0", "1", ….
func bind(src any, v reflect.Value, path string, flat bool) error {
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		if err := bind(src, p.Elem(), path, flat); err != nil {
			return err
		}
		v.Set(p)
		return nil
	case reflect.Struct:
		return bindStruct(src, v, path, flat)
	case reflect.Slice:
		return bindSlice(src, v, path, flat)
	case reflect.String:
		s, ok := src.(string)
		if !ok {
			return invalid("the parameter %s must be a string", path)
		}
		v.SetString(s)
		return nil
	case reflect.Uint64, reflect.Int64:
		return bindInteger(src, v, path, flat)
	}
	return fmt.Errorf("tcapi: cannot bind %s", v.Type())
}

func bindStruct(src any, v reflect.Value, path string, flat bool) error {
	obj, ok := src.(map[string]any)
	if !ok {
		return invalid("the parameter %s must be an object", path)
	}
	prefix := ""
	if path != "" {
		prefix = path + "."
	}
	t := v.Type()
	known := make(map[string]bool, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("tc"), ",")
		if name == "" {
			continue
		}
		known[name] = true
		child, present := obj[name]
		if !present || (!flat && child == nil) {
			if opts == "required" {
				return missing(prefix + name)
			}
			continue
		}
		if err := bind(child, v.Field(i), prefix+name, flat); err != nil {
			return err
		}
	}
	// Report unknown keys in a stable order so errors are reproducible.
	var unknown []string
	for k := range obj {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return &paramError{code: "UnknownParameter", msg: fmt.Sprintf("the parameter %s%s is not known", prefix, usercenter.ClipName(unknown[0], maxEchoName))}
	}
	return nil
}

func bindSlice(src any, v reflect.Value, path string, flat bool) error {
	var items []any
	switch s := src.(type) {
	case []any:
		if flat {
			return invalid("the parameter %s must be a list", path)
		}
		items = s
	case map[string]any:
		if !flat {
			return invalid("the parameter %s must be a list", path)
		}
		keys := make([]string, 0, len(s))
		for k := range s {
			keys = append(keys, k)
		}
		sort.Strings(keys) // so that the first bad index reported is stable
		items = make([]any, len(s))
		for _, k := range keys {
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(s) || strconv.Itoa(i) != k {
				return invalid("the parameter %s.%s is not a list index: indexes must run from 0 without gaps", path, usercenter.ClipName(k, maxEchoName))
			}
			items[i] = s[k]
		}
	default:
		return invalid("the parameter %s must be a list", path)
	}
	out := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, item := range items {
		if err := bind(item, out.Index(i), path+"."+strconv.Itoa(i), flat); err != nil {
			return err
		}
	}
	v.Set(out)
	return nil
}

func bindInteger(src any, v reflect.Value, path string, flat bool) error {
	var text string
	switch s := src.(type) {
	case json.Number:
		text = s.String()
	case string:
		// Flattened parameters are strings by nature; in JSON a quoted
		// number is a string, and the SDKs never send one.
		if !flat {
			return invalid("the parameter %s must be an integer", path)
		}
		text = s
	default:
		return invalid("the parameter %s must be an integer", path)
	}
	if strings.HasPrefix(text, "+") {
		return invalid("the parameter %s must be an integer", path)
	}
	if v.Kind() == reflect.Uint64 {
		n, err := strconv.ParseUint(text, 10, 64)
		if err != nil {
			return invalidInteger(path, err)
		}
		v.SetUint(n)
		return nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return invalidInteger(path, err)
	}
	v.SetInt(n)
	return nil
}

func invalidInteger(path string, err error) error {
	if errors.Is(err, strconv.ErrRange) {
		return &paramError{code: "InvalidParameterValue", msg: fmt.Sprintf("the parameter %s is out of range", path)}
	}
	return invalid("the parameter %s must be an integer", path)
}
