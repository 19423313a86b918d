package config_test

import (
	"testing"
	"time"

	"smista/app/config"
)

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	tests := map[string]struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		"empty is none":      {in: "  ", want: time.Time{}},
		"minutes back":       {in: "90m", want: now.Add(-90 * time.Minute)},
		"days back":          {in: "7d", want: now.AddDate(0, 0, -7)},
		"RFC 3339":           {in: "2026-03-01T14:00:00Z", want: time.Date(2026, 3, 1, 14, 0, 0, 0, time.UTC)},
		"local date":         {in: "2026-03-01", want: time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local)},
		"local minute":       {in: "2026-03-01T14:05", want: time.Date(2026, 3, 1, 14, 5, 0, 0, time.Local)},
		"negative duration":  {in: "-2h", wantErr: true},
		"negative days":      {in: "-1d", wantErr: true},
		"neither":            {in: "yesterday", wantErr: true},
		"a day without unit": {in: "d", wantErr: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := config.ParseWhen(tc.in, now)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseWhen(%q): error %v, want error %v", tc.in, err, tc.wantErr)
			}
			if !got.Equal(tc.want) {
				t.Errorf("ParseWhen(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}
