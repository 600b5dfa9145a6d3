package tcapi

import (
	"bytes"
	"encoding/json"

	"usercenter"
)

// fastObject builds, from a body that json.Valid accepts, the tree that
// decodeObject builds through a json.Decoder, with the same errors in the
// same order: the top value must be an object, no object names a key
// twice, and nothing nests deeper than maxDepth. It skips the Decoder's
// tokenizer, which allocates for every token and costs as much as the
// rest of a DescribeUser's decoding and binding together.
//
// The body must be valid JSON: malformed input is left to the Decoder,
// whose error, among several, is the one callers see.
func fastObject(body []byte) (map[string]any, error) {
	p := fastParser{b: body}
	p.ws()
	if p.b[p.i] != '{' {
		return nil, invalid("the request body must be a JSON object")
	}
	p.i++
	return p.object(1)
}

type fastParser struct {
	b []byte
	i int
}

func (p *fastParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// object reads the members of an object whose '{' has been read.
func (p *fastParser) object(depth int) (map[string]any, error) {
	if depth > maxDepth {
		return nil, invalid("the request body is nested too deeply")
	}
	obj := map[string]any{}
	for {
		p.ws()
		switch p.b[p.i] {
		case '}':
			p.i++
			return obj, nil
		case ',':
			p.i++
			p.ws()
		}
		key := p.str()
		if _, dup := obj[key]; dup {
			return nil, invalid("the parameter %s is given more than once", usercenter.ClipName(key, maxEchoName))
		}
		p.ws()
		p.i++ // ':'
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		obj[key] = v
	}
}

func (p *fastParser) value(depth int) (any, error) {
	p.ws()
	switch c := p.b[p.i]; {
	case c == '{':
		p.i++
		return p.object(depth + 1)
	case c == '[':
		if depth+1 > maxDepth {
			return nil, invalid("the request body is nested too deeply")
		}
		p.i++
		list := []any{}
		for {
			p.ws()
			switch p.b[p.i] {
			case ']':
				p.i++
				return list, nil
			case ',':
				p.i++
			}
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
	case c == '"':
		return p.str(), nil
	case c == 't':
		p.i += len("true")
		return true, nil
	case c == 'f':
		p.i += len("false")
		return false, nil
	case c == 'n':
		p.i += len("null")
		return nil, nil
	}
	start := p.i
	for p.i < len(p.b) && bytes.IndexByte([]byte("+-.0123456789eE"), p.b[p.i]) >= 0 {
		p.i++
	}
	return json.Number(p.b[start:p.i]), nil
}

// str reads a string, unescaped as encoding/json unescapes it.
func (p *fastParser) str() string {
	start := p.i // the opening quote
	p.i++
	escaped := false
	for p.b[p.i] != '"' {
		if p.b[p.i] == '\\' {
			escaped = true
			p.i++
		}
		p.i++
	}
	p.i++
	if !escaped {
		return string(p.b[start+1 : p.i-1])
	}
	var s string
	json.Unmarshal(p.b[start:p.i], &s) // valid JSON: cannot fail
	return s
}
