package cli

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/trace"
	"github.com/switchyard/switchyard/core/trace/otlp"
)

func (a *app) traceCmd() *cobra.Command {
	var (
		addr   string
		asJSON bool
		otlpTo string
	)
	cmd := &cobra.Command{
		Use:   "trace SESSION/TURN | CALL_ID",
		Short: "Show a decision as a tree: the turn, its model calls (routing, policies, attempts, tokens, cost), its tool calls",
		Long: `Draw one decision (a turn of a session) from the event log: the turn's prompt and
outcome, then in order each model call (with its routing decision, the plugin's
digest and reason, its policy verdicts and its attempts: retries and fallbacks),
each tool call with its result, and the total cost. Given a call id instead (a
response's x-switchyard-call-id header, or from ` + "`switchyard calls tail`" + `), draw that one
model call: why it went where it did, its attempts and its cost.

With --otlp-endpoint, the same tree is then sent as one OpenTelemetry trace over
OTLP/HTTP (protobuf) to a collector, or to anything that takes OTLP such as Jaeger
or Grafana Tempo: one span per node, named after the GenAI semantic conventions
(invoke_agent, chat, execute_tool, ...). Ids are derived from the decision, so
sending it again gives the same trace. --otlp-endpoint= with an empty value uses
$OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else $OTEL_EXPORTER_OTLP_ENDPOINT, else
http://localhost:4318; $OTEL_EXPORTER_OTLP_HEADERS is sent along.

` + "`switchyard costs --by decision`" + ` and ` + "`switchyard session show`" + ` list decisions.`,
		Example: `  switchyard trace s0123456789abcdef/2
  switchyard trace 019ae3c1-5b7e-7c31-9d3e-0a1b2c3d4e5f
  switchyard trace s0123456789abcdef/2 --json | jq '.children[] | select(.kind=="model_call") | .cost_usd'
  switchyard trace s0123456789abcdef/2 --otlp-endpoint http://localhost:4318`,
		Args: exactArgs(1, "SESSION/TURN or CALL_ID"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			path := "/api/v1/calls/" + url.PathEscape(args[0]) + "/trace"
			if strings.Contains(args[0], "/") {
				id, turn, err := trace.ParseDecision(args[0])
				if err != nil {
					return usagef("%v", err)
				}
				path = fmt.Sprintf("/api/v1/sessions/%s/turns/%d/trace", url.PathEscape(id), turn)
			}
			var err error
			export := cmd.Flags().Changed("otlp-endpoint")
			if export {
				if otlpTo, err = otlp.Endpoint(otlpTo, a.io.getenv); err != nil {
					return usagef("--otlp-endpoint: %v", err)
				}
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			var n trace.Node
			if err := c.doJSON(cmd.Context(), "GET", path, nil, &n); err != nil {
				return err
			}
			if asJSON {
				err = writeLine(a.io.Out, n)
			} else {
				err = trace.WriteText(a.io.Out, &n)
			}
			if err != nil || !export {
				return err
			}
			res, err := otlp.Export(cmd.Context(), otlpTo, &n)
			if err != nil {
				return err
			}
			a.summary("exported %d spans of trace %s to %s", res.Spans, res.TraceID, res.Endpoint)
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().BoolVar(&asJSON, "json", false, "the tree as one JSON object")
	cmd.Flags().StringVar(&otlpTo, "otlp-endpoint", "", "after printing, export the tree as OpenTelemetry spans over OTLP/HTTP to `URL`: http://HOST:4318 (/v1/traces is appended) or a full URL; "+
		"empty (--otlp-endpoint=) means $"+otlp.EnvTracesEndpoint+", else $"+otlp.EnvEndpoint+", else http://localhost:4318")
	return cmd
}
