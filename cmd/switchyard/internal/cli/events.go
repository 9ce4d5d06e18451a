package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway/httpapi"
	"github.com/switchyard/switchyard/gateway/sse"
)

const (
	dataExample     = `--data '{"text":"hello"}'`
	metadataExample = `--metadata '{"actor":"user:alice","session":"42"}'`
	lineExample     = `{"type":"note.added","data":{"text":"hello"}}`
)

func (a *app) eventsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Append, read, follow and verify events",
		Long: `Append, read and follow the events of a running switchyard server, and verify a data
directory offline.

Every command but verify talks to the server at --addr (default ` + httpapi.DefaultAddr + `,
env ` + envAddr + `). Events are printed to stdout as JSON lines, one envelope per line.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(a.appendCmd(), a.readCmd(), a.tailCmd(), a.verifyCmd(), a.streamsCmd())
	return cmd
}

func (a *app) appendCmd() *cobra.Command {
	var (
		addr, typ, data, expected, id, metadata, file string
	)
	cmd := &cobra.Command{
		Use:   "append STREAM (--type TYPE [--data JSON] | -f FILE)",
		Short: "Append events to a stream",
		Long: `Append one event given by flags, or every event of a file of JSON lines, to STREAM.

With -f, each non-empty line is one event, {"type":...,"data":...} with optional "id",
"metadata" and "time", and all of them are appended together in one atomic batch: either
every event is stored or none is. -f - reads stdin.

--expected makes the append conditional: any (default), no-stream (the stream must be new),
exists, or the version of the stream's last event (0 is the first). If the stream is
elsewhere, nothing is written and the command exits with code 3.

Prints the result as one JSON line: the stream, the first and last version written and the
global position of each event.`,
		Example: `  switchyard events append session-42 --type message.added --data '{"role":"user","text":"hi"}'
  switchyard events append session-42 --type session.ended --data '{"outcome":"completed"}' --expected 1
  printf '%s\n' '{"type":"note.added","data":{"n":1}}' '{"type":"note.added","data":{"n":2}}' |
    switchyard events append notes -f -`,
		Args: exactArgs(1, "STREAM"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			stream := args[0]
			if err := event.ValidateStream(stream); err != nil {
				return usagef("%v", err)
			}
			x, err := eventstore.ParseExpectedVersion(expected)
			if err != nil {
				return usagef("--expected: %v", err)
			}
			var body []byte
			if file != "" {
				for _, f := range []string{"type", "data", "id", "metadata"} {
					if cmd.Flags().Changed(f) {
						return usagef("-f reads whole events from a file: drop --%s and put it in each line, e.g. %s", f, lineExample)
					}
				}
				if body, err = a.readEventLines(file); err != nil {
					return err
				}
			} else {
				if !cmd.Flags().Changed("type") {
					return usagef("give the event's --type (e.g. --type note.added) and --data, or -f FILE of JSON lines")
				}
				if body, err = eventFromFlags(typ, data, id, metadata); err != nil {
					return err
				}
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			res, err := c.do(cmd.Context(), "POST", "/api/v1/streams/"+url.PathEscape(stream)+"/events?expected="+url.QueryEscape(x.String()), body, nil)
			if err != nil {
				return appendError(stream, err)
			}
			defer res.Body.Close()
			var ar httpapi.AppendResponse
			if err := json.NewDecoder(res.Body).Decode(&ar); err != nil {
				return fmt.Errorf("append to %q: the server's answer is not an append result: %w", stream, err)
			}
			if err := writeLine(a.io.Out, ar); err != nil {
				return err
			}
			n := len(ar.Positions)
			what := "appended"
			if ar.Duplicate {
				what = "already had (same ids, nothing written)"
			}
			a.summary("%s %d event%s in %s at version %s, position %s", what, n, plural(n), stream,
				span(ar.FirstVersion, ar.LastVersion), span(ar.Positions[0], ar.Positions[n-1]))
			return nil
		}),
	}
	f := cmd.Flags()
	a.addrFlag(cmd, &addr)
	f.StringVarP(&typ, "type", "t", "", "event type, dotted lower-case words such as session.started")
	f.StringVarP(&data, "data", "d", "{}", "event data, one JSON value")
	f.StringVarP(&expected, "expected", "e", "any", "expected version: any, no-stream, exists or the version of the stream's last event")
	f.StringVar(&id, "id", "", "event id (a UUID), the idempotency key; default a new UUIDv7")
	f.StringVarP(&metadata, "metadata", "m", "", "event metadata as a JSON object: correlation_id, causation_id, actor, agent, session, team, user, traceparent, schema")
	f.StringVarP(&file, "file", "f", "", "read events as JSON lines from FILE (- for stdin) instead of --type and --data")
	return cmd
}

// eventFromFlags checks the flags of one event and returns its JSON.
func eventFromFlags(typ, data, id, metadata string) ([]byte, error) {
	if err := event.ValidateType(typ); err != nil {
		return nil, usagef("--type: %v", err)
	}
	pe := httpapi.ProposedEvent{Type: typ, ID: id}
	if err := checkJSON([]byte(data)); err != nil {
		return nil, usagef("--data is not valid JSON: %v: give one JSON value in single quotes, e.g. %s", err, dataExample)
	}
	pe.Data = json.RawMessage(data)
	if id != "" {
		if _, err := uuid.Parse(id); err != nil {
			return nil, usagef("--id %q is not a UUID (%v): leave --id out and the store assigns one", id, err)
		}
	}
	if metadata != "" {
		dec := json.NewDecoder(strings.NewReader(metadata))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&pe.Metadata); err != nil {
			return nil, usagef("--metadata: %v: give a JSON object with any of correlation_id, causation_id, actor, agent, session, team, user, traceparent, schema, e.g. %s",
				strings.TrimPrefix(err.Error(), "json: "), metadataExample)
		}
	}
	return json.Marshal(pe)
}

// checkJSON returns nil if b is one JSON value, else an error saying where
// it goes wrong.
func checkJSON(b []byte) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("it is empty")
	}
	var v any
	err := json.Unmarshal(b, &v)
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("%v (at byte %d)", syn, syn.Offset)
	}
	return err
}

// readEventLines reads JSON lines of events from file (- is stdin), checks
// each, and returns them as one JSON array.
func (a *app) readEventLines(file string) ([]byte, error) {
	var r io.Reader = a.io.In
	name := "stdin"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		defer f.Close()
		r, name = f, file
	}
	var buf bytes.Buffer
	buf.WriteByte('[')
	n := 0
	br := bufio.NewReader(r)
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read events from %s: %w", name, err)
		}
		if t := bytes.TrimSpace(line); len(t) > 0 {
			if t[0] != '{' {
				return nil, usagef("%s line %d: each line must be one event object, such as %s", name, lineNo, lineExample)
			}
			if _, derr := httpapi.DecodeEvents(t); derr != nil {
				return nil, usagef("%s line %d: %v", name, lineNo, derr)
			}
			if n > 0 {
				buf.WriteByte(',')
			}
			buf.Write(t)
			n++
		}
		if err == io.EOF {
			break
		}
	}
	if n == 0 {
		return nil, usagef("%s holds no events: give one JSON object per line, such as %s", name, lineExample)
	}
	buf.WriteByte(']')
	return buf.Bytes(), nil
}

func appendError(stream string, err error) error {
	var se *serverError
	if !errors.As(err, &se) {
		return err
	}
	if se.Body.Code == "wrong_expected_version" {
		return &conflictError{fmt.Errorf("%s (--expected %s would match it now)", se.Body.Message, se.Body.Actual)}
	}
	return err
}

func (a *app) readCmd() *cobra.Command {
	var (
		addr      string
		all       bool
		from      string
		backwards bool
		limit     int
	)
	cmd := &cobra.Command{
		Use:   "read (STREAM | --all)",
		Short: "Print the events of a stream, or of the whole log, as JSON lines",
		Long: `Print the events of STREAM in version order (0 is the first), or with --all every event of
the log in position order (positions start at 1), one JSON envelope per line.

--from starts at a version (a position with --all); --backwards reads from the end, or from
--from, towards the start; --limit stops after that many events.`,
		Example: `  switchyard events read session-42
  switchyard events read session-42 --backwards --limit 1     # the last event
  switchyard events read --all --from 100 | jq -r .type`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return usagef("give a STREAM or --all, not both")
			case !all && len(args) != 1:
				return usagef("give the STREAM to read, or --all for the whole log")
			}
			return nil
		},
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			if limit < 0 {
				return usagef("--limit %d: give a number of events, 0 for no limit", limit)
			}
			q := url.Values{}
			if from != "" {
				if _, err := strconv.ParseUint(from, 10, 64); err != nil && from != "end" {
					return usagef("--from %q: give a version (a position with --all), or end", from)
				}
				q.Set("from", from)
			}
			if backwards {
				q.Set("direction", "backwards")
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			path, what := "/api/v1/events", "the log"
			if !all {
				path, what = "/api/v1/streams/"+url.PathEscape(args[0])+"/events", "stream "+args[0]
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			res, err := c.do(cmd.Context(), "GET", path+"?"+q.Encode(), nil, nil)
			if err != nil {
				if errorCode(err) == "stream_not_found" {
					return fmt.Errorf("stream %q not found: `%s events streams` lists the streams", args[0], a.io.Prog)
				}
				return err
			}
			defer res.Body.Close()
			n, err := copyEventLines(a.io.Out, res.Body)
			if err != nil {
				return fmt.Errorf("read %s: %w", what, c.netError(cmd.Context(), err))
			}
			a.summary("%d event%s from %s", n, plural(n), what)
			return nil
		}),
	}
	f := cmd.Flags()
	a.addrFlag(cmd, &addr)
	f.BoolVar(&all, "all", false, "read every event of the log, by position")
	f.StringVar(&from, "from", "", "first version (position with --all) to print; default the start, or the end with --backwards")
	f.BoolVarP(&backwards, "backwards", "b", false, "read from the end towards the start")
	f.IntVarP(&limit, "limit", "n", 0, "print at most this many events (0: all)")
	return cmd
}

// copyEventLines copies JSON lines from r to w, returning how many, and
// turns an {"error":...} line into an error.
func copyEventLines(w io.Writer, r io.Reader) (int, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	n := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if bytes.HasPrefix(line, []byte(`{"error":`)) {
				var er httpapi.ErrorResponse
				if json.Unmarshal(line, &er) == nil {
					return n, fmt.Errorf("the server failed after %d events: %s", n, er.Error.Message)
				}
			}
			if _, werr := w.Write(line); werr != nil {
				return n, werr
			}
			n++
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func (a *app) tailCmd() *cobra.Command {
	var (
		addr  string
		from  string
		limit int
	)
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Follow the log: print every event from a position, then new ones as they come",
		Long: `Print every event of the log from --from (a position; 0, the default, is the start; end
means only new events), then keep printing new events as they are appended, one JSON
envelope per line, until Ctrl-C or --limit events.

If the server goes away, tail says which position to resume from with --from.`,
		Example: `  switchyard events tail
  switchyard events tail --from end | jq -c 'select(.type == "model.call.completed") | .data'`,
		Args: noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			if from != "end" {
				if _, err := strconv.ParseUint(from, 10, 64); err != nil {
					return usagef("--from %q: give a position (0 is the start) or end", from)
				}
			}
			if limit < 0 {
				return usagef("--limit %d: give a number of events, 0 to follow until Ctrl-C", limit)
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			return a.tail(cmd.Context(), c, from, limit, func(data []byte) (bool, error) {
				_, err := a.io.Out.Write(append(data, '\n'))
				return true, err
			})
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().StringVar(&from, "from", "0", "first position to print (0: the start; end: only new events)")
	cmd.Flags().IntVarP(&limit, "limit", "n", 0, "stop after this many events (0: follow until Ctrl-C)")
	return cmd
}

// tail follows the feed from from, handing each event's JSON to emit,
// which reports whether it printed it (limit counts printed events).
func (a *app) tail(ctx context.Context, c *client, from string, limit int, emit func(data []byte) (bool, error)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res, err := c.do(ctx, "GET", "/api/v1/events/feed?from="+url.QueryEscape(from), nil, map[string]string{"Accept": "text/event-stream"})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	defer res.Body.Close()
	n := 0
	var last string // position of the last event printed
	done := func() error {
		if n > 0 {
			a.summary("%d event%s, up to position %s", n, plural(n), last)
		}
		return nil
	}
	resume := func() string {
		if last == "" {
			return from
		}
		p, _ := strconv.ParseUint(last, 10, 64)
		return strconv.FormatUint(p+1, 10)
	}
	rd := sse.NewReader(res.Body)
	for {
		ev, err := rd.Next()
		if err != nil {
			if ctx.Err() != nil { // Ctrl-C
				return done()
			}
			if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
				done()
				return fmt.Errorf("switchyard at %s ended the feed (did the server stop?): resume with `%s events tail --from %s`", c.addr, a.io.Prog, resume())
			}
			done()
			return fmt.Errorf("lost the feed from %s: %v: resume with `%s events tail --from %s`", c.addr, c.netError(ctx, err), a.io.Prog, resume())
		}
		if ev.Name == "error" {
			var er httpapi.ErrorResponse
			msg := string(ev.Data)
			if json.Unmarshal(ev.Data, &er) == nil {
				msg = er.Error.Message
			}
			done()
			return fmt.Errorf("the feed failed: %s: resume with `%s events tail --from %s`", msg, a.io.Prog, resume())
		}
		if len(ev.Data) == 0 {
			continue
		}
		printed, err := emit(ev.Data)
		if err != nil {
			return err
		}
		if printed {
			n++
		}
		if ev.ID != "" {
			last = ev.ID
		}
		if limit > 0 && n >= limit {
			return done()
		}
	}
}

func (a *app) verifyCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the hash chain of every stream in a data directory (offline)",
		Long: `Open the data directory read-only and check every event of the log: each stream's hash
chain, that its versions are dense, and that positions increase. Prints a summary as one JSON
line on success; names the first broken link and exits 1 otherwise.

verify reads the files itself, so the server using the directory must be stopped first.`,
		Example: `  switchyard events verify --data ~/.local/share/switchyard`,
		Args:    noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			if err := requireDataDir(dir); err != nil {
				return err
			}
			store, err := embedded.Open(embedded.Config{Dir: dir, ReadOnly: true}, nil)
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			defer store.Close()
			rep, err := eventstore.VerifyAll(cmd.Context(), store)
			if err != nil {
				var ce *event.ChainError
				if errors.As(err, &ce) {
					return fmt.Errorf("verify %s: FAILED after %d good events: %w: the log was changed outside switchyard or is damaged; restore it from a backup", dir, rep.Events, err)
				}
				return fmt.Errorf("verify %s: %w", dir, err)
			}
			if err := writeLine(a.io.Out, rep); err != nil {
				return err
			}
			a.summary("verified %d event%s in %d stream%s up to position %d: every hash chain is intact",
				rep.Events, plural(int(rep.Events)), rep.Streams, plural(int(rep.Streams)), rep.LastPosition)
			return nil
		}),
	}
	a.dataFlag(cmd, &dir)
	return cmd
}

func (a *app) streamsCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "streams",
		Short: "List the streams of the log, with event counts per type",
		Long: `Print the stream catalogue, one JSON line per stream: its name, how many events it holds,
its last version and position, when it was last written, and how many events of each type.`,
		Example: `  switchyard events streams | jq -r '"\(.stream) \(.events)"'`,
		Args:    noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			res, err := c.do(cmd.Context(), "GET", "/api/v1/streams", nil, nil)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			var sr httpapi.StreamsResponse
			if err := json.NewDecoder(res.Body).Decode(&sr); err != nil {
				return fmt.Errorf("list streams: the server's answer is not a stream catalogue: %w", err)
			}
			var total uint64
			for _, si := range sr.Streams {
				if err := writeLine(a.io.Out, si); err != nil {
					return err
				}
				total += si.Events
			}
			a.summary("%d stream%s, %d event%s, catalogue at position %d",
				len(sr.Streams), plural(len(sr.Streams)), total, plural(int(total)), sr.Position)
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	return cmd
}

func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s, got %d argument%s", cmd.CommandPath(), names, len(args), plural(len(args)))
		}
		return nil
	}
}

func writeLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func span(a, b uint64) string {
	if a == b {
		return strconv.FormatUint(a, 10)
	}
	return fmt.Sprintf("%d-%d", a, b)
}
