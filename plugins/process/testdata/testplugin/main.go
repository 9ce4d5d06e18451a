//go:build unix

// Command testplugin is the process host's test plugin. Environment
// variables pick its behaviour:
//
//	TESTPLUGIN_MODE=foreign       a go-plugin plugin of another program (another cookie)
//	TESTPLUGIN_MODE=wrong-cookie  answers describe, then serves with another cookie value
//	TESTPLUGIN_MODE=not-a-plugin  prints a line and exits
//	TESTPLUGIN_VERSIONS=2,3       the protocol versions it speaks (default 1)
//	TESTPLUGIN_FAIL_IF=FILE       exits 1 at once while FILE exists
//	TESTPLUGIN_CHILD=1            a child of the plugin: sleeps for an hour
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-plugin"

	"github.com/switchyard/switchyard/plugins/process"
	"github.com/switchyard/switchyard/plugins/process/internal/testsvc"
)

func main() {
	if os.Getenv("TESTPLUGIN_CHILD") != "" {
		time.Sleep(time.Hour)
		return
	}
	if f := os.Getenv("TESTPLUGIN_FAIL_IF"); f != "" {
		if _, err := os.Stat(f); err == nil {
			fmt.Fprintln(os.Stderr, "testplugin: failing on purpose:", f, "exists")
			os.Exit(1)
		}
	}
	set := plugin.PluginSet{testsvc.Name: &testsvc.Plugin{Handlers: handlers}}
	switch os.Getenv("TESTPLUGIN_MODE") {
	case "foreign":
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig: plugin.HandshakeConfig{MagicCookieKey: "OTHER_PROGRAM_PLUGIN", MagicCookieValue: "x", ProtocolVersion: 1},
			Plugins:         set,
			GRPCServer:      plugin.DefaultGRPCServer,
		})
		return
	case "wrong-cookie":
		if len(os.Args) == 2 && os.Args[1] == "describe" {
			fmt.Println(`{"name":"test","kind":"test","protocol_versions":[1]}`)
			return
		}
		hs := process.Handshake
		hs.MagicCookieValue += "-v2"
		hs.ProtocolVersion = 1
		plugin.Serve(&plugin.ServeConfig{HandshakeConfig: hs, Plugins: set, GRPCServer: plugin.DefaultGRPCServer})
		return
	case "not-a-plugin":
		fmt.Println("hello, I am just a program")
		return
	}
	versions := map[int]plugin.PluginSet{}
	for v := range strings.SplitSeq(cmp.Or(os.Getenv("TESTPLUGIN_VERSIONS"), "1"), ",") {
		n, err := strconv.Atoi(v)
		if err != nil {
			panic(err)
		}
		versions[n] = set
	}
	process.Serve(process.ServeConfig{
		Description: process.Description{
			Name: "test", Kind: "test", Version: "0.1.0",
			Capabilities: []string{"echo", "sleep"},
			Metadata:     map[string]string{"language": "go"},
		},
		Plugins: versions,
	})
}

var (
	log = process.Logger()
	fd2 = os.Stderr // before plugin.Serve points os.Stderr at a pipe
)

var handlers = map[string]testsvc.Handler{
	"Echo": func(_ context.Context, s string) (string, error) { return s, nil },
	// Sleep sleeps for the duration given, or until the call is cancelled.
	"Sleep": func(ctx context.Context, s string) (string, error) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return "", err
		}
		select {
		case <-time.After(d):
			return "slept", nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	},
	// Crash exits with the code given, or panics with "panic".
	"Crash": func(_ context.Context, s string) (string, error) {
		if s == "panic" {
			panic("boom")
		}
		code, err := strconv.Atoi(s)
		if err != nil {
			return "", err
		}
		// Not os.Stderr: go-plugin streams that over gRPC, and the stream
		// dies with the process before the line gets through.
		fmt.Fprintf(fd2, "testplugin: exiting with %d\n", code)
		os.Exit(code)
		return "", nil
	},
	// Freeze stops the process (SIGSTOP): it hangs, its health checks too.
	"Freeze": func(ctx context.Context, _ string) (string, error) {
		if err := syscall.Kill(os.Getpid(), syscall.SIGSTOP); err != nil {
			return "", err
		}
		// The stop can take effect after kill returns: never answer.
		<-ctx.Done()
		return "", ctx.Err()
	},
	// Log writes s to stdout and to stderr in three ways: a raw line
	// through os.Stderr (go-plugin streams os.Stdout and os.Stderr to the
	// host over gRPC), a raw line straight to file descriptor 2, and a
	// structured line from process.Logger.
	"Log": func(_ context.Context, s string) (string, error) {
		fmt.Println("stdout:", s)
		fmt.Fprintln(os.Stderr, "raw via os.Stderr:", s)
		fmt.Fprintln(fd2, "raw via fd 2:", s)
		log.Warn("structured", "text", s, "n", 7)
		return "", nil
	},
	// Spawn starts a child process that sleeps, and returns its pid.
	"Spawn": func(context.Context, string) (string, error) {
		exe, err := os.Executable()
		if err != nil {
			return "", err
		}
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), "TESTPLUGIN_CHILD=1")
		if err := cmd.Start(); err != nil {
			return "", err
		}
		return strconv.Itoa(cmd.Process.Pid), nil
	},
	"Env":  func(_ context.Context, s string) (string, error) { return os.Getenv(s), nil },
	"Fail": func(context.Context, string) (string, error) { return "", errors.New("failed on purpose") },
}
