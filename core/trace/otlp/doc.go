// Package otlp exports a decision's trace (a [trace.Node] tree) as one
// OpenTelemetry trace over OTLP/HTTP, with the official OpenTelemetry Go
// SDK and its otlptracehttp exporter.
//
// It lives apart from package trace so that the core stays free of the
// SDK and of network I/O: only the CLI (and whoever else exports) links
// it.
//
// # Span mapping
//
// Each node is one span, its parent the node's parent in the tree. Names
// follow the OpenTelemetry GenAI semantic conventions:
//
//	decision           invoke_agent {gen_ai.agent.name}     internal
//	model_call         chat {target_model or request model} client
//	tool_call          execute_tool {gen_ai.tool.name}      internal
//	routing            route {router}                       internal
//	attempt            attempt N                            internal
//	policy             policy {name}                        internal
//	permission_denied  permission_denied {tool}             internal
//	error              error {name}                         internal
//
// A span starts at the node's Start and ends at its End; a node with no
// End (a turn still running, a tool call with no result yet) ends at the
// latest end of its children, or at its start.
//
// # Attributes
//
// Every entry of the node's Attrs becomes an attribute of its span. Keys
// with a namespace (gen_ai.request.model, session.id) keep their name;
// switchyard's own keys get the switchyard. prefix (outcome becomes
// switchyard.outcome). Values keep their type: string, bool, int64,
// float64 and their slices; anything else is written as JSON. Numbers
// read back from JSON are integers when whole, except the known
// fractional ones (cost_usd, latency_ms). Each span also carries
// switchyard.kind, switchyard.summary, the token counts as
// gen_ai.usage.input_tokens and gen_ai.usage.output_tokens, and
// switchyard.cost_usd. A node with an Error has the status Error with
// that message. The resource says service.name=switchyard.
//
// # Identifiers
//
// Ids are derived, not random, so exporting the same decision twice gives
// the same trace: the trace id is the first 16 bytes of
// SHA-256("switchyard:" + decision id), and a span's id the first 8 bytes
// of SHA-256 of the decision id and the node's path in the tree, each step
// of it named by the node's kind and the position of its first event.
// A collector that receives the same trace twice sees the same spans.
package otlp
