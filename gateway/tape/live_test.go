package tape

import "testing"

func TestLive(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		tags map[string]string
		turn int
		want bool
	}{
		{"a replay's key", map[string]string{ReplayTag: "s1"}, 5, false},
		{"a fork's turn before", map[string]string{ReplayTag: "s1", LiveFromTag: "2"}, 1, false},
		{"a fork's call outside a turn", map[string]string{ReplayTag: "s1", LiveFromTag: "2"}, 0, false},
		{"a fork's turn", map[string]string{ReplayTag: "s1", LiveFromTag: "2"}, 2, true},
		{"a fork's turn after", map[string]string{ReplayTag: "s1", LiveFromTag: "2"}, 3, true},
		{"not a number", map[string]string{LiveFromTag: "two"}, 3, false},
		{"zero", map[string]string{LiveFromTag: "0"}, 3, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := Live(c.tags, c.turn); got != c.want {
				t.Fatalf("Live(%v, %d) = %v, want %v", c.tags, c.turn, got, c.want)
			}
		})
	}
}
