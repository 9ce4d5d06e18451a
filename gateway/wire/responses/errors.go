package responses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
)

// errorBody is the JSON of an error answer, the same as Chat Completions':
// {"error":{"message","type","param","code"}}.
type errorBody struct {
	Error errorObject `json:"error"`
}

type errorObject struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// errorTypes maps a kind to the error type and code OpenAI uses for the
// same condition. An empty code is sent as null.
var errorTypes = map[llm.ErrorKind][2]string{
	llm.ErrInvalidRequest: {"invalid_request_error", ""},
	llm.ErrAuthentication: {"invalid_request_error", "invalid_api_key"},
	llm.ErrPermission:     {"invalid_request_error", "permission_denied"},
	llm.ErrNotFound:       {"invalid_request_error", "not_found"},
	llm.ErrTooLarge:       {"invalid_request_error", "request_too_large"},
	llm.ErrRateLimit:      {"rate_limit_error", "rate_limit_exceeded"},
	llm.ErrBudget:         {"insufficient_quota", "insufficient_quota"},
	llm.ErrServer:         {"server_error", "server_error"},
	llm.ErrOverloaded:     {"service_unavailable_error", "server_is_overloaded"},
	llm.ErrTimeout:        {"server_error", "timeout"},
	llm.ErrConnection:     {"server_error", "upstream_connection_error"},
	llm.ErrStreamCut:      {"server_error", "upstream_stream_cut"},
	llm.ErrInternal:       {"server_error", "internal_error"},
}

func errorType(kind llm.ErrorKind) (typ, code string) {
	t, ok := errorTypes[kind]
	if !ok {
		return "server_error", "server_error"
	}
	return t[0], t[1]
}

// EncodeError encodes e as {"error":{"message","type","param","code"}}.
func (Codec) EncodeError(e *llm.Error) []byte {
	typ, code := errorType(e.Kind)
	obj := errorObject{Message: e.Message, Type: typ}
	if e.Param != "" {
		obj.Param = &e.Param
	}
	if code != "" {
		obj.Code = &code
	}
	b, _ := json.Marshal(errorBody{Error: obj})
	return b
}

// failureCode is the response.failed error code for kind: the codes
// Codex branches on where one fits, else invalid_prompt for errors a
// retry cannot mend and server_error for those it may.
func failureCode(kind llm.ErrorKind) string {
	switch kind {
	case llm.ErrRateLimit:
		return "rate_limit_exceeded"
	case llm.ErrBudget:
		return "insufficient_quota"
	case llm.ErrOverloaded:
		return "server_is_overloaded"
	case llm.ErrTooLarge:
		return "context_length_exceeded"
	}
	if (&llm.Error{Kind: kind}).Retryable() || kind == llm.ErrInternal {
		return "server_error"
	}
	return "invalid_prompt"
}

// failureMessage is e's message, with the "Please try again in Ns."
// sentence Codex reads a rate-limit delay from when e has a RetryAfter.
func failureMessage(e *llm.Error) string {
	if e.Kind != llm.ErrRateLimit || e.RetryAfter <= 0 || strings.Contains(strings.ToLower(e.Message), "try again in") {
		return e.Message
	}
	secs := strconv.FormatFloat(math.Ceil(e.RetryAfter.Seconds()*1000)/1000, 'f', -1, 64)
	msg := strings.TrimSpace(e.Message)
	if msg != "" && !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	if msg != "" {
		msg += " "
	}
	return msg + "Please try again in " + secs + "s."
}

// kindOfCode classifies an OpenAI error code or type; ok is false for
// codes it does not know.
func kindOfCode(code string) (llm.ErrorKind, bool) {
	switch code {
	case "rate_limit_exceeded", "rate_limit_error", "requests", "tokens", "too_many_requests",
		"insufficient_quota":
		// insufficient_quota is the provider account's quota, not ours:
		// another target may still answer, as after a rate limit.
		return llm.ErrRateLimit, true
	case "server_is_overloaded", "slow_down", "service_unavailable_error", "overloaded_error":
		return llm.ErrOverloaded, true
	case "server_error", "internal_error", "api_error":
		return llm.ErrServer, true
	case "context_length_exceeded", "request_too_large":
		return llm.ErrTooLarge, true
	case "invalid_api_key", "authentication_error":
		return llm.ErrAuthentication, true
	case "permission_denied", "permission_error", "unsupported_country":
		return llm.ErrPermission, true
	case "model_not_found", "not_found", "not_found_error":
		return llm.ErrNotFound, true
	case "invalid_prompt", "invalid_request_error", "invalid_value", "unsupported_value",
		"invalid_image", "invalid_image_format", "invalid_base64_image", "invalid_image_url",
		"image_too_large", "image_too_small", "image_parse_error", "image_content_policy_violation",
		"invalid_image_mode", "image_file_too_large", "unsupported_image_media_type",
		"empty_image_file", "failed_to_download_image", "image_file_not_found", "cyber_policy", "bio_policy":
		return llm.ErrInvalidRequest, true
	case "timeout", "vector_store_timeout":
		return llm.ErrTimeout, true
	}
	return "", false
}

// DecodeError turns an upstream error answer into an *llm.Error. Kind
// comes from the status, refined by the body's code or type where the
// status says less (a 400 context_length_exceeded is ErrTooLarge). A body
// that is not OpenAI's error object becomes the message as it is.
func (Codec) DecodeError(status int, body []byte) *llm.Error {
	var obj struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Code    any     `json:"code"` // a string, but some servers send numbers
		Param   *string `json:"param"`
	}
	body = bytes.TrimSpace(body)
	var wrapped struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &wrapped) == nil && len(wrapped.Error) > 0 && wrapped.Error[0] == '{' {
		_ = json.Unmarshal(wrapped.Error, &obj)
	} else {
		_ = json.Unmarshal(body, &obj) // {"message":...} from compatible servers
	}
	kind := llm.KindOfStatus(status)
	code, _ := obj.Code.(string)
	if k, ok := kindOfCode(code); ok && refines(kind, k) {
		kind = k
	} else if k, ok := kindOfCode(obj.Type); ok && refines(kind, k) {
		kind = k
	}
	msg := obj.Message
	if msg == "" {
		msg = string(body)
		if len(msg) > 500 {
			msg = strings.ToValidUTF8(msg[:500], "") + "..."
		}
	}
	if msg == "" {
		msg = fmt.Sprintf("upstream answered %d with an empty body", status)
	}
	e := &llm.Error{Kind: kind, Status: llm.StatusOf(kind), Message: msg}
	if obj.Param != nil {
		e.Param = *obj.Param
	}
	if kind == llm.ErrRateLimit {
		e.RetryAfter = tryAgainIn(msg)
	}
	return e
}

// refines reports whether the body's kind k may replace the status's kind:
// only within the same class, so a 500 whose body says invalid_request
// stays a server error.
func refines(fromStatus, k llm.ErrorKind) bool {
	if fromStatus == k {
		return true
	}
	client := func(k llm.ErrorKind) bool { return llm.StatusOf(k) < 500 }
	switch {
	case fromStatus == llm.ErrRateLimit:
		return k == llm.ErrRateLimit
	case client(fromStatus):
		return client(k) && k != llm.ErrRateLimit && k != llm.ErrBudget
	default:
		return !client(k)
	}
}

// streamError turns a stream's error object (of an "error" event or of
// response.failed) into an *llm.Error.
func streamError(code, typ, message string, param *string) *llm.Error {
	kind, ok := kindOfCode(code)
	if !ok {
		kind, ok = kindOfCode(typ)
	}
	if !ok {
		kind = llm.ErrServer
	}
	if message == "" {
		message = "the provider reported a failure without a message"
		if code != "" {
			message += " (code " + code + ")"
		}
	}
	e := &llm.Error{Kind: kind, Status: llm.StatusOf(kind), Message: message}
	if param != nil {
		e.Param = *param
	}
	if kind == llm.ErrRateLimit {
		e.RetryAfter = tryAgainIn(message)
	}
	return e
}

// tryAgainIn reads the delay of OpenAI's "Please try again in 1.5s" (or
// "in 20ms") from a rate-limit message; 0 if there is none.
func tryAgainIn(msg string) time.Duration {
	lower := strings.ToLower(msg)
	i := strings.Index(lower, "try again in")
	if i < 0 {
		return 0
	}
	rest := strings.TrimLeft(lower[i+len("try again in"):], " ")
	n := 0
	for n < len(rest) && (rest[n] >= '0' && rest[n] <= '9' || rest[n] == '.') {
		n++
	}
	v, err := strconv.ParseFloat(rest[:n], 64)
	if err != nil || v < 0 {
		return 0
	}
	unit := strings.TrimLeft(rest[n:], " ")
	switch {
	case strings.HasPrefix(unit, "ms"):
		return time.Duration(v * float64(time.Millisecond))
	case strings.HasPrefix(unit, "s"):
		return time.Duration(v * float64(time.Second))
	case strings.HasPrefix(unit, "m"):
		return time.Duration(v * float64(time.Minute))
	}
	return 0
}
