package cli

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// sandboxForwardCmd runs inside a session's bubblewrap sandbox, whose
// network namespace has only its own loopback: it listens on the
// gateway's address there, forwards each connection to the gateway's
// unix socket (bind-mounted in), and runs the harness CLI as its child.
// So the CLI reaches the gateway, at the address it was given, and
// nothing else.
func (a *app) sandboxForwardCmd() *cobra.Command {
	var listen, socket string
	cmd := &cobra.Command{
		Use:    "sandbox-forward --listen HOST:PORT --socket PATH -- COMMAND [ARGS...]",
		Short:  "Forward the gateway into a session's sandbox and run the harness CLI (used by serve)",
		Hidden: true,
		Args:   cobra.MinimumNArgs(1),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("sandbox-forward: %w", err)
			}
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go forward(c, socket)
				}
			}()
			child := exec.Command(args[0], args[1:]...)
			child.Stdin, child.Stdout, child.Stderr = os.Stdin, os.Stdout, os.Stderr
			if err := child.Start(); err != nil {
				return fmt.Errorf("sandbox-forward: %w", err)
			}
			sigs := make(chan os.Signal, 4)
			signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
			go func() {
				for s := range sigs {
					child.Process.Signal(s)
				}
			}()
			err = child.Wait()
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code := ee.ExitCode()
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					code = 128 + int(ws.Signal())
				}
				os.Exit(code)
			}
			return err
		}),
	}
	cmd.Flags().StringVar(&listen, "listen", "", "the gateway's address, to listen on inside the sandbox")
	cmd.Flags().StringVar(&socket, "socket", "", "the gateway's unix socket")
	return cmd
}

func forward(c net.Conn, socket string) {
	defer c.Close()
	u, err := net.Dial("unix", socket)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(u, c); u.(*net.UnixConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, u); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}
