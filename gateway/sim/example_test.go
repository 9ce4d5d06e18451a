package sim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/switchyard/switchyard/gateway/sim"
)

// A test points its client at the simulator and steers the answer with a
// directive in the prompt.
func Example() {
	var cfg sim.Config
	if err := json.Unmarshal([]byte(`{"models":[{"name":"tiny","output_words":4,"latency":"1ms"}],"strict_models":true}`), &cfg); err != nil {
		panic(err)
	}
	s, err := sim.New(cfg, nil)
	if err != nil {
		panic(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	for _, prompt := range []string{
		"Hello there",
		`Hello [[sim text="Hi, I am simulated."]]`,
		"Hello [[sim fault=429 retry_after=2]]",
	} {
		body := `{"model":"tiny","messages":[{"role":"user","content":` + quote(prompt) + `}]}`
		resp, err := http.Post(ts.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			panic(err)
		}
		var out struct {
			Choices []struct {
				Message struct{ Content string }
			}
			Error struct{ Code string }
		}
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			fmt.Println(resp.StatusCode, out.Error.Code, "retry after", resp.Header.Get("Retry-After"))
			continue
		}
		fmt.Println(resp.StatusCode, out.Choices[0].Message.Content)
	}
	fmt.Println(len(s.Requests()), "requests recorded")
	// Output:
	// 200 Simulated answer to Hello.
	// 200 Hi, I am simulated.
	// 429 rate_limit_exceeded retry after 2
	// 3 requests recorded
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
