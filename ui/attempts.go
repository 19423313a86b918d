package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"smista/db"
	"smista/ui/safe"
)

// attemptsText renders every attempt, cleaning headers and bodies.
func attemptsText(atts []db.AttemptItem, loc *time.Location) string {
	if len(atts) == 0 {
		return "No attempt yet."
	}
	var b strings.Builder
	for i, a := range atts {
		if i > 0 {
			b.WriteString("\n")
		}
		res := "no response"
		if a.StatusCode != 0 {
			res = fmt.Sprintf("HTTP %d", a.StatusCode)
		}
		fmt.Fprintf(&b, "Attempt %d · %s · %s · %s", a.Attempt, a.StartedAt.In(loc).Format("2006-01-02 15:04:05"),
			FmtLatency(a.Duration), res)
		if a.ErrorClass != "" {
			fmt.Fprintf(&b, " · error %s", clean(a.ErrorClass))
		}
		b.WriteString("\n")
		if a.Error != "" {
			b.WriteString("  error: " + clean(a.Error) + "\n")
		}
		b.WriteString("  Request headers:\n")
		writeHeaders(&b, a.RequestHeaders)
		b.WriteString("  Request body:\n")
		writeBody(&b, a.RequestBody)
		if a.StatusCode != 0 || len(a.ResponseHeaders) > 0 || len(a.ResponseBody) > 0 {
			b.WriteString("  Response headers:\n")
			writeHeaders(&b, a.ResponseHeaders)
			b.WriteString("  Response body:\n")
			writeBody(&b, a.ResponseBody)
		}
	}
	return b.String()
}

func writeHeaders(b *strings.Builder, h map[string][]string) {
	if len(h) == 0 {
		b.WriteString("    (none)\n")
		return
	}
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString("    " + clean(k) + ": " + clean(v) + "\n")
		}
	}
}

func writeBody(b *strings.Builder, body []byte) {
	if len(body) == 0 {
		b.WriteString("    (empty)\n")
		return
	}
	for _, l := range strings.Split(strings.TrimRight(safe.Bytes(body), "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
}
