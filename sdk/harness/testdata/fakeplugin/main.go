// Command fakeplugin serves the fakeharness adapter as a harness plugin.
// FAKEPLUGIN_GRACE sets its stop grace period (a time.Duration).
package main

import (
	"os"
	"time"

	"github.com/switchyard/switchyard/plugins/process"
	"github.com/switchyard/switchyard/sdk/harness"
	"github.com/switchyard/switchyard/sdk/harness/internal/fakeharness"
)

func main() {
	grace, _ := time.ParseDuration(os.Getenv("FAKEPLUGIN_GRACE"))
	harness.Serve(
		process.Description{Name: "fake", Version: "0.1.0"},
		&fakeharness.Adapter{Grace: grace, Log: process.Logger()},
	)
}
