package projection

import "time"

// SetCatchUpReport changes how often CatchUp logs, until the returned
// function is called.
func SetCatchUpReport(d time.Duration) (restore func()) {
	old := catchUpReport
	catchUpReport = d
	return func() { catchUpReport = old }
}
