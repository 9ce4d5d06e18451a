package keys_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/eventstore/embedded"
	"github.com/switchyard/switchyard/gateway/keys"
)

func TestCreateLookupRevokeRebuild(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(embedded.Config{Dir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := keys.NewRegistry()
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	k, secret, err := r.Create(ctx, st, keys.Spec{Name: "ci", Team: "platform", Models: []string{"sim-*", "gpt-5"}}, "test", now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, keys.SecretPrefix) || len(secret) < 30 || k.Hash != keys.HashSecret(secret) {
		t.Fatalf("secret %q, key %+v", secret, k)
	}
	got, ok := r.Lookup(secret)
	if !ok || got.ID != k.ID || got.Team != "platform" || !got.Active(now) {
		t.Fatalf("lookup = %+v %v", got, ok)
	}
	if _, ok := r.Lookup(secret + "x"); ok {
		t.Fatal("wrong secret accepted")
	}
	for model, want := range map[string]bool{"sim-small": true, "gpt-5": true, "gpt-5-mini": false, "claude-sonnet-4-5": false} {
		if got.Allows(model) != want {
			t.Errorf("Allows(%q) = %v, want %v", model, !want, want)
		}
	}
	// The secret is nowhere in the log.
	for e, err := range st.ReadAll(ctx, eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(e.Data), secret) {
			t.Fatalf("secret stored in %s", e.Type)
		}
	}
	if err := r.Revoke(ctx, st, k.ID, "rotated", "test", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.Lookup(secret); got.Active(now.Add(2 * time.Minute)) {
		t.Fatal("revoked key still active")
	}
	if err := r.Revoke(ctx, st, "key_nope", "", "test", now); err == nil || !strings.Contains(err.Error(), "keys list") {
		t.Fatalf("revoke unknown: %v", err)
	}
	// A registry rebuilt from the log agrees.
	r2 := keys.NewRegistry()
	for e, err := range st.ReadAll(ctx, eventstore.ReadOptions{}) {
		if err != nil {
			t.Fatal(err)
		}
		if err := r2.Apply(&e); err != nil {
			t.Fatal(err)
		}
	}
	got2, ok := r2.Lookup(secret)
	if !ok || got2.ID != k.ID || got2.Active(now.Add(2*time.Minute)) {
		t.Fatalf("rebuilt = %+v %v", got2, ok)
	}
	snap, _ := r2.Snapshot()
	r3 := keys.NewRegistry()
	if err := r3.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if got3, ok := r3.Lookup(secret); !ok || got3.RevokedAt.IsZero() {
		t.Fatalf("restored = %+v", got3)
	}
}

func TestSpecValidate(t *testing.T) {
	for _, tc := range []struct {
		spec keys.Spec
		want string
	}{
		{keys.Spec{}, "name is required"},
		{keys.Spec{Name: "a", MaxBudgetUSD: -1}, "negative"},
		{keys.Spec{Name: "a", BudgetPeriod: "week"}, `budget_period "week": use total, day or month`},
		{keys.Spec{Name: "a", Models: []string{"a*b*"}}, "not a model name"},
	} {
		if err := tc.spec.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.spec, err, tc.want)
		}
	}
}
