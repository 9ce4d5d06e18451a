package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/gateway"
	"github.com/switchyard/switchyard/gateway/httpapi"
)

// The commands that manage a running gateway's routing plugins through
// its admin API: install, list, enable, disable.

func (a *app) pluginInstallCmd() *cobra.Command {
	var addr, name, configFile string
	cmd := &cobra.Command{
		Use:   "install FILE.wasm",
		Short: "Upload a routing plugin to the running gateway (it is checked, not yet used)",
		Long: `install uploads the module to the gateway, which loads it once as it would to route (with
--config, if given) and keeps it under <data>/plugins by digest. It does not route anything until
"switchyard plugin enable NAME". Installing a name again replaces its module.`,
		Example: `  switchyard plugin install cheapest.wasm
  switchyard plugin install rules.wasm --name finance --config finance.yaml
  switchyard plugin enable finance`,
		Args: exactArgs(1, "FILE.wasm"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			module, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			if name == "" {
				name = strings.ToLower(strings.TrimSuffix(filepath.Base(args[0]), ".wasm"))
			}
			config, err := readPluginConfig(configFile)
			if err != nil {
				return err
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			var ip gateway.InstalledPlugin
			if err := c.doJSON(cmd.Context(), "PUT", "/api/v1/plugins/"+name, httpapi.PluginUpload{Module: module, Config: config}, &ip); err != nil {
				return err
			}
			fmt.Fprintf(a.io.Out, "%s %s\n", ip.Name, ip.Digest)
			a.summary("plugin %s installed (%d bytes); `%s plugin enable %s` makes it route", ip.Name, ip.Size, a.io.Prog, ip.Name)
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().StringVar(&name, "name", "", "the name to install it under (default: the file's name)")
	cmd.Flags().StringVar(&configFile, "config", "", "its configuration, a .json or .yaml file (what routing_plugin.config holds)")
	return cmd
}

func (a *app) pluginListCmd() *cobra.Command {
	var (
		addr   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the installed routing plugins and the one routing now",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			var st gateway.PluginState
			if err := c.doJSON(cmd.Context(), "GET", "/api/v1/plugins", nil, &st); err != nil {
				return err
			}
			if asJSON {
				return writeLine(a.io.Out, st)
			}
			return printPlugins(a.io.Out, st)
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the state as one JSON object")
	return cmd
}

func printPlugins(w io.Writer, st gateway.PluginState) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tDIGEST\tVERSION\tSTATEFUL\tDESCRIPTION")
	for _, p := range st.Installed {
		state := "installed"
		if p.Name == st.Enabled {
			state = "enabled"
			if st.Active != nil && st.Active.Digest != p.Digest {
				state = "enabled (an older module: enable again)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", p.Name, state, shortDigest(p.Digest), p.Manifest.Version, p.Manifest.Stateful, p.Manifest.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nrouting now: %s\n", describeActive(st.Active))
	return nil
}

func describeActive(l *event.RoutingPluginLoaded) string {
	if l == nil {
		return "the static routes (no routing plugin)"
	}
	s := fmt.Sprintf("%s from %s, %s", l.Name, l.Source, shortDigest(l.Digest))
	if l.ConfigDigest != "" {
		s += ", config " + shortDigest(l.ConfigDigest)
	}
	return s
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

func (a *app) pluginEnableCmd() *cobra.Command {
	var addr, configFile string
	cmd := &cobra.Command{
		Use:   "enable NAME",
		Short: "Make an installed routing plugin route every call, over the config file's routing_plugin",
		Long: `enable swaps the gateway's router for the installed plugin without a restart (calls in flight
finish on the old one) and keeps it enabled across restarts until "switchyard plugin disable".
--config replaces the configuration it was installed with.`,
		Args: exactArgs(1, "NAME"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			config, err := readPluginConfig(configFile)
			if err != nil {
				return err
			}
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			var out struct {
				Active *event.RoutingPluginLoaded `json:"active"`
			}
			if err := c.doJSON(cmd.Context(), "POST", "/api/v1/plugins/"+args[0]+"/enable", httpapi.PluginEnable{Config: config}, &out); err != nil {
				return err
			}
			fmt.Fprintf(a.io.Out, "routing now: %s\n", describeActive(out.Active))
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	cmd.Flags().StringVar(&configFile, "config", "", "configuration to use instead of the installed one (.json or .yaml)")
	return cmd
}

func (a *app) pluginDisableCmd() *cobra.Command {
	var addr string
	cmd := &cobra.Command{
		Use:   "disable",
		Short: "Turn the enabled routing plugin off: the config file decides routes again",
		Args:  noArgs,
		RunE: a.run(func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(addr)
			if err != nil {
				return err
			}
			if err := c.doJSON(cmd.Context(), "POST", "/api/v1/plugins/disable", nil, nil); err != nil {
				return err
			}
			a.summary("the enabled plugin is off; the config file's routing decides")
			return nil
		}),
	}
	a.addrFlag(cmd, &addr)
	return cmd
}

// readPluginConfig reads a plugin configuration file as JSON; "" is none.
func readPluginConfig(path string) (json.RawMessage, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	j, err := gateway.ToJSON(b, filepath.Ext(path))
	if err != nil {
		return nil, fmt.Errorf("--config %s: %w", path, err)
	}
	if !json.Valid(j) {
		return nil, fmt.Errorf("--config %s: not valid JSON", path)
	}
	return j, nil
}
