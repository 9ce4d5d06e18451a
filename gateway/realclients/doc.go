// Package realclients tests the gateway with the real clients teams run
// through it: the official openai and @anthropic-ai/sdk packages, Claude
// Code, Codex and OpenCode, at the versions pinned in
// testdata/clients/package-lock.json, against the provider simulator.
//
// scripts/install-clients.sh (go tool task deps:clients) installs them into
// a cache directory; without the install the tests skip, unless
// SWITCHYARD_REQUIRE_CLIENTS=1 (set by go tool task test and CI), when they
// fail: CI can never pass by skipping them.
package realclients
