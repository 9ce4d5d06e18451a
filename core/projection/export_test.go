package projection

import "time"

// SetCatchUpReport changes how often CatchUp logs, until the returned
// function is called.
func SetCatchUpReport(d time.Duration) (restore func()) {
	old := catchUpReport
	catchUpReport = d
	return func() { catchUpReport = old }
}

// ShareOfSaves is shareOfSaves, and the two shares it chooses between.
var ShareOfSaves, SaveShare, CatchUpSaveShare = shareOfSaves, saveShare, catchUpSaveShare

// BatchSize is the most events a group hands its members at once.
const BatchSize = batchSize
