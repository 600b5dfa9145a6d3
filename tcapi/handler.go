// Package tcapi serves LCIC's user actions over Tencent Cloud API 3.0, so
// that the official Tencent Cloud SDKs work against usercenter with only
// their endpoint changed.
package tcapi

import (
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"

	"usercenter/core"
	"usercenter/httpio"
	"usercenter/obs"
	"usercenter/tcsig"
)

// Limits on request size, as Tencent Cloud documents them.
const (
	MaxBodyBytes  = 10 << 20
	MaxQueryBytes = 32 << 10
)

// commonParams are protocol parameters that travel beside an action's own
// parameters in v1 requests and GET queries; they are not action input.
var commonParams = []string{"Action", "Version", "Region", "Language", "Token", "RequestClient"}

// Handler serves the API 3.0 gateway. It parses and binds requests in the
// protocol's own terms; core authenticates them (and remembers signature
// v1 requests against replays) and runs the actions.
type Handler struct {
	svc  *core.Service
	log  *slog.Logger
	body httpio.BodyRules
}

// New returns the gateway handler.
func New(svc *core.Service, log *slog.Logger) *Handler {
	h := &Handler{svc: svc, log: log}
	h.body = httpio.BodyRules{Limit: MaxBodyBytes, TooLarge: errBodyTooLarge, Unreadable: errBodyUnreadable, Busy: errBusy, Admit: h.admitLargeBody}
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	info := obs.FromContext(r.Context())
	// Headers are looked up by their canonical spelling (X-TC-… is
	// X-Tc-…), which spares Get an allocation.
	lang := r.Header.Get("X-Tc-Language")
	resp, aerr := h.serve(w, r, info, &lang)
	var body envelope
	if aerr != nil {
		info.SetResult(aerr.Code, aerr.cause)
		body.Response = errorBody{
			Error:     errorDetail{Code: aerr.Code, Message: aerr.text(lang)},
			RequestId: info.ID,
		}
	} else {
		info.Result = "ok"
		resp.setRequestID(info.ID)
		body.Response = resp
	}
	if trace := r.Header.Get("X-Tc-Traceid"); trace != "" && len(trace) <= 128 {
		// The Node.js SDKs read it back into their errors' traceId.
		w.Header().Set("X-TC-TraceId", trace)
	}
	// The SDKs treat any status but 200 as a transport failure and never
	// read the body, so errors travel in the envelope with 200.
	httpio.WriteJSON(w, http.StatusOK, "application/json; charset=utf-8", body)
}

// envelope is every answer: {"Response": …}. A struct rather than a map,
// which encoding/json would have to allocate, sort and walk by reflection.
type envelope struct {
	Response any `json:"Response"`
}

type errorBody struct {
	Error     errorDetail `json:"Error"`
	RequestId string      `json:"RequestId"`
}

type errorDetail struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

// Answers to requests too large to read, made once: they are passed on
// every request, and never changed.
var (
	errQueryTooLarge  = &apiError{Code: "RequestSizeLimitExceeded", Message: fmt.Sprintf("the query string exceeds %d bytes", MaxQueryBytes)}
	errBodyTooLarge   = &apiError{Code: "RequestSizeLimitExceeded", Message: fmt.Sprintf("the request body exceeds %d bytes", MaxBodyBytes)}
	errBodyUnreadable = &apiError{Code: "InvalidParameter", Message: "the request body could not be read"}
	errBusy           = &apiError{Code: "ServiceUnavailable", Message: "the server holds as many request bodies as it may at once; retry shortly"}
)

// serve authenticates, decodes and runs one request. lang is updated once
// the request's language parameter is known.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, info *obs.Request, lang *string) (resp response, aerr *apiError) {
	defer func() {
		if p := recover(); p != nil {
			resp, aerr = nil, &apiError{Code: "InternalError", cause: fmt.Errorf("panic: %v", p)}
		}
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		return nil, &apiError{Code: "UnsupportedProtocol"}
	}
	if len(r.URL.RawQuery) > MaxQueryBytes {
		return nil, errQueryTooLarge
	}
	// Past httpio.SmallBody, only for a live SecretId: see admitLargeBody.
	body, err := httpio.ReadBody(w, r, &h.body)
	if err != nil {
		return nil, err.(*apiError)
	}

	now := h.svc.Now()
	signed, err := tcsig.Parse(&tcsig.Request{
		Method: r.Method, Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header, Body: body,
	}, now)
	if err != nil {
		return nil, fromSignature(err)
	}
	if signed.UnsignedPayload {
		// An unsigned body could be swapped by anyone who saw the request.
		return nil, &apiError{Code: "AuthFailure.InvalidAuthorization", Message: "UNSIGNED-PAYLOAD is not accepted: the request body must be signed"}
	}
	actionName, version := r.Header.Get("X-Tc-Action"), r.Header.Get("X-Tc-Version")
	if signed.Scheme == tcsig.SchemeV1 {
		actionName, version = signed.Params.Get("Action"), signed.Params.Get("Version")
		if l := signed.Params.Get("Language"); l != "" {
			*lang = l
		}
	}
	actor, err := h.svc.AuthenticateSignature(r.Context(), signed)
	if err != nil {
		return nil, fromDomain(err)
	}
	if actionName == "" {
		return nil, &apiError{Code: "MissingParameter", Message: "the parameter Action is required"}
	}
	act, ok := actions[actionName]
	if !ok {
		return nil, &apiError{Code: "InvalidAction", Message: "the action is not supported; see docs/lcic.md for the list"}
	}
	// Only known names become metric labels and log fields: the raw
	// header would let anyone mint new time series.
	info.Action = actionName
	if version == "" {
		return nil, &apiError{Code: "MissingParameter", Message: "the parameter Version is required"}
	}
	if version != Version {
		return nil, &apiError{Code: "NoSuchVersion", Message: "the only supported Version is " + Version}
	}

	req := act.newRequest()
	if signed.Scheme == tcsig.SchemeTC3 && r.Method == http.MethodPost && !isJSON(r.Header.Get("Content-Type")) {
		return nil, &apiError{Code: "InvalidParameter", Message: "a TC3-HMAC-SHA256 POST must carry a JSON body with Content-Type application/json; form bodies are for signature v1"}
	}
	if signed.Params != nil {
		err = bindFlat(actionParams(signed.Params), req)
	} else {
		err = bindJSON(body, req)
	}
	if err != nil {
		return nil, fromParams(err)
	}
	resp, err = act.run(core.WithAction(r.Context(), act.name), h.svc, actor, req)
	if err != nil {
		return nil, fromParams(err)
	}
	return resp, nil
}

func isJSON(contentType string) bool {
	// What the SDKs send, without the parser's allocations.
	if contentType == "application/json" || contentType == "application/json; charset=utf-8" {
		return true
	}
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// actionParams drops the protocol parameters from flattened input.
func actionParams(p url.Values) url.Values {
	out := make(url.Values, len(p))
	for k, v := range p {
		out[k] = v
	}
	for _, k := range commonParams {
		delete(out, k)
	}
	return out
}

// fromParams maps a decoding or action error.
func fromParams(err error) *apiError {
	var pe *paramError
	if errors.As(err, &pe) {
		return &apiError{Code: pe.code, Message: pe.msg}
	}
	return fromDomain(err)
}
