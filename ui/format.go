package ui

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"smista/ui/safe"
)

// clean makes one line of untrusted text inert.
func clean(s string) string { return safe.String(s) }

// fit truncates a styled line to w cells.
func fit(s string, w int) string {
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w, "…")
}

// pad truncates or pads plain text to exactly w cells.
func pad(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

// trunc shortens s to n runes, ending with "…" when cut.
func trunc(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// cycle returns the value after cur in list (wrapping).
func cycle[T comparable](list []T, cur T) T {
	i := slices.Index(list, cur)
	return list[(i+1)%len(list)]
}

// thousands formats n with separators: 100000 → 100,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// shortTime renders a time for lists: the hour today, the day this year,
// else the date.
func (c *common) shortTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	now := c.deps.Now().In(c.loc)
	t = t.In(c.loc)
	switch {
	case t.Year() == now.Year() && t.YearDay() == now.YearDay():
		return t.Format("15:04")
	case t.Year() == now.Year():
		return t.Format("Jan 02")
	default:
		return t.Format("2006-01-02")
	}
}

// longTime renders a time in full, "—" for none.
func (c *common) longTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(c.loc).Format("2006-01-02 15:04:05")
}

// countdown renders "in 23s" until t.
func (c *common) countdown(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	d := t.Sub(c.deps.Now())
	if d <= 0 {
		return "now"
	}
	d = d.Round(time.Second)
	if d < time.Minute {
		return fmt.Sprintf("in %ds", int(d.Seconds()))
	}
	if d < time.Hour {
		return fmt.Sprintf("in %dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return "in " + d.Truncate(time.Minute).String()
}

// confCell renders confidence as a 4-cell bar and a percentage, with the
// paint of its band (high ≥ 0.80, medium ≥ 0.50, low below).
func confCell(f *FastStyles, conf float64) (string, Paint) {
	if conf < 0 {
		return "    –", f.Dim
	}
	n := int(conf*4 + 0.5)
	bar := strings.Repeat("█", n) + strings.Repeat("░", 4-n)
	s := fmt.Sprintf("%s%4.0f%%", bar, conf*100)
	switch {
	case conf >= 0.80:
		return s, f.High
	case conf >= 0.50:
		return s, f.Medium
	}
	return s, f.Low
}
