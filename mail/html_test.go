package mail_test

import (
	"fmt"
	"testing"

	"smista/mail"
)

// TestHTMLToTextSeeingShowsEveryToken: the renderer that shows its tokens
// renders what HTMLToText renders, and shows the tokens HTMLTokens reads
// (names, attributes, texts), so one pass serves both.
func TestHTMLToTextSeeingShowsEveryToken(t *testing.T) {
	for _, s := range []string{
		`<html><head><title>T</title><style>p{color:red}</style></head><body><p style="color:#333" hidden>Hi &amp; bye</p>` +
			`<!-- a comment --><a href="https://x.example/a">here</a><img src=x alt="logo"><br/><ul><li>one</li></ul></body></html>`,
		`<p>broken <b>markup <i>never closed`,
		``,
	} {
		var walked, seen []string
		show := func(to *[]string) func(mail.HTMLToken) {
			return func(tok mail.HTMLToken) {
				line := fmt.Sprintf("%v %q %q", tok.Type, tok.Name, tok.Text)
				for _, a := range tok.Attrs {
					line += fmt.Sprintf(" %q=%q", a.Key, a.Val)
				}
				*to = append(*to, line)
			}
		}
		walk := show(&walked)
		mail.HTMLTokens(s, func(tok mail.HTMLToken) bool { walk(tok); return true })
		if got, want := mail.HTMLToTextSeeing(s, show(&seen)), mail.HTMLToText(s); got != want {
			t.Errorf("rendered %q, HTMLToText renders %q", got, want)
		}
		if fmt.Sprint(seen) != fmt.Sprint(walked) {
			t.Errorf("the renderer showed\n%v\nHTMLTokens reads\n%v", seen, walked)
		}
		if len(walked) == 0 {
			t.Error("no token shown, not even the end")
		}
	}
}
