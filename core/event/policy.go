package event

// Policy events, written for every verdict of a JS policy (plugins/js).
//
// Stream: the verdict goes where the thing it judged is recorded: a model
// call's verdicts on the call's stream, a tool call's and a session's on
// the session's; the call id is the correlation id.

func init() {
	Register[PolicyVerdict]("policy.verdict", 1, "a policy allowed, denied or annotated a model call, tool call or session")
}

// PolicyVerdict records one policy's verdict at one hook.
type PolicyVerdict struct {
	// CallID is the model or tool call judged, if the hook is about one.
	CallID string `json:"call_id,omitempty"`
	Policy string `json:"policy"`
	// Digest names the policy source's content, "sha256:<hex>".
	Digest string `json:"digest"`
	// Hook is before_model_call, before_tool_call, session_start or
	// session_end.
	Hook string `json:"hook"`
	// Decision is allow, deny or annotate. When the policy failed (Error
	// is set), it is the decision the policy is configured to take on
	// error.
	Decision string `json:"decision"`
	// Reason is what a deny showed the caller.
	Reason      string            `json:"reason,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// Error says why the policy failed to decide: it threw, overran its
	// time budget, returned no verdict, or was quarantined.
	Error      string  `json:"error,omitempty"`
	DurationMS float64 `json:"duration_ms"`
	// ClockUnixMS and Seed are the clock and random seed the policy was
	// given, so that the verdict can be re-run.
	ClockUnixMS int64  `json:"clock_unix_ms,omitempty"`
	Seed        uint64 `json:"seed,omitempty"`
}
