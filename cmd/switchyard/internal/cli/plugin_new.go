package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/format"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
)

// switchyardModule is the module path of this repository, which plugins
// require for sdk/routing and conformance/routing.
const switchyardModule = "github.com/switchyard/switchyard"

func (a *app) pluginNewCmd() *cobra.Command {
	var name, sdk string
	cmd := &cobra.Command{
		Use:   "new DIR",
		Short: "Start a Go routing plugin that builds and passes its tests as it is",
		Long: `new writes a small routing plugin into DIR: main.go, which sends code reviews to Claude and
every other call by the default route, with an optional JSON configuration; and plugin_test.go,
which builds it for wasip1, runs the conformance suite (conformance/routing) on it and checks
three decisions. It never overwrites a file.

In a switchyard checkout, DIR is part of the switchyard module and gets no go.mod. Anywhere else
DIR becomes a module of its own, named --name, that requires ` + switchyardModule + `
and replaces it with the checkout given by --sdk: the module is not published, so the go
command cannot download it.`,
		Example: `  switchyard plugin new ./myrouter --sdk ~/src/switchyard
  switchyard plugin test ./myrouter`,
		Args: exactArgs(1, "DIR"),
		RunE: a.run(func(cmd *cobra.Command, args []string) error {
			return a.pluginNew(cmd.Context(), args[0], name, sdk)
		}),
	}
	cmd.Flags().StringVar(&name, "name", "", "the module path of a new module, whose last element names the plugin (default: DIR's name)")
	cmd.Flags().StringVar(&sdk, "sdk", "", "a switchyard checkout for the new module's replace directive (needed outside a checkout)")
	return cmd
}

func (a *app) pluginNew(ctx context.Context, dir, name, sdk string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if name == "" {
		name = filepath.Base(abs)
	}
	if err := checkModulePath(name); err != nil {
		return usagef("%v: pass --name with a module path, such as example.com/myrouter", err)
	}
	type file struct {
		name string
		b    []byte
	}
	var files []file
	data := struct{ Name string }{path.Base(name)}
	for _, tmpl := range []*template.Template{pluginMainTmpl, pluginTestTmpl} {
		var b bytes.Buffer
		if err := tmpl.Execute(&b, data); err != nil {
			return err
		}
		src, err := format.Source(b.Bytes())
		if err != nil {
			return fmt.Errorf("format %s: %w", tmpl.Name(), err)
		}
		files = append(files, file{tmpl.Name(), src})
	}
	root, err := moduleRoot(abs)
	if err != nil {
		return err
	}
	var note string
	switch {
	case root != "":
		note = fmt.Sprintf("no go.mod: %s is in the %s module (%s)", dir, switchyardModule, root)
		if sdk != "" {
			note += "; --sdk is not needed"
		}
	case sdk == "":
		return usagef("%s is outside a switchyard checkout, so it needs a go.mod of its own, and %s is not published to any module proxy for it to require: pass --sdk PATH, the root of a switchyard checkout, to build against", dir, switchyardModule)
	default:
		goMod, goSum, err := pluginGoMod(ctx, name, dir, sdk)
		if err != nil {
			return err
		}
		files = append(files, file{"go.mod", goMod}, file{"go.sum", goSum})
	}

	var exist []string
	for _, f := range files {
		if _, err := os.Lstat(filepath.Join(abs, f.name)); err == nil {
			exist = append(exist, f.name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	if len(exist) > 0 {
		return fmt.Errorf("%s already has %s: plugin new writes only new files; move them away or choose another directory", dir, strings.Join(exist, ", "))
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err := writeNew(filepath.Join(abs, f.name), f.b); err != nil {
			return err
		}
		fmt.Fprintf(a.io.Out, "created %s\n", filepath.Join(dir, f.name))
	}
	// What to do next is for people: a summary, on stderr.
	if note != "" {
		a.summary("%s", note)
	}
	next := [][2]string{
		{a.io.Prog + " plugin build " + dir, "writes " + filepath.Base(abs) + ".wasm, for the gateway's routing_plugin.path"},
		{a.io.Prog + " plugin test " + dir, "runs the conformance suite"},
		{"(cd " + dir + " && go test)", "runs it too, and the plugin's own test"},
	}
	width := 0
	for _, n := range next {
		width = max(width, len(n[0]))
	}
	a.summary("\nnext:")
	for _, n := range next {
		a.summary("  %-*s  # %s", width, n[0], n[1])
	}
	return nil
}

// writeNew writes a file that must not exist yet.
func writeNew(name string, b []byte) error {
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// moduleRoot returns the root of the switchyard module dir is in, or ""
// when the nearest go.mod above dir is another module's, or there is none.
func moduleRoot(dir string) (string, error) {
	for d := dir; ; {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		switch {
		case err == nil:
			if modFile(b).module == switchyardModule {
				return d, nil
			}
			return "", nil
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission):
			return "", err
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", nil
		}
		d = parent
	}
}

// goModInfo is what plugin new needs of a go.mod.
type goModInfo struct{ module, goVersion string }

// modFile reads the module and go lines of a go.mod.
func modFile(b []byte) goModInfo {
	var m goModInfo
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		line, _, _ := strings.Cut(s.Text(), "//")
		switch f := strings.Fields(line); {
		case len(f) == 2 && f[0] == "module":
			m.module = strings.Trim(f[1], "\"`")
		case len(f) == 2 && f[0] == "go":
			m.goVersion = f[1]
		}
	}
	return m
}

// checkModulePath checks what a go.mod's module line takes: slash-separated
// elements of letters, digits and - . _ ~, none empty, "." or "..".
func checkModulePath(p string) error {
	for _, e := range strings.Split(p, "/") {
		ok := e != "" && e != "." && e != ".." && !strings.HasPrefix(e, "-")
		for _, r := range e {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~", r)) {
				ok = false
			}
		}
		if !ok {
			return fmt.Errorf("%q is not a module path", p)
		}
	}
	return nil
}

// pluginGoMod writes the go.mod of a plugin module outside the switchyard
// module: the go version of the checkout at sdk, a requirement of
// switchyard replaced by that checkout, and the modules the plugin and its
// test need from it, at the checkout's versions (the go command asks
// sdk's module graph: go list). Its go.sum is the checkout's.
func pluginGoMod(ctx context.Context, name, dir, sdk string) (goMod, goSum []byte, err error) {
	sdkAbs, err := filepath.Abs(sdk)
	if err != nil {
		return nil, nil, err
	}
	dirAbs, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, err
	}
	b, err := os.ReadFile(filepath.Join(sdkAbs, "go.mod"))
	if err != nil {
		return nil, nil, fmt.Errorf("--sdk %s: %w; give the root of a switchyard checkout", sdk, err)
	}
	m := modFile(b)
	if m.module != switchyardModule {
		return nil, nil, fmt.Errorf("--sdk %s: its go.mod is module %q, not %s; give the root of a switchyard checkout", sdk, m.module, switchyardModule)
	}
	goSum, err = os.ReadFile(filepath.Join(sdkAbs, "go.sum"))
	if err != nil {
		return nil, nil, fmt.Errorf("--sdk %s: %w", sdk, err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, nil, fmt.Errorf("plugin new needs the Go toolchain (go) on PATH: %w", err)
	}
	list := exec.CommandContext(ctx, goBin, "list", "-deps", "-f", "{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}}{{end}}{{end}}",
		"./sdk/routing", "./conformance/routing", "./plugins/wasm")
	list.Dir = sdkAbs
	var stderr bytes.Buffer
	list.Stderr = &stderr
	out, err := list.Output()
	if err != nil {
		return nil, nil, fmt.Errorf("list the modules a plugin needs from %s (go list): %w\n%s", sdk, err, stderr.Bytes())
	}
	seen := map[string]bool{}
	var reqs []string
	for l := range strings.Lines(string(out)) {
		if l = strings.TrimSpace(l); l != "" && !seen[l] {
			seen[l] = true
			reqs = append(reqs, l)
		}
	}
	// Given both relative to the working directory, the module and the
	// checkout stay relative to each other, and can move together.
	replace := sdkAbs
	if !filepath.IsAbs(sdk) && !filepath.IsAbs(dir) {
		if rel, err := filepath.Rel(dirAbs, sdkAbs); err == nil {
			replace = filepath.ToSlash(rel)
			if !strings.HasPrefix(replace, "../") {
				replace = "./" + replace
			}
		}
	}
	var g bytes.Buffer
	fmt.Fprintf(&g, "module %s\n\ngo %s\n\nrequire %s v0.0.0-00010101000000-000000000000\n", name, m.goVersion, switchyardModule)
	if len(reqs) > 0 {
		g.WriteString("\nrequire (\n")
		for _, r := range reqs {
			fmt.Fprintf(&g, "\t%s // indirect\n", r)
		}
		g.WriteString(")\n")
	}
	fmt.Fprintf(&g, "\n// %s is not published: build against a checkout.\nreplace %s => %s\n", switchyardModule, switchyardModule, replace)
	return g.Bytes(), goSum, nil
}

var pluginMainTmpl = template.Must(template.New("main.go").Parse(`// Command {{.Name}} is a Switchyard routing plugin. For each model call the
// gateway hands it the facts (the requested model, the task type and tags,
// every target with its health and price) and it answers with the targets
// to try, in order, and why.
//
// This one sends code reviews to Claude while Claude is healthy, and every
// other call by the gateway's default route. Build and test it with
//
//	switchyard plugin build . -o {{.Name}}.wasm
//	switchyard plugin test .
//	go test
//
// and load it in the gateway's config:
//
//	gateway:
//	  routing_plugin:
//	    path: {{.Name}}.wasm
//	    config: {review: anthropic}
//
// docs/routing-plugins.md in the switchyard repository has the rest.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/switchyard/switchyard/sdk/routing"
)

// Config is the plugin's configuration, the gateway's
// routing_plugin.config as JSON. It is optional.
type Config struct {
	// Review is the provider code reviews go to; default "anthropic".
	Review string ` + "`json:\"review\"`" + `
}

// config is set once per instance, before its first decision, and only
// read after that: a plugin keeps no state from one call to the next.
var config = Config{Review: "anthropic"}

func init() {
	routing.Declare(routing.Manifest{
		Name:        {{printf "%q" .Name}},
		Version:     "0.1.0",
		Description: "code reviews to Claude, other calls by the default route",
	})
	routing.Configure(func(b []byte) error {
		c := Config{Review: "anthropic"}
		if len(bytes.TrimSpace(b)) > 0 {
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				return fmt.Errorf("config: %v", err) // the gateway refuses to load the plugin, and says why
			}
		}
		config = c
		return nil
	})
	routing.Handle(decide)
}

// decide routes one call. It must depend only on the facts (routing.Now
// and routing.Rand give the call's time and randomness), so that the
// gateway can replay it, and must not keep f or its strings.
func decide(f *routing.Facts) routing.Decision {
	// The task type is the call's "task" tag (x-switchyard-tags: task=review).
	if f.TaskType == "review" {
		if i := routing.Find(f, config.Review, ""); i >= 0 && routing.Healthy(&f.Targets[i]) {
			// Choose reuses one slice: a decision that allocates nothing
			// keeps the plugin's garbage collector idle.
			return routing.Choose("code review", i)
		}
	}
	return routing.Decision{Targets: f.Default, Reason: "default route"}
}

func main() {}
`))

var pluginTestTmpl = template.Must(template.New("plugin_test.go").Parse(`package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	conformance "github.com/switchyard/switchyard/conformance/routing"
	"github.com/switchyard/switchyard/plugins/wasm"
	"github.com/switchyard/switchyard/sdk/routing/abi"
)

// module builds the plugin once per test run, as the gateway loads it.
var module = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "plugin-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "plugin.wasm")
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-trimpath", "-o", out, ".")
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the plugin: %v\n%s", err, b)
	}
	return os.ReadFile(out)
})

func build(t *testing.T) []byte {
	t.Helper()
	b, err := module()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The checks every routing plugin must pass.
func TestConformance(t *testing.T) {
	conformance.Run(t, build(t), conformance.Options{Config: []byte(` + "`" + `{"review": "anthropic"}` + "`" + `)})
}

// Reviews go to the configured provider, other calls by the default route.
func TestDecide(t *testing.T) {
	h, err := wasm.NewHost(t.Context(), wasm.Config{Instances: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close(t.Context())
	for _, c := range []struct{ task, config, want string }{
		{"review", "", "anthropic/claude-sonnet-4-5"},
		{"review", ` + "`" + `{"review": "openai"}` + "`" + `, "openai/gpt-5-mini"},
		{"chat", "", "anthropic/claude-sonnet-4-5 openai/gpt-5-mini"}, // the default route
	} {
		p, err := h.Load(t.Context(), {{printf "%q" .Name}}, build(t), []byte(c.config))
		if err != nil {
			t.Fatal(err)
		}
		// The suite's sample call: Claude, GPT and a rate-limited Gemini.
		f := conformance.Facts("claude-sonnet-4-5")
		f.TaskType = c.task
		var d abi.Decision
		if err := p.Decide(t.Context(), f, &d); err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, i := range d.Targets {
			got = append(got, f.Targets[i].Provider+"/"+f.Targets[i].Model)
		}
		if strings.Join(got, " ") != c.want {
			t.Errorf("task %q, config %q: %v (%s), want %s", c.task, c.config, got, d.Reason, c.want)
		}
	}
}
`))
