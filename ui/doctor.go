package ui

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"smista/app"
	"smista/ui/safe"
)

// PrintDoctor writes the doctor's report: one line per check ("ok",
// "warn", "FAIL", "skip", what was checked, what was found), what to do
// under each check that is not fine, and a closing count. Server answers
// in the details pass through safe.String.
func PrintDoctor(w io.Writer, r app.Report) {
	width := 0
	for _, c := range r.Checks {
		width = max(width, len(c.Name))
	}
	counts := map[app.Status]int{}
	for _, c := range r.Checks {
		counts[c.Status]++
		label := string(c.Status)
		if c.Status == app.StatusFail {
			label = "FAIL"
		}
		fmt.Fprintf(w, "%-4s  %-*s  %s\n", label, width, safe.String(c.Name), safe.String(c.Detail))
		if c.Fix != "" && (c.Status == app.StatusFail || c.Status == app.StatusWarn) {
			fmt.Fprintf(w, "%s→ %s\n", strings.Repeat(" ", 6+width+2), safe.String(c.Fix))
		}
	}
	fmt.Fprintf(w, "\n%d checks: %d ok, %d warnings, %d failed, %d skipped\n", len(r.Checks),
		counts[app.StatusOK], counts[app.StatusWarn], counts[app.StatusFail], counts[app.StatusSkip])
}

// PrintDoctorJSON writes one JSON object per check: check, status, detail
// and fix (the contract of "smista doctor --json").
func PrintDoctorJSON(w io.Writer, r app.Report) error {
	enc := json.NewEncoder(w)
	for _, c := range r.Checks {
		c.Name, c.Detail, c.Fix = safe.String(c.Name), safe.String(c.Detail), safe.String(c.Fix)
		if err := enc.Encode(c); err != nil {
			return fmt.Errorf("doctor json: %w", err)
		}
	}
	return nil
}
