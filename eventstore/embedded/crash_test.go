package embedded

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/switchyard/switchyard/core/event"
	"github.com/switchyard/switchyard/eventstore"
)

// The crash test re-executes the test binary as a child that appends in a
// loop from several goroutines and prints one "ack" line per acknowledged
// event. The parent kills it with SIGKILL at a random moment, reopens the
// store and checks that every acknowledged event is there, byte for byte,
// with intact hash chains and dense versions. Several rounds run on the same
// directory, so later rounds also recover what earlier kills left.

const crashChildEnv = "SWITCHYARD_CRASH_CHILD_DIR"

// ack is what the child prints for each acknowledged event.
type ack struct {
	Stream   string          `json:"stream"`
	Version  uint64          `json:"version"`
	Position uint64          `json:"position"`
	ID       uuid.UUID       `json:"id"`
	Type     string          `json:"type"`
	Data     json.RawMessage `json:"data"`
}

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		crashChild(dir) // never returns
	}
	if dir := os.Getenv(rssChildEnv); dir != "" {
		rssChild(dir)
	}
	os.Exit(m.Run())
}

// crashChild appends until it is killed.
func crashChild(dir string) {
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	var mu sync.Mutex
	fmt.Fprintln(out, "ready")
	out.Flush()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(w)))
			// Even writers own a stream and use exact versions; odd ones
			// share streams with Any, so both paths are killed mid-flight.
			for i := 0; ; i++ {
				stream, expected := fmt.Sprintf("owned-%d", w), eventstore.ExpectedVersion(0)
				if w%2 == 1 {
					stream, expected = fmt.Sprintf("shared-%d", rng.IntN(3)), eventstore.Any
				} else {
					v, err := s.StreamVersion(context.Background(), stream)
					if err != nil {
						fmt.Fprintln(os.Stderr, "child version:", err)
						os.Exit(4)
					}
					expected = eventstore.ExpectedVersion(v)
					if v == eventstore.NoStreamVersion {
						expected = eventstore.NoStream
					}
				}
				n := 1 + rng.IntN(20)
				evs := make([]event.Proposed, n)
				for j := range evs {
					pad := strings.Repeat(string(rune('a'+rng.IntN(26))), rng.IntN(300))
					evs[j] = event.Proposed{ID: event.NewID(), Type: "crash.test",
						Data: json.RawMessage(fmt.Sprintf(`{"w":%d,"i":%d,"j":%d,"pad":%q}`, w, i, j, pad))}
				}
				res, err := s.Append(context.Background(), stream, expected, evs...)
				if err != nil {
					fmt.Fprintln(os.Stderr, "child append:", err)
					os.Exit(5)
				}
				mu.Lock()
				for j, p := range evs {
					b, _ := json.Marshal(ack{stream, res.FirstVersion + uint64(j), res.Positions[j], p.ID, p.Type, p.Data})
					out.Write(append(b, '\n'))
				}
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func TestKill9KeepsAcknowledgedAppends(t *testing.T) {
	dir := t.TempDir()
	rounds := 5
	if testing.Short() {
		rounds = 2
	}
	acked := map[uint64]ack{}
	for round := 0; round < rounds; round++ {
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			// Only whole lines count: SIGKILL may cut the last one short,
			// and a cut line was never an acknowledgement.
			r := bufio.NewReader(stdout)
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				lines <- strings.TrimSuffix(l, "\n")
			}
		}()
		if l, ok := <-lines; !ok || l != "ready" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: child did not start (first line %q)", round, l)
		}
		if round == 0 {
			// While the child holds the store, another opener is refused
			// and does not touch it.
			if _, err := Open(Config{Dir: dir, LockTimeout: 50 * time.Millisecond}, nil); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "switchyard serve") {
				t.Fatalf("open of a store held by another process = %v, want refusal", err)
			}
		}
		// The kill comes at a random moment after the first acknowledgement,
		// not after "ready": on a loaded machine a child may take longer
		// than the shortest random delay to reach its first append.
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("round %d: child exited on its own", round)
			}
			addAck(t, acked, l)
		case <-time.After(time.Minute):
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: child acknowledged nothing within a minute", round)
		}
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(round)))
		deadline := time.After(time.Duration(20+rng.IntN(300)) * time.Millisecond)
	read:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: child exited on its own", round)
				}
				addAck(t, acked, l)
			case <-deadline:
				break read
			}
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		for l := range lines { // what the child printed before dying
			addAck(t, acked, l)
		}
		cmd.Wait()
		checkAcked(t, dir, acked)
		t.Logf("round %d: %d events acknowledged so far", round, len(acked))
	}
}

func addAck(t *testing.T, acked map[uint64]ack, line string) {
	t.Helper()
	var a ack
	if err := json.Unmarshal([]byte(line), &a); err != nil {
		t.Fatalf("bad ack line %q: %v", line, err)
	}
	if prev, dup := acked[a.Position]; dup && prev.ID != a.ID {
		t.Fatalf("position %d acknowledged twice: %s and %s", a.Position, prev.ID, a.ID)
	}
	acked[a.Position] = a
}

func checkAcked(t *testing.T, dir string, acked map[uint64]ack) {
	t.Helper()
	s, err := Open(Config{Dir: dir}, nil)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	found := 0
	for e, err := range s.ReadAll(ctx, eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		a, ok := acked[e.Position]
		if !ok {
			continue // written but not acknowledged before the kill: allowed
		}
		found++
		if e.ID != a.ID || e.Stream != a.Stream || e.StreamVersion != a.Version || e.Type != a.Type || string(e.Data) != string(a.Data) {
			t.Fatalf("position %d: stored %s %s v%d %s, acknowledged %s %s v%d %s",
				e.Position, e.ID, e.Stream, e.StreamVersion, e.Data, a.ID, a.Stream, a.Version, a.Data)
		}
	}
	if found != len(acked) {
		t.Fatalf("%d of %d acknowledged events are missing after kill -9", len(acked)-found, len(acked))
	}
	rep, err := eventstore.VerifyAll(ctx, s)
	if err != nil {
		t.Fatalf("verify after kill: %v", err)
	}
	if rep.Events < uint64(len(acked)) {
		t.Fatalf("verify saw %d events, fewer than the %d acknowledged", rep.Events, len(acked))
	}
}
