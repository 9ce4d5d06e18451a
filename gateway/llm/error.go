package llm

import (
	"fmt"
	"net/http"
	"time"
)

// ErrorKind classifies a failed call. Each inbound API maps a kind to its
// own error type names and status codes; the fallback logic decides from
// the kind whether another target may succeed.
type ErrorKind string

// Error kinds.
const (
	ErrInvalidRequest ErrorKind = "invalid_request"   // 400: the client's request is wrong
	ErrAuthentication ErrorKind = "authentication"    // 401: bad or missing key
	ErrPermission     ErrorKind = "permission"        // 403: key may not do this (model not allowed)
	ErrNotFound       ErrorKind = "not_found"         // 404: unknown model or route
	ErrTooLarge       ErrorKind = "request_too_large" // 413
	ErrRateLimit      ErrorKind = "rate_limit"        // 429 from a provider or our rate limiter
	ErrBudget         ErrorKind = "budget_exceeded"   // 429: a spend cap is reached
	ErrServer         ErrorKind = "server"            // 500/502 from a provider
	ErrOverloaded     ErrorKind = "overloaded"        // 503/529
	ErrTimeout        ErrorKind = "timeout"           // 504: upstream too slow
	ErrConnection     ErrorKind = "connection"        // 502: could not reach or lost the upstream
	ErrStreamCut      ErrorKind = "stream_cut"        // upstream stream ended without a stop
	ErrInternal       ErrorKind = "internal"          // 500: a gateway bug
	// ErrUntranslatable: the request is valid but cannot be expressed in
	// a target's format (Anthropic server tools for OpenAI, say); another
	// target may take it. A client that ends with it sees a 400.
	ErrUntranslatable ErrorKind = "untranslatable"
)

// Error is a failed model call, from a provider or from the gateway itself.
type Error struct {
	Kind    ErrorKind `json:"kind"`
	Status  int       `json:"status"` // HTTP status to give the client
	Message string    `json:"message"`
	// Param names the offending request field, if known.
	Param string `json:"param,omitempty"`
	// RetryAfter is the provider's (or our limiter's) Retry-After.
	RetryAfter time.Duration `json:"retry_after,omitempty"`
	// Provider names the target that failed, for errors from upstream.
	Provider string `json:"provider,omitempty"`
}

func (e *Error) Error() string {
	if e.Provider != "" {
		return fmt.Sprintf("%s (%d) from %s: %s", e.Kind, e.Status, e.Provider, e.Message)
	}
	return fmt.Sprintf("%s (%d): %s", e.Kind, e.Status, e.Message)
}

// Retryable reports whether another attempt, on this or another target,
// may succeed.
func (e *Error) Retryable() bool {
	switch e.Kind {
	case ErrRateLimit, ErrServer, ErrOverloaded, ErrTimeout, ErrConnection, ErrStreamCut:
		return true
	}
	return false
}

// Errorf builds an Error with the status that goes with kind.
func Errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Status: StatusOf(kind), Message: fmt.Sprintf(format, args...)}
}

// StatusOf is the HTTP status the gateway answers for kind.
func StatusOf(kind ErrorKind) int {
	switch kind {
	case ErrInvalidRequest, ErrUntranslatable:
		return http.StatusBadRequest
	case ErrAuthentication:
		return http.StatusUnauthorized
	case ErrPermission:
		return http.StatusForbidden
	case ErrNotFound:
		return http.StatusNotFound
	case ErrTooLarge:
		return http.StatusRequestEntityTooLarge
	case ErrRateLimit, ErrBudget:
		return http.StatusTooManyRequests
	case ErrServer, ErrConnection, ErrStreamCut:
		return http.StatusBadGateway
	case ErrOverloaded:
		return http.StatusServiceUnavailable
	case ErrTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// KindOfStatus classifies an upstream HTTP status.
func KindOfStatus(status int) ErrorKind {
	switch {
	case status == 400 || status == 422:
		return ErrInvalidRequest
	case status == 401:
		return ErrAuthentication
	case status == 403:
		return ErrPermission
	case status == 404:
		return ErrNotFound
	case status == 413:
		return ErrTooLarge
	case status == 429:
		return ErrRateLimit
	case status == 503 || status == 529:
		return ErrOverloaded
	case status == 504 || status == 408:
		return ErrTimeout
	case status >= 500:
		return ErrServer
	}
	return ErrInvalidRequest
}
