package ui_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"smista/mail"
	"smista/triage"
	"smista/ui"
)

// viewMail stores raw (and a triage verdict with summary) and opens it in a
// model w×h, returning the model's screen after keys.
func viewMail(t testing.TB, raw string, summary string, w, h int, keys ...string) string {
	t.Helper()
	model := openMail(t, raw, summary, w, h)
	press(t, model, keys...)
	return plain(model)
}

// openMail stores raw (and a triage verdict with summary) and opens it in a
// model w×h.
func openMail(t testing.TB, raw string, summary string, w, h int) *ui.Model {
	t.Helper()
	ctx := context.Background()
	d := MustOpenDB(t)
	m, err := mail.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.SaveMessages(ctx, "test", []*mail.Message{m}); err != nil {
		t.Fatal(err)
	}
	if summary != "" {
		rec := triage.Record{EmailID: m.ID, Result: triage.Result{Intent: triage.IntentSupport, Confidence: 0.5,
			Priority: triage.PriorityNormal, Summary: summary, Language: "en", Model: "offline/1"},
			Decision: triage.Decision{Action: triage.ActionSuggest}}
		if _, err := d.SaveTriage(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	model := newModel(t, testDeps(d), w, h)
	press(t, model, "enter")
	return model
}

// TestMessageLongBody: a body past 1 MiB is shown whole, a part at a
// time (] and [), never cut mid-line; the store's copy stops at 1 MiB.
func TestMessageLongBody(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 30000; i++ {
		b.WriteString("line number ")
		b.WriteString(strings.Repeat("x", 80))
		b.WriteString("\n")
	}
	raw := "From: a@example.com\r\nSubject: big\r\nMessage-ID: <big@example.com>\r\n\r\n" + b.String() + "THE LAST LINE\n"
	out := viewMail(t, raw, "", 100, 30)
	if !strings.Contains(out, "line number xxx") || strings.Contains(out, "truncated") {
		t.Fatalf("first part:\n%s", out)
	}
	out = viewMail(t, raw, "", 100, 30, "G")
	if !strings.Contains(out, "part 1 of 3") {
		t.Fatalf("the end of the first part does not say there are more:\n%s", out)
	}
	if !strings.Contains(out, "line number "+strings.Repeat("x", 80)+"\n") {
		t.Errorf("the first part does not end on a whole line:\n%s", out)
	}
	out = viewMail(t, raw, "", 100, 30, "]", "]", "G")
	if !strings.Contains(out, "THE LAST LINE") || !strings.Contains(out, "part 3 of 3") {
		t.Errorf("the last part does not show the end of the body:\n%s", out)
	}
	out = viewMail(t, raw, "", 100, 30, "]", "[")
	if !strings.Contains(out, "Subject:  big") {
		t.Errorf("[ does not go back to the first part:\n%s", out)
	}
}

// TestMessageRawAttachmentsLinks: attachments show human sizes; v shows
// the raw source with its escape sequences made inert; links are listed;
// a long summary wraps at word boundaries under itself.
func TestMessageRawAttachmentsLinks(t *testing.T) {
	big := base64.StdEncoding.EncodeToString(make([]byte, 15<<20))
	raw := "From: a@example.com\r\nSubject: files\r\nMessage-ID: <files@example.com>\r\nX-Evil: \x1b]0;pwned\x07\x1b[31mred\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XX\r\n\r\n" +
		"--XX\r\nContent-Type: text/plain\r\n\r\nsee https://example.com/report?id=1 and mailto:help@example.com\r\n" +
		"--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n" + big + "\r\n--XX--\r\n"
	summary := "The customer reports that the quarterly invoice was charged twice and asks for an immediate refund of the duplicate amount"
	out := viewMail(t, raw, summary, 80, 40)
	if !strings.Contains(out, "report.pdf (application/pdf, 15 MiB)") {
		t.Errorf("attachment size not human:\n%s", out)
	}
	if !strings.Contains(out, "1. https://example.com/report?id=1") || !strings.Contains(out, "2. mailto:help@example.com") {
		t.Errorf("links not listed:\n%s", out)
	}
	var sum []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, "Summary:") || (len(sum) > 0 && len(sum) < 3) {
			sum = append(sum, l)
		}
	}
	if len(sum) < 2 || !strings.HasPrefix(sum[1], strings.Repeat(" ", 10)) || sum[1][10] == ' ' {
		t.Fatalf("the summary's second line is not indented under the first: %q", sum)
	}
	for _, w := range strings.Fields(summary) {
		if !strings.Contains(strings.Join(sum, " "), w) {
			t.Errorf("the wrapped summary cut the word %q: %q", w, sum)
		}
	}
	out = viewMail(t, raw, "", 80, 40, "v")
	if !strings.Contains(out, "Raw source") || !strings.Contains(out, "X-Evil:") {
		t.Fatalf("v does not show the raw source:\n%s", out)
	}
	if strings.ContainsAny(out, "\x1b\x07") {
		t.Errorf("the raw source reaches the terminal with escape sequences")
	}
}

// TestMessageNextPrevious: n and p open the next and previous email in
// the order of the list the message was opened from.
func TestMessageNextPrevious(t *testing.T) {
	m := newModel(t, testDeps(seededDB(t)), 100, 30)
	press(t, m, "j", "enter")
	if out := plain(m); !strings.Contains(out, "Subject:  Cannot log in since this morning") {
		t.Fatalf("the second row did not open:\n%s", out)
	}
	press(t, m, "p")
	if out := plain(m); !strings.Contains(out, "Subject:  Order #5531") {
		t.Fatalf("p did not open the first row:\n%s", out)
	}
	press(t, m, "p")
	if out := plain(m); !strings.Contains(out, "first email of the list") || !strings.Contains(out, "Subject:  Order #5531") {
		t.Errorf("p on the first row:\n%s", out)
	}
	press(t, m, "n", "n")
	third := plain(m)
	press(t, m, "q")
	if out := plain(m); !strings.Contains(out, "Inbox ·") {
		t.Fatalf("q does not go back to the list:\n%s", out)
	}
	// The list's cursor followed: enter opens the same third email.
	press(t, m, "enter")
	if out := plain(m); out != third {
		t.Errorf("after n n, the list's cursor is not on the email shown:\n%s\nvs\n%s", out, third)
	}
}

// TestMessageFind: / in the message view finds text in the whole body,
// any case, across its parts past 1 MiB; the view scrolls to the match
// and turns to its part; > and < step through the matches, round the
// ends; the status says which match is shown; text not found says so.
// bigMail is a 2.7 MB mail of 30,000 lines with "needle" on two of them,
// one in its first part and one in its last.
func bigMail() string {
	var b strings.Builder
	for i := 0; i < 30000; i++ {
		switch i {
		case 5000:
			b.WriteString("first NEEDLE of the body\n")
		case 29000:
			b.WriteString("second needle, in the last part\n")
		default:
			b.WriteString("line number " + strings.Repeat("x", 80) + "\n")
		}
	}
	return "From: a@example.com\r\nSubject: big\r\nMessage-ID: <big@example.com>\r\n\r\n" + b.String()
}

func TestMessageFind(t *testing.T) {
	raw := bigMail()
	find := append([]string{"/"}, strings.Split("needle", "")...)
	out := viewMail(t, raw, "", 100, 30, append(find, "enter")...)
	if !strings.Contains(out, "first NEEDLE of the body") || !strings.Contains(out, "match 1 of 2") {
		t.Fatalf("the first match:\n%s", out)
	}
	out = viewMail(t, raw, "", 100, 30, append(find, "enter", ">")...)
	if !strings.Contains(out, "second needle, in the last part") || !strings.Contains(out, "match 2 of 2") {
		t.Fatalf("> shows the second match, in the third part:\n%s", out)
	}
	out = viewMail(t, raw, "", 100, 30, append(find, "enter", ">", ">")...)
	if !strings.Contains(out, "first NEEDLE of the body") || !strings.Contains(out, "match 1 of 2") {
		t.Fatalf("> after the last match goes round to the first:\n%s", out)
	}
	out = viewMail(t, raw, "", 100, 30, append(find, "enter", "<")...)
	if !strings.Contains(out, "second needle") || !strings.Contains(out, "match 2 of 2") {
		t.Fatalf("< before the first match goes round to the last:\n%s", out)
	}
	out = viewMail(t, raw, "", 100, 30, append(append([]string{"/"}, strings.Split("NEEDLE", "")...), "enter")...)
	if !strings.Contains(out, "first NEEDLE of the body") || !strings.Contains(out, "match 1 of 2") {
		t.Fatalf("a search in capitals finds the text in any case:\n%s", out)
	}
	out = viewMail(t, raw, "", 100, 30, "/", "z", "q", "enter")
	if !strings.Contains(out, `"zq" is not in this message`) {
		t.Fatalf("text not found:\n%s", out)
	}
}

// BenchmarkMessageFindKeystroke: one search typed in a 2.7 MB body (three
// parts of up to 1 MiB), a keystroke at a time, each finding and showing
// its first match: the cost of a find keystroke in a huge mail.
func BenchmarkMessageFindKeystroke(b *testing.B) {
	raw := bigMail()
	model := openMail(b, raw, "", 100, 30)
	keys := append([]string{"/"}, strings.Split("needle", "")...)
	keys = append(keys, "esc")
	b.ReportAllocs()
	for b.Loop() {
		press(b, model, keys...)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
}
