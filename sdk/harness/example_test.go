package harness_test

import (
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/sdk/harness"
)

func ExampleLines() {
	out := strings.NewReader("{\"type\":\"init\"}\nnot JSON\n{\"type\":\"result\"}\n")
	for line, err := range harness.Lines(out, 0) {
		if err != nil {
			fmt.Println("error:", err)
			continue
		}
		fmt.Println(line.N, line.Object, string(line.Raw()))
	}
	// Output:
	// 1 true {"type":"init"}
	// 2 false "not JSON"
	// 3 true {"type":"result"}
}

func ExampleChecked() {
	emit := harness.Checked(func(e harness.Event) error {
		fmt.Println(e.Kind, e.HarnessSessionID)
		return nil
	})
	_ = emit(harness.Event{Kind: harness.KindStarted, HarnessSessionID: "abc"})
	_ = emit(harness.Event{Kind: harness.KindMessage, Message: &harness.Message{Role: harness.RoleAssistant, Text: "hi"}})
	_ = emit(harness.Event{Kind: harness.KindCompleted, Completed: &harness.Completed{Result: "hi"}})
	fmt.Println(emit(harness.Event{Kind: harness.KindMessage, Message: &harness.Message{Role: harness.RoleAssistant}}))
	// Output:
	// started abc
	// message abc
	// completed abc
	// event 4 (message): invalid event: it follows the run's terminal event
}

func ExampleStartRequest_Validate() {
	req := harness.StartRequest{SessionID: "s1", Prompt: "fix the bug", CLIPath: "claude", Workdir: "/work", StateDir: "state"}
	fmt.Println(req.Validate())
	// Output:
	// invalid harness request: state_dir "state" is relative: make it absolute
}
