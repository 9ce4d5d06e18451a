package proxy

import "regexp"

// secretLike matches strings shaped like API keys: the common prefixes
// followed by a long token. Provider error messages sometimes echo part of
// the key they were given; nothing shaped like one leaves the gateway.
var secretLike = regexp.MustCompile(`(?i)\b(sk|sy|rk|pk|key|AIza|gsk|xai|sk-ant|sk-or)[-_][A-Za-z0-9\-_*.]{6,}|\bAIza[0-9A-Za-z\-_]{20,}|Bearer\s+[A-Za-z0-9\-_.=]{8,}`)

// redact removes secret-shaped strings from a message and bounds it.
func redact(msg string) string {
	msg = secretLike.ReplaceAllString(msg, "[redacted]")
	if len(msg) > 500 {
		msg = msg[:500] + "…"
	}
	return msg
}
