// Package testsvc is the gRPC service of the package's test plugin, written
// by hand (no protoc): unary methods that take and return a string, and
// one server stream, all over wrapperspb.StringValue.
package testsvc

import (
	"context"
	"time"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Name is the plugin's key in its plugin set.
const Name = "test"

const service = "switchyard.process.test.Test"

// Handler is the server side of a unary method.
type Handler func(ctx context.Context, arg string) (string, error)

// Plugin serves Handlers and dispenses a Client.
type Plugin struct {
	plugin.NetRPCUnsupportedPlugin
	Handlers map[string]Handler // by method name
}

var _ plugin.GRPCPlugin = (*Plugin)(nil)

func (p *Plugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	desc := grpc.ServiceDesc{
		ServiceName: service,
		HandlerType: (*any)(nil),
		Streams: []grpc.StreamDesc{{
			StreamName: "Tick", ServerStreams: true, Handler: tick,
		}},
	}
	for name, h := range p.Handlers {
		desc.Methods = append(desc.Methods, grpc.MethodDesc{MethodName: name, Handler: unary(name, h)})
	}
	s.RegisterService(&desc, nil)
	return nil
}

func unary(name string, h Handler) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	return func(srv any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
		in := new(wrapperspb.StringValue)
		if err := dec(in); err != nil {
			return nil, err
		}
		call := func(ctx context.Context, req any) (any, error) {
			out, err := h(ctx, req.(*wrapperspb.StringValue).GetValue())
			if err != nil {
				return nil, err
			}
			return wrapperspb.String(out), nil
		}
		if ic == nil {
			return call(ctx, in)
		}
		return ic(ctx, in, &grpc.UnaryServerInfo{Server: srv, FullMethod: "/" + service + "/" + name}, call)
	}
}

// tick sends "tick" at the interval in the request (a time.Duration
// string) until the client goes away.
func tick(_ any, s grpc.ServerStream) error {
	in := new(wrapperspb.StringValue)
	if err := s.RecvMsg(in); err != nil {
		return err
	}
	every, err := time.ParseDuration(in.GetValue())
	if err != nil {
		return err
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.SendMsg(wrapperspb.String("tick")); err != nil {
			return err
		}
		select {
		case <-s.Context().Done():
			return s.Context().Err()
		case <-t.C:
		}
	}
}

func (p *Plugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return Client{c}, nil
}

// Client calls the test service.
type Client struct{ conn *grpc.ClientConn }

// Call calls a unary method.
func (c Client) Call(ctx context.Context, method, arg string) (string, error) {
	out := new(wrapperspb.StringValue)
	err := c.conn.Invoke(ctx, "/"+service+"/"+method, wrapperspb.String(arg), out)
	return out.GetValue(), err
}

// Tick opens the stream; next returns each message.
func (c Client) Tick(ctx context.Context, every time.Duration) (next func() (string, error), err error) {
	s, err := c.conn.NewStream(ctx, &grpc.StreamDesc{StreamName: "Tick", ServerStreams: true}, "/"+service+"/Tick")
	if err != nil {
		return nil, err
	}
	if err := s.SendMsg(wrapperspb.String(every.String())); err != nil {
		return nil, err
	}
	if err := s.CloseSend(); err != nil {
		return nil, err
	}
	return func() (string, error) {
		out := new(wrapperspb.StringValue)
		err := s.RecvMsg(out)
		return out.GetValue(), err
	}, nil
}
