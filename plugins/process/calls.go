package process

import (
	"context"
	"fmt"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// callOptions are the dial options of every connection to a plugin
// process. gRPC already returns as soon as a call's ctx is done; these
// interceptors make errors say why in Go terms. Every error names the
// plugin and the method. When the call's ctx ended it, the error wraps
// ctx.Err() next to the gRPC error, so both errors.Is(err,
// context.DeadlineExceeded) and status.Code(err) work. When the process
// died or the host stopped it, the code is Unavailable: gRPC says Canceled
// ("the client connection is closing") when the host closed the
// connection first, which looks like the caller's doing.
func callOptions(plugin string, stopped <-chan struct{}) []grpc.DialOption {
	callError := func(ctx context.Context, method string, err error) error {
		if err == nil || err == io.EOF { // io.EOF ends a stream; callers compare it with ==
			return err
		}
		ctxErr := ctx.Err()
		if d, ok := ctx.Deadline(); ok && ctxErr == nil && !time.Now().Before(d) {
			// gRPC saw the deadline pass before ctx's timer fired.
			ctxErr = context.DeadlineExceeded
		}
		switch {
		case ctxErr != nil:
			return fmt.Errorf("plugin %q: %s: %w (%w)", plugin, method, ctxErr, err)
		case status.Code(err) == codes.Canceled && isClosed(stopped):
			err = status.Error(codes.Unavailable, "the plugin process is stopping: "+status.Convert(err).Message())
		}
		return fmt.Errorf("plugin %q: %s: %w", plugin, method, err)
	}
	return []grpc.DialOption{
		grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any,
			cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			return callError(ctx, method, invoker(ctx, method, req, reply, cc, opts...))
		}),
		grpc.WithChainStreamInterceptor(func(ctx context.Context, desc *grpc.StreamDesc,
			cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
			s, err := streamer(ctx, desc, cc, method, opts...)
			if err != nil {
				return nil, callError(ctx, method, err)
			}
			return &clientStream{ClientStream: s, wrap: func(err error) error { return callError(ctx, method, err) }}, nil
		}),
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// clientStream gives a stream's errors the same treatment.
type clientStream struct {
	grpc.ClientStream
	wrap func(error) error
}

func (s *clientStream) SendMsg(m any) error { return s.wrap(s.ClientStream.SendMsg(m)) }

func (s *clientStream) RecvMsg(m any) error { return s.wrap(s.ClientStream.RecvMsg(m)) }
