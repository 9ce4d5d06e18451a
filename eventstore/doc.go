// Package eventstore defines the Store contract every event log backend
// implements: the embedded default (eventstore/embedded) and, later, KurrentDB
// and PostgreSQL. The suite in conformance/eventstore checks a backend
// against this contract; a backend's own test file only calls it.
package eventstore
