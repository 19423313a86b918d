package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseWhen reads a point in time as the command line gives one (--since,
// --until, --at): "" (none: the zero time), a duration back from now
// ("90m", "2h", "7d"), a date or an RFC 3339 time (local unless it says
// otherwise). It fails on anything else.
func ParseWhen(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a duration (90m, 2h, 7d) nor a time (2026-03-01T14:00:00Z)", s)
}
