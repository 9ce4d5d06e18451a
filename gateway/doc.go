// Package gateway assembles the data plane from its config: providers,
// routes, prices, budgets, virtual keys, the event recorder and the
// request path (package proxy), and keeps them current on reload.
//
// The HTTP front end (package httpapi) serves it; nothing here knows HTTP
// frameworks.
package gateway
