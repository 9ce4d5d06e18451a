// Command behaviours is a routing plugin for the host's tests: the
// requested model picks what it does, well or badly.
package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/sdk/routing"
)

var counter int

var sink [][]byte

func init() {
	routing.Handle(func(f *routing.Facts) routing.Decision {
		switch f.Model {
		case "cheapest":
			best := -1
			for i := range f.Targets {
				t := &f.Targets[i]
				if !routing.Healthy(t) || t.InputUSDPerMTok < 0 {
					continue
				}
				if best < 0 || t.InputUSDPerMTok < f.Targets[best].InputUSDPerMTok {
					best = i
				}
			}
			if best < 0 {
				return routing.Decision{Targets: f.Default, Reason: "nothing priced and healthy"}
			}
			return routing.Choose("cheapest healthy", best)
		case "priciest":
			// The dearest priced target: what-if tests need a plugin
			// that spends more.
			best := -1
			for i := range f.Targets {
				if t := &f.Targets[i]; t.InputUSDPerMTok >= 0 && (best < 0 || t.InputUSDPerMTok > f.Targets[best].InputUSDPerMTok) {
					best = i
				}
			}
			if best < 0 {
				return routing.Decision{Targets: f.Default, Reason: "nothing priced"}
			}
			return routing.Choose("priciest", best)
		case "loop":
			for {
				counter++
			}
		case "sleep":
			time.Sleep(time.Hour)
		case "panic":
			panic("boom")
		case "exit":
			os.Exit(3)
		case "garbage":
			return routing.Decision{Targets: []int{len(f.Targets) + 5}}
		case "alloc":
			for {
				sink = append(sink, make([]byte, 16<<20))
			}
		case "clock":
			var b [8]byte
			rand.Read(b[:])
			return routing.Decision{Targets: f.Default, Reason: fmt.Sprintf("%d %x %d", time.Now().UnixNano(), b, routing.Rand(f).Uint64())}
		case "state":
			counter++
			return routing.Decision{Targets: f.Default, Reason: strconv.Itoa(counter)}
		case "facts":
			// Everything the plugin was given, for tests that re-run a
			// decision from its record.
			return routing.Decision{Targets: f.Default, Reason: fmt.Sprintf("%+v", *f)}
		case "none":
			return routing.Decision{Reason: "nothing fits"}
		case "stderr":
			fmt.Fprintln(os.Stderr, "hello from the plugin")
		}
		return routing.Decision{Targets: f.Default, Reason: "default route"}
	})
}

func main() {}
