package cli

import (
	"log/slog"
	"net/http"
	_ "net/http/pprof" // profiles on the debug listener only
)

// envPprof, when set to HOST:PORT, serves Go's profiles (/debug/pprof/)
// there, on its own listener, so profiling never shares the API's port.
const envPprof = "SWITCHYARD_PPROF"

func (a *app) startPprof(log *slog.Logger) {
	addr := a.io.getenv(envPprof)
	if addr == "" {
		return
	}
	go func() {
		log.Info("pprof listening", "addr", addr)
		if err := http.ListenAndServe(addr, http.DefaultServeMux); err != nil {
			log.Error("pprof listener stopped", "addr", addr, "err", err)
		}
	}()
}
