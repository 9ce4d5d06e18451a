// Command switchyard is the single Switchyard binary: the server and the CLI
// that talks to it. Run `switchyard --help`.
package main

import (
	"os"

	"github.com/switchyard/switchyard/cmd/switchyard/internal/cli"
)

func main() { os.Exit(cli.Main()) }
