package ui

import (
	"image/color"
	"strings"

	"charm.land/lipgloss/v2"
)

// Styles holds every style, built once by DefaultStyles.
type Styles struct {
	Tab, ActiveTab, Title, Dim, Bold, Selected, Unread lipgloss.Style
	Banner, Error, OK, Warn, Status, Key, Header, Box  lipgloss.Style
	Intent                                             map[string]lipgloss.Style
	High, Medium, Low                                  lipgloss.Style
	Delivery                                           map[string]lipgloss.Style
	// Fast holds the same styles as plain prefix/suffix pairs for the hot
	// path (table rows): Style.Render measures and pads, a Paint only wraps.
	Fast FastStyles
}

// Paint is a style reduced to the escape sequences around its text; it
// suits styles without width, padding or borders.
type Paint struct{ pre, post string }

// On wraps s in the paint.
func (p Paint) On(s string) string {
	if p.pre == "" {
		return s
	}
	return p.pre + s + p.post
}

func paintOf(st lipgloss.Style) Paint {
	r := st.Render("X")
	i := strings.Index(r, "X")
	if i < 0 {
		return Paint{}
	}
	return Paint{pre: r[:i], post: r[i+1:]}
}

// FastStyles are the Paints of the row styles.
type FastStyles struct {
	Selected, Unread, Bold, Dim, Warn, Error, OK, High, Medium, Low Paint
	Intent, Delivery                                                map[string]Paint
}

// DefaultStyles returns the styles for a dark or light background; noColor
// keeps only bold, faint and reverse (NO_COLOR).
func DefaultStyles(isDark, noColor bool) Styles {
	ld := lipgloss.LightDark(isDark)
	c := func(light, dark string) color.Color {
		if noColor {
			return lipgloss.NoColor{}
		}
		return ld(lipgloss.Color(light), lipgloss.Color(dark))
	}
	fg := func(light, dark string) lipgloss.Style { return lipgloss.NewStyle().Foreground(c(light, dark)) }
	badge := func(light, dark string) lipgloss.Style {
		return lipgloss.NewStyle().Foreground(c(light, dark)).Bold(true)
	}
	s := Styles{
		Tab:       fg("#666666", "#8a8a8a"),
		ActiveTab: lipgloss.NewStyle().Bold(true).Reverse(true),
		Title:     lipgloss.NewStyle().Bold(true),
		Dim:       lipgloss.NewStyle().Faint(true),
		Bold:      lipgloss.NewStyle().Bold(true),
		Selected:  lipgloss.NewStyle().Reverse(true),
		Unread:    fg("#005fd7", "#5fafff").Bold(true),
		Banner:    lipgloss.NewStyle().Bold(true).Reverse(true).Foreground(c("#af0000", "#ff5f5f")),
		Error:     fg("#af0000", "#ff5f5f"),
		OK:        fg("#008700", "#5fd75f"),
		Warn:      fg("#af5f00", "#ffaf00"),
		Status:    fg("#444444", "#bcbcbc"),
		Key:       fg("#005f87", "#87afd7").Bold(true),
		Header:    lipgloss.NewStyle().Bold(true).Underline(true),
		Box:       lipgloss.NewStyle(),
		High:      fg("#008700", "#5fd75f"),
		Medium:    fg("#af5f00", "#ffaf00"),
		Low:       fg("#af0000", "#ff5f5f"),
		Intent: map[string]lipgloss.Style{
			"support": badge("#005faf", "#5fafff"),
			"sales":   badge("#008700", "#87d787"),
			"billing": badge("#875f00", "#d7af5f"),
			"legal":   badge("#870087", "#d787d7"),
			"spam":    badge("#767676", "#808080"),
			"other":   badge("#4e4e4e", "#a8a8a8"),
		},
		Delivery: map[string]lipgloss.Style{
			"pending":   fg("#005faf", "#5fafff"),
			"retrying":  fg("#af5f00", "#ffaf00"),
			"delivered": fg("#008700", "#5fd75f"),
			"dead":      fg("#af0000", "#ff5f5f").Bold(true),
			"paused":    fg("#767676", "#909090"),
			"canceled":  fg("#767676", "#909090"),
		},
	}
	s.Fast = FastStyles{
		Selected: paintOf(s.Selected), Unread: paintOf(s.Unread), Bold: paintOf(s.Bold), Dim: paintOf(s.Dim),
		Warn: paintOf(s.Warn), Error: paintOf(s.Error), OK: paintOf(s.OK), High: paintOf(s.High),
		Medium: paintOf(s.Medium), Low: paintOf(s.Low), Intent: map[string]Paint{}, Delivery: map[string]Paint{},
	}
	for k, v := range s.Intent {
		s.Fast.Intent[k] = paintOf(v)
	}
	for k, v := range s.Delivery {
		s.Fast.Delivery[k] = paintOf(v)
	}
	return s
}
