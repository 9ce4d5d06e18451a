package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/switchyard/switchyard/plugins/process"
)

const (
	// ProtocolVersion is the version of the harness protocol this package
	// speaks: the gRPC service below, and the JSON of Run, Event and Info.
	ProtocolVersion = 1
	// PluginName is the adapter's key in a plugin binary's plugin set.
	PluginName = "harness"
	// PluginKind is the process.Description kind of harness plugins.
	PluginKind = "harness"
	// DefaultStopWait is how long a Client waits, after asking the plugin
	// to stop a run, for the run to end before it gives up on it.
	DefaultStopWait = 30 * time.Second
)

// The service, written by hand (there is no .proto): every message is a
// wrapperspb.BytesValue holding JSON.
//
//	Describe(empty) returns (Info)
//	Run(stream Run, then nothing until stop) returns (stream Event)
//
// Run is a bidirectional stream so that stop is a message, not a
// cancellation: the client sends the Run and keeps its side open; closing
// it (CloseSend) asks the plugin to stop the run, and the client reads on
// until the plugin has stopped the CLI and ends the stream, with the run's
// error as the status. Cancelling the stream stops the run too, but the
// client no longer learns when the CLI is gone.
const service = "switchyard.harness.v1.Adapter"

var runStream = grpc.StreamDesc{StreamName: "Run", ServerStreams: true, ClientStreams: true}

// Plugin is the go-plugin plugin of a harness adapter: its server serves
// Impl, its client is a *Client. Plugin binaries serve it with Serve;
// hosts accept it with HostVersions.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	// Impl is the adapter served (plugin side only).
	Impl Adapter
	// StopWait configures the Clients it dispenses (host side only).
	// Default DefaultStopWait.
	StopWait time.Duration
}

var (
	_ plugin.GRPCPlugin = (*Plugin)(nil)
	_ Adapter           = (*Client)(nil)
)

// PluginSet is the plugin set a binary serving a serves, by protocol
// version: process.ServeConfig.Plugins.
func PluginSet(a Adapter) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: {PluginName: &Plugin{Impl: a}}}
}

// HostVersions is what a host accepts from harness plugins:
// process.Config.Versions.
func HostVersions() map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{ProtocolVersion: {PluginName: &Plugin{}}}
}

// Serve is a harness plugin binary's main: it serves a with
// process.Serve. desc.Kind is set to PluginKind, and desc.Metadata gets the
// adapter's Info (harness, cli, adapter_version).
func Serve(desc process.Description, a Adapter) {
	desc.Kind = PluginKind
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	info, err := a.Describe(ctx)
	cancel()
	if err == nil {
		md := map[string]string{"harness": info.Harness, "cli": info.CLI, "adapter_version": info.Version}
		for k, v := range desc.Metadata {
			md[k] = v
		}
		desc.Metadata = md
	}
	process.Serve(process.ServeConfig{Description: desc, Plugins: PluginSet(a)})
}

// Dispense returns the adapter a harness plugin serves.
func Dispense(ctx context.Context, p *process.Plugin) (Adapter, error) {
	return process.Dispense[*Client](ctx, p, PluginName)
}

// GRPCServer registers the service, serving p.Impl.
func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.Impl == nil {
		return errors.New("harness plugin: Impl is nil")
	}
	srv := &server{impl: p.Impl}
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: service,
		HandlerType: (*any)(nil),
		Methods:     []grpc.MethodDesc{{MethodName: "Describe", Handler: srv.describe}},
		Streams: []grpc.StreamDesc{{
			StreamName: runStream.StreamName, ServerStreams: true, ClientStreams: true, Handler: srv.run,
		}},
	}, nil)
	return nil
}

// GRPCClient returns a *Client.
func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	wait := p.StopWait
	if wait <= 0 {
		wait = DefaultStopWait
	}
	return &Client{conn: c, stopWait: wait}, nil
}

type server struct{ impl Adapter }

func (s *server) describe(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
	in := new(wrapperspb.BytesValue)
	if err := dec(in); err != nil {
		return nil, err
	}
	call := func(ctx context.Context, _ any) (any, error) {
		info, err := s.impl.Describe(ctx)
		if err != nil {
			return nil, toStatus(ctx, err)
		}
		b, err := json.Marshal(info)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "encode info: %v", err)
		}
		return wrapperspb.Bytes(b), nil
	}
	if ic == nil {
		return call(ctx, in)
	}
	return ic(ctx, in, &grpc.UnaryServerInfo{Server: s, FullMethod: "/" + service + "/Describe"}, call)
}

func (s *server) run(_ any, stream grpc.ServerStream) error {
	in := new(wrapperspb.BytesValue)
	if err := stream.RecvMsg(in); err != nil {
		return err
	}
	var r Run
	if err := json.Unmarshal(in.GetValue(), &r); err != nil {
		return status.Errorf(codes.InvalidArgument, "decode run: %v", err)
	}
	if err := r.Validate(); err != nil {
		return toStatus(stream.Context(), err)
	}
	ctx, stop := context.WithCancel(stream.Context())
	defer stop()
	go func() {
		// The client closes its side to stop the run. Nothing else comes.
		for stream.RecvMsg(new(wrapperspb.BytesValue)) == nil {
		}
		stop()
	}()
	check := &checker{emit: func(e Event) error {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode event: %w", err)
		}
		return stream.SendMsg(wrapperspb.Bytes(b))
	}}
	err := s.impl.Run(ctx, &r, check.Emit)
	switch {
	case err != nil:
		return toStatus(ctx, err)
	case !check.ended:
		return status.Error(codes.Internal, errNoTerminal.Error())
	}
	return nil
}

// toStatus turns an adapter's error into a gRPC status.
func toStatus(ctx context.Context, err error) error {
	code := codes.Unknown
	switch {
	case errors.Is(err, ErrInvalidRequest):
		code = codes.InvalidArgument
	case errors.Is(err, context.DeadlineExceeded):
		code = codes.DeadlineExceeded
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		code = codes.Canceled
	}
	return status.Error(code, err.Error())
}

// Client is an Adapter served by a plugin process: what Dispense
// returns. Calls behave as the plugin's adapter's, with one difference:
// when the plugin process dies, Run returns an error without a terminal
// event (and the plugin's own supervision kills the CLI).
type Client struct {
	conn     *grpc.ClientConn
	stopWait time.Duration
}

// Describe asks the plugin's adapter.
func (c *Client) Describe(ctx context.Context) (Info, error) {
	var info Info
	out := new(wrapperspb.BytesValue)
	if err := c.conn.Invoke(ctx, "/"+service+"/Describe", wrapperspb.Bytes(nil), out); err != nil {
		return info, fromStatus(ctx, "describe harness", err)
	}
	if err := json.Unmarshal(out.GetValue(), &info); err != nil {
		return info, fmt.Errorf("describe harness: decode info: %w", err)
	}
	return info, nil
}

// Run runs r on the plugin's adapter. When ctx is done it asks the plugin
// to stop the run and returns, with an error wrapping ctx.Err(), once the
// CLI is gone, or after the client's StopWait at most.
func (c *Client) Run(ctx context.Context, r *Run, emit Emit) error {
	if err := r.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode run: %w", err)
	}
	// The stream outlives ctx, to learn when the stopped run has ended.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stream, err := c.conn.NewStream(sctx, &runStream, "/"+service+"/Run")
	if err != nil {
		return fromStatus(ctx, "run harness", err)
	}
	if err := stream.SendMsg(wrapperspb.Bytes(b)); err != nil {
		return fromStatus(ctx, "run harness", err)
	}
	var stopOnce sync.Once
	stop := func() { stopOnce.Do(func() { _ = stream.CloseSend() }) }
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-finished:
			return
		}
		t := time.NewTimer(c.stopWait)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-finished:
		}
	}()
	var emitErr error
	for {
		m := new(wrapperspb.BytesValue)
		if err := stream.RecvMsg(m); err != nil {
			switch {
			case emitErr != nil:
				return emitErr
			case err == io.EOF:
				return nil
			}
			return fromStatus(ctx, "run harness", err)
		}
		if emitErr != nil {
			continue // stopping: drain
		}
		var e Event
		if err := json.Unmarshal(m.GetValue(), &e); err != nil {
			emitErr = fmt.Errorf("run harness: decode event: %w", err)
			stop()
			continue
		}
		if err := emit(e); err != nil {
			emitErr = err
			stop()
		}
	}
}

// remoteError is an error from the plugin, matching the sentinel its
// status code stands for.
type remoteError struct {
	msg string
	is  error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.is }

// fromStatus turns a call's error back into a Go error.
func fromStatus(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: stopped: %w (%v)", op, ctx.Err(), status.Convert(err).Message())
	}
	st := status.Convert(err)
	switch st.Code() {
	case codes.InvalidArgument:
		return &remoteError{msg: st.Message(), is: ErrInvalidRequest}
	case codes.Unknown:
		return fmt.Errorf("%s: %s", op, st.Message())
	}
	return fmt.Errorf("%s: %w", op, err)
}
