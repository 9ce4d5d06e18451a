package sim

import (
	"net/http"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/gateway/llm"
)

// The providers' messages for a 500.
const (
	msgOpenAIServer = "The server had an error while processing your request. Sorry about that!"
	msgGeminiServer = "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
)

// serverError is a 500 with message.
func serverError(message string) *llm.Error {
	return &llm.Error{Kind: llm.ErrServer, Status: http.StatusInternalServerError, Message: message}
}

// faultError is the error a fault=NNN (or a non-streamed error_event)
// answers, in the API's shape, with the rate-limit headers of a 429.
func faultError(api llm.API, fault string, retryAfter int, x *exchange) *llm.Error {
	status := http.StatusInternalServerError
	if n, err := strconv.Atoi(fault); err == nil {
		status = n
	}
	e := &llm.Error{Kind: llm.KindOfStatus(status), Status: status}
	switch e.Kind {
	case llm.ErrRateLimit:
		e.Message = rateLimitMessage(api, retryAfter)
		if retryAfter >= 0 {
			e.RetryAfter = time.Duration(retryAfter) * time.Second
		}
		setRateLimitHeaders(x.w.Header(), api, retryAfter, x.s.cfg.Clock())
	case llm.ErrServer:
		switch api {
		case llm.APIAnthropicMessages:
			e.Message = "Internal server error"
		case llm.APIGemini:
			e.Message = msgGeminiServer
		default:
			e.Message = msgOpenAIServer
		}
	case llm.ErrOverloaded:
		switch api {
		case llm.APIAnthropicMessages:
			e.Message = "Overloaded"
		case llm.APIGemini:
			e.Message = "The model is overloaded. Please try again later."
		default:
			e.Message = "The server is overloaded or not ready yet."
		}
	default:
		e.Message = "Simulated error " + strconv.Itoa(status) + " (a [[sim fault=" + fault + "]] directive)."
	}
	return e
}

func rateLimitMessage(api llm.API, retryAfter int) string {
	switch api {
	case llm.APIAnthropicMessages:
		return "This request would exceed the rate limit for your organization of 50 requests per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits."
	case llm.APIGemini:
		return "Resource has been exhausted (e.g. check quota)."
	}
	if retryAfter >= 0 {
		return "Rate limit reached for requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in " + strconv.Itoa(retryAfter) + "s."
	}
	return "Rate limit reached for requests per min (RPM): Limit 500, Used 500, Requested 1."
}

// setRateLimitHeaders sets Retry-After (if given) and the API's
// rate-limit headers for a 429.
func setRateLimitHeaders(h http.Header, api llm.API, retryAfter int, now time.Time) {
	reset := max(retryAfter, 1)
	switch api {
	case llm.APIOpenAIChat, llm.APIOpenAIResponses:
		h.Set("X-Ratelimit-Limit-Requests", "500")
		h.Set("X-Ratelimit-Remaining-Requests", "0")
		h.Set("X-Ratelimit-Reset-Requests", strconv.Itoa(reset)+"s")
		h.Set("X-Ratelimit-Limit-Tokens", "30000")
		h.Set("X-Ratelimit-Remaining-Tokens", "0")
		h.Set("X-Ratelimit-Reset-Tokens", strconv.Itoa(reset)+"s")
	case llm.APIAnthropicMessages:
		at := now.Add(time.Duration(reset) * time.Second).UTC().Format(time.RFC3339)
		h.Set("Anthropic-Ratelimit-Requests-Limit", "50")
		h.Set("Anthropic-Ratelimit-Requests-Remaining", "0")
		h.Set("Anthropic-Ratelimit-Requests-Reset", at)
		h.Set("Anthropic-Ratelimit-Tokens-Limit", "30000")
		h.Set("Anthropic-Ratelimit-Tokens-Remaining", "0")
		h.Set("Anthropic-Ratelimit-Tokens-Reset", at)
		h.Set("Anthropic-Ratelimit-Input-Tokens-Limit", "30000")
		h.Set("Anthropic-Ratelimit-Input-Tokens-Remaining", "0")
		h.Set("Anthropic-Ratelimit-Input-Tokens-Reset", at)
	case llm.APIGemini:
		// Gemini sends no rate-limit headers; the RetryInfo detail of its
		// body carries the delay.
		return
	}
	if retryAfter >= 0 {
		h.Set("Retry-After", strconv.Itoa(retryAfter))
	}
}

// modelNotFound is the 404 for an unknown model under StrictModels.
func modelNotFound(api llm.API, model string) *llm.Error {
	e := &llm.Error{Kind: llm.ErrNotFound, Status: http.StatusNotFound, Param: "model"}
	switch api {
	case llm.APIAnthropicMessages:
		e.Message = "model: " + model
	case llm.APIGemini:
		e.Message = "models/" + model + " is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods."
	default:
		e.Message = "The model `" + model + "` does not exist or you do not have access to it."
	}
	return e
}

const openAIWrongKey = "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys."

// authError is the answer to a missing or wrong key. Gemini, like the
// real API, answers a wrong key with 400 API_KEY_INVALID and a missing
// one with 403; the others answer 401.
func authError(api llm.API, missing bool) *llm.Error {
	e := &llm.Error{Kind: llm.ErrAuthentication, Status: http.StatusUnauthorized}
	switch api {
	case llm.APIAnthropicMessages:
		e.Message = "invalid x-api-key"
		if missing {
			e.Message = "x-api-key header is required"
		}
	case llm.APIGemini:
		if missing {
			e.Status = http.StatusForbidden
			e.Message = "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."
		} else {
			e.Status = http.StatusBadRequest
			e.Message = "API key not valid. Please pass a valid API key."
		}
	default:
		e.Message = openAIWrongKey
		if missing {
			e.Message = "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
		}
	}
	return e
}

// openAIError appends e in OpenAI's shape:
// {"error":{"message","type","param","code"}}.
func openAIError(dst []byte, e *llm.Error) []byte {
	typ, code := "invalid_request_error", ""
	switch e.Kind {
	case llm.ErrAuthentication:
		if e.Message == openAIWrongKey {
			code = "invalid_api_key"
		}
	case llm.ErrNotFound:
		if e.Param == "model" {
			code = "model_not_found"
		}
	case llm.ErrRateLimit:
		typ, code = "requests", "rate_limit_exceeded"
	case llm.ErrServer, llm.ErrOverloaded, llm.ErrInternal, llm.ErrConnection:
		typ = "server_error"
	case llm.ErrTimeout:
		typ = "timeout"
	}
	if e.Status == http.StatusBadRequest && e.Param != "" {
		code = "missing_required_parameter"
	}
	dst = append(dst, `{"error":{"message":`...)
	dst = appendString(dst, e.Message)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, typ)
	dst = append(dst, `,"param":`...)
	dst = appendStringOrNull(dst, e.Param)
	dst = append(dst, `,"code":`...)
	dst = appendStringOrNull(dst, code)
	return append(dst, "}}"...)
}

// anthropicErrorType is the error type Anthropic gives e.
func anthropicErrorType(e *llm.Error) string {
	switch e.Kind {
	case llm.ErrInvalidRequest:
		return "invalid_request_error"
	case llm.ErrAuthentication:
		return "authentication_error"
	case llm.ErrPermission:
		return "permission_error"
	case llm.ErrNotFound:
		return "not_found_error"
	case llm.ErrTooLarge:
		return "request_too_large"
	case llm.ErrRateLimit:
		return "rate_limit_error"
	case llm.ErrOverloaded:
		return "overloaded_error"
	case llm.ErrTimeout:
		return "timeout_error"
	}
	return "api_error"
}

// anthropicError appends e in Anthropic's shape:
// {"type":"error","error":{"type","message"},"request_id"}.
func anthropicError(dst []byte, e *llm.Error, reqID string) []byte {
	dst = append(dst, `{"type":"error","error":{"type":`...)
	dst = appendString(dst, anthropicErrorType(e))
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, e.Message)
	dst = append(dst, '}')
	if reqID != "" {
		dst = append(dst, `,"request_id":`...)
		dst = appendString(dst, reqID)
	}
	return append(dst, '}')
}

// geminiStatus is the google.rpc status name of an HTTP status.
func geminiStatus(status int) string {
	switch status {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 405:
		return "UNIMPLEMENTED"
	case 409:
		return "ABORTED"
	case 413:
		return "INVALID_ARGUMENT"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case 501:
		return "UNIMPLEMENTED"
	case 503, 529:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	if status < 500 {
		return "FAILED_PRECONDITION"
	}
	return "INTERNAL"
}

// geminiError appends e in Google's shape:
// {"error":{"code","message","status","details"}}.
func geminiError(dst []byte, e *llm.Error) []byte {
	dst = append(dst, `{"error":{"code":`...)
	dst = appendInt(dst, e.Status)
	dst = append(dst, `,"message":`...)
	dst = appendString(dst, e.Message)
	dst = append(dst, `,"status":`...)
	dst = appendString(dst, geminiStatus(e.Status))
	switch {
	case e.Kind == llm.ErrAuthentication && e.Status == http.StatusBadRequest:
		dst = append(dst, `,"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}]`...)
	case e.Kind == llm.ErrRateLimit && e.RetryAfter > 0:
		dst = append(dst, `,"details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"`...)
		dst = appendInt(dst, int(e.RetryAfter/time.Second))
		dst = append(dst, `s"}]`...)
	}
	return append(dst, "}}"...)
}
