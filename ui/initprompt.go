package ui

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"smista/ui/safe"
)

// ErrInputEnded is returned by RunPrompts when the input ends before every
// question is answered.
var ErrInputEnded = errors.New("the input ended before the setup was complete")

// RunPrompts asks the wizard's questions as plain lines, for when standard
// input is not a terminal: a prompt with its default in brackets, one
// answer per line (an empty line takes the default). A wrong answer is
// asked again with the reason. With echo, each answer read is written
// after its prompt, so a log of a scripted run reads as a dialogue.
func RunPrompts(ctx context.Context, w *Wizard, in io.Reader, out io.Writer, echo bool) (InitAnswers, error) {
	sc := bufio.NewScanner(in)
	qs := w.questions()
	for i := w.next(qs, 0); i >= 0; i = w.next(qs, i+1) {
		q := qs[i]
		for {
			if err := ctx.Err(); err != nil {
				return InitAnswers{}, err
			}
			prompt := w.prompt(q)
			if def := q.def(w); def != "" {
				prompt += " [" + def + "]"
			}
			fmt.Fprintf(out, "%s: ", safe.String(prompt))
			if !sc.Scan() {
				fmt.Fprintln(out)
				if err := sc.Err(); err != nil {
					return InitAnswers{}, fmt.Errorf("read answers: %w", err)
				}
				return InitAnswers{}, ErrInputEnded
			}
			if echo {
				fmt.Fprintln(out, safe.String(sc.Text()))
			}
			err := w.answer(ctx, q, sc.Text())
			if err == nil {
				break
			}
			fmt.Fprintf(out, "  ✗ %s\n", safe.String(err.Error()))
		}
		if q.key == "address" {
			if r := w.Recognised(); r != "" {
				fmt.Fprintf(out, "  → %s\n", safe.String(r))
			}
		}
	}
	return w.Answers(), nil
}
