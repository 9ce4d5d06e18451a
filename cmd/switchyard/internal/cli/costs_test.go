package cli

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/core/costs"
	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/core/trace"
)

// TestCosts makes calls through the demo gateway (one retried, one
// fallen back) and holds `switchyard costs` to the sums of the call
// events the gateway wrote.
func TestCosts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	addr, _, _ := serveInProcess(t, filepath.Join(t.TempDir(), "data"), "--demo")

	r := cli(t, ctx, "", "keys", "create", "fin", "--team", "finance", "--agent", "ledger", "--tag", "env=prod", "--json", "--addr", addr).ok(t)
	var ck struct {
		Key    struct{ ID string } `json:"key"`
		Secret string              `json:"secret"`
	}
	if err := json.Unmarshal([]byte(r.out), &ck); err != nil {
		t.Fatal(err)
	}
	post := func(model, prompt string) string {
		body := `{"model":"` + model + `","messages":[{"role":"user","content":` + quote(prompt) + `}]}`
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/chat/completions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+ck.Secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("call %q: %d", prompt, res.StatusCode)
		}
		return res.Header.Get("x-switchyard-call-id")
	}
	post("fast", "one")
	post("fast", "two, a little longer")
	retried := post("sim/sim-small", "retried: one target [[sim fault=500 times=1 id=cost-r]]")
	post("fast", "fell back: two targets [[sim fault=429 times=1 id=cost-f]]")

	r = cli(t, ctx, "", "costs", "--by", "model", "--where", "team=finance", "--since", "1d", "--format", "json", "--addr", addr).ok(t)
	// The reference: the key's call events, as the gateway wrote them
	// (in the log: the costs query flushed them).
	res, err := http.Get("http://" + addr + "/api/v1/streams/calls-" + ck.Key.ID + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	byModel := map[string]float64{}
	var retry, fallback float64
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e event.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		if e.Type != "model.call.completed" {
			continue
		}
		var c event.ModelCallCompleted
		json.Unmarshal(e.Data, &c)
		byModel[c.TargetModel] += c.CostUSD
		switch c.Via {
		case "retry":
			retry += c.CostUSD
		case "fallback":
			fallback += c.CostUSD
		}
	}
	if len(byModel) != 2 || retry == 0 || fallback == 0 {
		t.Fatalf("the calls did not go as planned: by model %v, retry $%v, fallback $%v", byModel, retry, fallback)
	}

	var rep costs.JSONReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("costs --format json: %v\n%s", err, r.out)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if len(rep.Rows) != 2 || rep.Total.Calls != 4 || rep.Total.Retries != 1 || rep.Total.Fallbacks != 1 ||
		!near(rep.Total.RetryCostUSD, retry) || !near(rep.Total.FallbackCostUSD, fallback) {
		t.Fatalf("costs: %s\nwant by model %v, retry $%v, fallback $%v", r.out, byModel, retry, fallback)
	}
	for _, row := range rep.Rows {
		if !near(row.CostUSD, byModel[row.Group["model"]]) {
			t.Fatalf("model %s costs $%v, the events say $%v", row.Group["model"], row.CostUSD, byModel[row.Group["model"]])
		}
	}

	// Why the retried call went where it did: its own trace, by call id.
	var call trace.Node
	if err := json.Unmarshal([]byte(cli(t, ctx, "", "trace", retried, "--json", "--addr", addr).ok(t).out), &call); err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range call.Children {
		kinds = append(kinds, c.Kind+":"+fmt.Sprint(c.Attrs["next"]))
	}
	if call.Kind != trace.KindModelCall || call.Name != retried || call.CostUSD != retry || strings.Join(kinds, ",") != "routing:<nil>,attempt:retry" {
		t.Fatalf("trace of call %s: %+v, children %v", retried, call, kinds)
	}
	if r := cli(t, ctx, "", "trace", "019ae3c1-5b7e-7c31-9d3e-0a1b2c3d4e5f", "--addr", addr); r.code == 0 || !strings.Contains(r.err, "no model call") {
		t.Fatalf("trace of an unknown call: %d %q", r.code, r.err)
	}

	// The demo's own call is another team's; the tag groups ours.
	r = cli(t, ctx, "", "costs", "--by", "team,tag:env", "--addr", addr).ok(t)
	if !strings.Contains(r.out, "finance") || !strings.Contains(r.out, "prod") || !strings.Contains(r.out, "TOTAL") {
		t.Fatalf("costs table:\n%s", r.out)
	}
	r = cli(t, ctx, "", "costs", "--by", "agent", "--format", "csv", "--addr", addr).ok(t)
	recs, err := csv.NewReader(strings.NewReader(r.out)).ReadAll()
	if err != nil || len(recs) < 3 || recs[0][0] != "agent" || recs[len(recs)-1][0] != "TOTAL" {
		t.Fatalf("costs csv: %v\n%s", err, r.out)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--by", "colour"}, "use one of agent"},
		{[]string{"--since", "last tuesday"}, "7d"},
		{[]string{"--where", "agent"}, "DIM=VALUE"},
		{[]string{"--format", "xml"}, "table, json or csv"},
	} {
		r := cli(t, ctx, "", append(append([]string{"costs"}, c.args...), "--addr", addr)...)
		if r.code == 0 || !strings.Contains(r.err, c.want) {
			t.Errorf("costs %v: exit %d, stderr %q; want an error with %q", c.args, r.code, r.err, c.want)
		}
	}
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }
