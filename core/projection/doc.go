// Package projection folds the event log into read models.
//
// A [Projection] is a fold: it applies events one by one to in-memory state
// and can snapshot and restore that state. A [Runner] feeds it from a
// catch-up subscription and saves a [Checkpoint] (state and position
// together, atomically) every so often, so that after a crash the projection
// restarts from its last checkpoint and applies each later event exactly once
// more to the state as it was at that checkpoint: nothing is counted twice.
// Rebuilding starts from an empty state at position 0.
package projection
