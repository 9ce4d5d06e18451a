// Package config holds value types shared by the config sections of both
// planes.
package config

import (
	"encoding/json"
	"fmt"
	"time"
)

// Duration is a time.Duration written in config files as a Go duration
// string ("250ms", "2m30s"). A bare number is refused: "30" could mean
// seconds or nanoseconds, and guessing wrong is worse than asking.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalJSON writes d as a duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration %s: write it as a string with a unit, such as \"30s\" or \"250ms\"", b)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: %w; use units ns, us, ms, s, m, h", s, err)
	}
	*d = Duration(v)
	return nil
}
