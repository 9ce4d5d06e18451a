package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	"github.com/switchyard/switchyard/gateway/httpapi"
)

// client talks to a running switchyard server's HTTP API.
//
// TODO: move to sdk/client once that package exists; the wire types
// already live in gateway/httpapi.
type client struct {
	addr  string // as the user gave it, for messages
	base  string // http://host:port
	prog  string
	token string // the admin token, from $SWITCHYARD_ADMIN_TOKEN
	actor string // who the changes are by, for the audit trail
	hc    *http.Client
}

// client returns a client of the server at addr that sends the admin
// token in $SWITCHYARD_ADMIN_TOKEN, if set.
func (a *app) client(addr string) (*client, error) {
	c, err := newClient(addr, a.io.Prog)
	if err != nil {
		return nil, err
	}
	c.token = a.io.getenv(envAdminToken)
	c.actor = a.actor()
	return c, nil
}

func newClient(addr, prog string) (*client, error) {
	base := addr
	if !strings.Contains(addr, "://") {
		base = "http://" + addr
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, usagef("--addr %q is not HOST:PORT or an http:// URL: use e.g. --addr %s", addr, httpapi.DefaultAddr)
	}
	// No overall timeout: tail streams for as long as it runs; every
	// request carries the command's context instead.
	return &client{addr: addr, base: strings.TrimSuffix(u.String(), "/"), prog: prog, hc: &http.Client{}}, nil
}

// do sends a request and returns the response if its status is 2xx; other
// statuses become a *serverError. The caller closes the body.
func (c *client) do(ctx context.Context, method, path string, body []byte, header map[string]string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.actor != "" {
		req.Header.Set("X-Switchyard-Actor", c.actor)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, c.netError(ctx, err)
	}
	if res.StatusCode/100 != 2 {
		defer res.Body.Close()
		return nil, c.statusError(res)
	}
	return res, nil
}

// doJSON sends a request with a JSON body (nil for none) and decodes a
// 2xx answer into out (nil to drop it).
func (c *client) doJSON(ctx context.Context, method, path string, body any, out any) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	res, err := c.do(ctx, method, path, b, nil)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		return fmt.Errorf("read the server's answer: %w", err)
	}
	return nil
}

// netError explains a failure to talk to the server.
func (c *client) netError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot reach switchyard at %s: is `switchyard serve` running? start it with `go tool task demo` (in a checkout) or `%s serve`, or point --addr or %s at a running server",
			c.addr, c.prog, envAddr)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("cannot reach switchyard at %s: host %q not found: check --addr or %s", c.addr, dnsErr.Name, envAddr)
	}
	return fmt.Errorf("cannot reach switchyard at %s: %w", c.addr, err)
}

// serverError is an error answer from the server.
type serverError struct {
	Status int
	Body   httpapi.ErrorBody
}

func (e *serverError) Error() string { return e.Body.Message }

func (c *client) statusError(res *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	var er httpapi.ErrorResponse
	if err := json.Unmarshal(b, &er); err != nil || er.Error.Code == "" {
		return fmt.Errorf("%s answered %s with %q, not a switchyard error: is --addr %s a switchyard server?",
			c.addr, res.Status, truncate(string(b), 200), c.addr)
	}
	se := &serverError{Status: res.StatusCode, Body: er.Error}
	if res.StatusCode == http.StatusConflict {
		return &conflictError{se}
	}
	return se
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// errorCode returns the API error code of err, or "".
func errorCode(err error) string {
	var se *serverError
	if errors.As(err, &se) {
		return se.Body.Code
	}
	return ""
}
