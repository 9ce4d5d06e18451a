package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/gateway/httpapi"
)

// Exit codes.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitConflict = 3
	// exitInterrupted is the shell's code for a command stopped by SIGINT.
	exitInterrupted = 130
)

// Environment variables the commands read.
const (
	envAddr = "SWITCHYARD_ADDR"
	envData = "SWITCHYARD_DATA"
	// envAdminToken is the admin API's token: serve requires it under
	// /api/v1 when set, and the commands that call the API send it.
	envAdminToken = "SWITCHYARD_ADMIN_TOKEN"
)

// IO is the outside world of a command run: where it reads and writes and
// how it sees the environment.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// Getenv reads an environment variable; nil means none is set.
	Getenv func(string) string
	// Prog is how the user runs this binary, for hints: "switchyard" or a
	// relative path such as ".bin/switchyard".
	Prog string

	// onListen, if set, is told where serve listens (tests use port 0).
	onListen func(net.Addr)
}

func (o *IO) getenv(k string) string {
	if o.Getenv == nil {
		return ""
	}
	return o.Getenv(k)
}

// Main runs the command line of this process and returns its exit code.
// SIGINT and SIGTERM cancel the command's context (serve shuts down
// gracefully, tail stops); a second signal kills the process at once.
func Main() int {
	if name := os.Getenv(envHarnessPlugin); name != "" {
		return serveHarnessPlugin(name)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // restore the default action for a second signal
	}()
	return Run(ctx, os.Args[1:], IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv, Prog: progName(os.Args[0])})
}

// progName returns how to show the binary in hints: a relative path as
// typed (".bin/switchyard"), else "switchyard".
func progName(arg0 string) string {
	if arg0 != "" && !filepath.IsAbs(arg0) && strings.ContainsRune(arg0, filepath.Separator) {
		return arg0
	}
	return "switchyard"
}

// Run runs one command line (without the program name) and returns the
// exit code, having printed any error to io.Err.
func Run(ctx context.Context, args []string, io IO) int {
	if io.Prog == "" {
		io.Prog = "switchyard"
	}
	a := &app{io: io}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(io.In)
	root.SetOut(io.Out)
	root.SetErr(io.Err)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if cmd == nil {
		cmd = root
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintf(io.Err, "%s: interrupted\n", io.Prog)
		return exitInterrupted
	}
	code := exitError
	var ue *usageError
	var ce *conflictError
	switch {
	case errors.As(err, &ue) || !a.ran:
		// Errors from before RunE (unknown flags, commands, argument counts)
		// are usage errors too.
		code = exitUsage
		fmt.Fprintf(io.Err, "%s: %v\nRun '%s --help' for usage.\n", io.Prog, err, cmd.CommandPath())
		return code
	case errors.As(err, &ce):
		code = exitConflict
	}
	fmt.Fprintf(io.Err, "%s: %v\n", io.Prog, err)
	return code
}

// app is the state shared by the commands of one run.
type app struct {
	io    IO
	quiet bool
	ran   bool // a RunE started: later errors are not usage errors
}

// usageError is a mistake in how a command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// conflictError marks a version or id conflict (exit code 3).
type conflictError struct{ err error }

func (e *conflictError) Error() string { return e.err.Error() }
func (e *conflictError) Unwrap() error { return e.err }

// run wraps a RunE so that errors it returns are not taken for usage errors.
func (a *app) run(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.ran = true
		return fn(cmd, args)
	}
}

// summary prints a line for people on stderr, unless -q.
func (a *app) summary(format string, args ...any) {
	if !a.quiet {
		fmt.Fprintf(a.io.Err, format+"\n", args...)
	}
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "switchyard",
		Short: "Switchyard runs coding agents for a team over one event log",
		Long: `Switchyard runs coding agents (Claude Code, Codex, OpenCode) for a team: an LLM gateway
and a control plane over one tamper-evident event log.

Start the server with 'switchyard serve' (or 'go tool task demo' in a checkout), then use
'switchyard events' to append, read and follow events. Results for scripts go to stdout as
JSON lines; summaries go to stderr.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// No completion command for now: it would be a surface to keep.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.PersistentFlags().BoolVarP(&a.quiet, "quiet", "q", false, "print no summaries on stderr, only results and errors")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err.Error()} })
	root.AddCommand(a.serveCmd(), a.applyCmd(), a.agentCmd(), a.sessionCmd(), a.costsCmd(), a.auditCmd(), a.traceCmd(), a.replayCmd(), a.whatifCmd(), a.sandboxForwardCmd(), a.eventsCmd(), a.keysCmd(), a.callsCmd(), a.simCmd(), a.pluginCmd(), a.versionCmd())
	return root
}

// addrFlag adds --addr, defaulting to $SWITCHYARD_ADDR or the default address.
func (a *app) addrFlag(cmd *cobra.Command, addr *string) {
	def := a.io.getenv(envAddr)
	if def == "" {
		def = httpapi.DefaultAddr
	}
	cmd.Flags().StringVar(addr, "addr", def, "address of the switchyard server, HOST:PORT (env "+envAddr+")")
}

// dataFlag adds --data, defaulting to $SWITCHYARD_DATA or the user data
// directory.
func (a *app) dataFlag(cmd *cobra.Command, dir *string) {
	def, _ := defaultDataDir(a.io.getenv)
	cmd.Flags().StringVar(dir, "data", def, "data directory (env "+envData+"; otherwise "+userDataHint()+"/switchyard)")
}

func requireDataDir(dir string) error {
	if dir == "" {
		return usagef("no data directory: pass --data DIR or set %s", envData)
	}
	return nil
}

// defaultDataDir is $SWITCHYARD_DATA, else the OS's per-user data
// directory plus /switchyard: $XDG_DATA_HOME or ~/.local/share on Linux
// and BSDs, ~/Library/Application Support on macOS, %LocalAppData% on
// Windows.
func defaultDataDir(getenv func(string) string) (string, error) {
	if d := getenv(envData); d != "" {
		return d, nil
	}
	switch runtime.GOOS {
	case "windows":
		if d := getenv("LocalAppData"); d != "" {
			return filepath.Join(d, "switchyard"), nil
		}
		return "", errors.New("%LocalAppData% is not set")
	case "darwin", "ios":
		if h := getenv("HOME"); h != "" {
			return filepath.Join(h, "Library", "Application Support", "switchyard"), nil
		}
	default:
		if d := getenv("XDG_DATA_HOME"); filepath.IsAbs(d) {
			return filepath.Join(d, "switchyard"), nil
		}
		if h := getenv("HOME"); h != "" {
			return filepath.Join(h, ".local", "share", "switchyard"), nil
		}
	}
	return "", errors.New("$HOME is not set")
}

func userDataHint() string {
	switch runtime.GOOS {
	case "windows":
		return `%LocalAppData%`
	case "darwin", "ios":
		return "~/Library/Application Support"
	}
	return "$XDG_DATA_HOME or ~/.local/share"
}

// version is set at build time with
// -ldflags "-X github.com/switchyard/switchyard/cmd/switchyard/internal/cli.version=v1.2.3";
// otherwise it comes from the module's build info.
var version string

// Version returns the version of this build.
func Version() string {
	if version != "" {
		return version
	}
	v := "devel"
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
	}
	return v
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this build",
		Args:  noArgs,
		RunE: a.run(func(*cobra.Command, []string) error {
			fmt.Fprintf(a.io.Out, "switchyard %s (%s %s/%s)\n", Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		}),
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}
