package gemini

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
)

// DecodeError implements wire.Outbound. Kind comes from the error's
// status name and, failing that, from the HTTP status.
func (Codec) DecodeError(status int, body []byte) *llm.Error {
	if e := parseAPIError(body); e != nil {
		return apiErrorToLLM(status, e)
	}
	kind := llm.KindOfStatus(status)
	msg := strings.TrimSpace(string(body))
	if msg == "" {
		msg = http.StatusText(status)
	}
	if len(msg) > 512 {
		msg = strings.ToValidUTF8(msg[:512], "") + "..."
	}
	return &llm.Error{Kind: kind, Status: llm.StatusOf(kind), Message: msg}
}

// parseAPIError reads {"error": {...}} or, as streamGenerateContent without
// alt=sse answers, [{"error": {...}}].
func parseAPIError(body []byte) *apiError {
	body = bytes.TrimSpace(body)
	var obj struct {
		Error *apiError `json:"error"`
	}
	if len(body) > 0 && body[0] == '[' {
		var list []json.RawMessage
		if json.Unmarshal(body, &list) != nil || len(list) == 0 {
			return nil
		}
		body = list[0]
	}
	if json.Unmarshal(body, &obj) != nil || obj.Error == nil {
		return nil
	}
	return obj.Error
}

// statusKinds maps google.rpc.Code names to error kinds.
var statusKinds = map[string]llm.ErrorKind{
	"INVALID_ARGUMENT":    llm.ErrInvalidRequest,
	"FAILED_PRECONDITION": llm.ErrInvalidRequest,
	"OUT_OF_RANGE":        llm.ErrInvalidRequest,
	"UNIMPLEMENTED":       llm.ErrInvalidRequest,
	"UNAUTHENTICATED":     llm.ErrAuthentication,
	"PERMISSION_DENIED":   llm.ErrPermission,
	"NOT_FOUND":           llm.ErrNotFound,
	"RESOURCE_EXHAUSTED":  llm.ErrRateLimit,
	"UNAVAILABLE":         llm.ErrOverloaded,
	"DEADLINE_EXCEEDED":   llm.ErrTimeout,
	"INTERNAL":            llm.ErrServer,
	"UNKNOWN":             llm.ErrServer,
	"DATA_LOSS":           llm.ErrServer,
	"ABORTED":             llm.ErrServer,
	"CANCELLED":           llm.ErrServer,
}

// apiErrorToLLM classifies e; status is the HTTP status, or 0 for an
// error that arrived inside a stream (then e.Code stands in).
func apiErrorToLLM(status int, e *apiError) *llm.Error {
	if status == 0 {
		status = e.Code
	}
	kind, ok := statusKinds[e.Status]
	if !ok {
		kind = llm.KindOfStatus(status)
		if status == 0 {
			kind = llm.ErrServer
		}
	}
	var retry time.Duration
	for _, d := range e.Details {
		if d.Reason == "API_KEY_INVALID" {
			kind = llm.ErrAuthentication // Gemini says 400 INVALID_ARGUMENT for a bad key
		}
		if strings.HasSuffix(d.Type, "google.rpc.RetryInfo") && d.RetryDelay != "" {
			if v, err := time.ParseDuration(d.RetryDelay); err == nil && v > 0 {
				retry = v
			}
		}
	}
	msg := e.Message
	if msg == "" {
		msg = e.Status
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &llm.Error{Kind: kind, Status: llm.StatusOf(kind), Message: msg, RetryAfter: retry}
}
