// Command fakecli is a fake harness CLI for the tests of package harness:
// it prints the lines of its prompt (-p) as they are, and obeys the lines
// that start with "!":
//
//	!init           print {"type":"init","session_id":ID} and keep the session in
//	                $FAKECLI_STATE/sessions: ID is the --resume id, which must exist,
//	                or fake-$FAKECLI_SESSION
//	!sleep D        sleep for the time.Duration D
//	!spawn          start a child (in the same process group) that sleeps an hour,
//	                and print its pid in a system message "spawned PID"
//	!pid            print a system message "pid PID"
//	!ignore-term    ignore SIGTERM from now on (the children started after too)
//	!exit N         exit with status N
//	!stderr TEXT    print TEXT on stderr
//	!alloc MB       allocate and touch MB megabytes
//	!big N          print an assistant message of N bytes
//	!busy           burn CPU forever
//	!env VAR        print a system message "VAR=value"
//	!stdin          read stdin to its end, print a system message "stdin: N bytes"
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if os.Getenv("FAKECLI_CHILD") != "" {
		time.Sleep(time.Hour)
		return
	}
	var prompt, resume string
	for i := 1; i+1 < len(os.Args); i += 2 {
		switch os.Args[i] {
		case "-p":
			prompt = os.Args[i+1]
		case "--resume":
			resume = os.Args[i+1]
		default:
			fail(2, "unknown flag %s", os.Args[i])
		}
	}
	for line := range strings.Lines(prompt) {
		line = strings.TrimRight(line, "\n")
		if !strings.HasPrefix(line, "!") {
			fmt.Println(line)
			continue
		}
		cmd, arg, _ := strings.Cut(line[1:], " ")
		switch cmd {
		case "init":
			id := "fake-" + os.Getenv("FAKECLI_SESSION")
			dir := filepath.Join(os.Getenv("FAKECLI_STATE"), "sessions")
			if resume != "" {
				id = resume
				if _, err := os.Stat(filepath.Join(dir, id)); err != nil {
					fail(1, "no session %s: %v", id, err)
				}
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				fail(1, "%v", err)
			}
			f, err := os.OpenFile(filepath.Join(dir, id), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
			if err != nil {
				fail(1, "%v", err)
			}
			fmt.Fprintln(f, prompt)
			f.Close()
			out(map[string]any{"type": "init", "session_id": id})
		case "sleep":
			d, err := time.ParseDuration(arg)
			if err != nil {
				fail(2, "%v", err)
			}
			time.Sleep(d)
		case "spawn":
			c := exec.Command(os.Args[0])
			c.Env = append(os.Environ(), "FAKECLI_CHILD=1")
			if err := c.Start(); err != nil {
				fail(1, "%v", err)
			}
			system(fmt.Sprintf("spawned %d", c.Process.Pid))
		case "pid":
			system(fmt.Sprintf("pid %d", os.Getpid()))
		case "ignore-term":
			signal.Ignore(syscall.SIGTERM)
		case "exit":
			n, _ := strconv.Atoi(arg)
			os.Exit(n)
		case "stderr":
			fmt.Fprintln(os.Stderr, arg)
		case "alloc":
			n, _ := strconv.Atoi(arg)
			b := make([]byte, n<<20)
			for i := range b {
				b[i] = 1
			}
			system(fmt.Sprintf("allocated %d", len(b)))
		case "big":
			n, _ := strconv.Atoi(arg)
			out(map[string]any{"type": "text", "role": "assistant", "text": strings.Repeat("x", n)})
		case "busy":
			for {
			}
		case "env":
			system(arg + "=" + os.Getenv(arg))
		case "stdin":
			b, _ := io.ReadAll(os.Stdin)
			system(fmt.Sprintf("stdin: %d bytes", len(b)))
		default:
			fail(2, "unknown command %q", line)
		}
	}
}

func out(v any) {
	b, _ := json.Marshal(v)
	fmt.Println(string(b))
}

func system(text string) { out(map[string]any{"type": "text", "role": "system", "text": text}) }

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fakecli: "+format+"\n", args...)
	os.Exit(code)
}
