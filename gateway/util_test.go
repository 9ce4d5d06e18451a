package gateway_test

import (
	"github.com/switchyard/switchyard/eventstore"
	"github.com/switchyard/switchyard/gateway/keys"
	"github.com/switchyard/switchyard/gateway/proxy"
)

type proxyCfg = proxy.Config

func proxyConfig(f func(*proxyCfg)) proxy.Config {
	var c proxy.Config
	f(&c)
	return c
}

func keysSpec(name string, models ...string) keys.Spec {
	return keys.Spec{Name: name, Team: "eng", Models: models}
}

var readAll = eventstore.ReadOptions{}
