package ui

import (
	"errors"
	"fmt"
	"strings"
)

// ErrEditorCommand is returned by EditorArgs for a command line a shell
// could not split either (an unclosed quote, a trailing backslash).
var ErrEditorCommand = errors.New("cannot split the editor command")

// EditorCommand returns the external editor's command line: $VISUAL, then
// $EDITOR, then vi (getenv reads the environment).
func EditorCommand(getenv func(string) string) string {
	for _, name := range []string{"VISUAL", "EDITOR"} {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
	}
	return "vi"
}

// EditorArgs splits an editor command line into words the way a POSIX
// shell does, without running one: blanks separate words; '…' keeps
// everything literally; "…" keeps everything but \" \\ \$ \` and an
// escaped newline; a backslash outside quotes keeps the next character.
// No expansion happens ($HOME stays as written). It fails with
// ErrEditorCommand for an unclosed quote or a trailing backslash, and for
// a line with no word.
func EditorArgs(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	rs := []rune(line)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
			continue
		case r == '\\':
			if i+1 >= len(rs) {
				return nil, fmt.Errorf("%w: %q ends with a backslash", ErrEditorCommand, line)
			}
			i++
			if rs[i] != '\n' {
				w.WriteRune(rs[i])
			}
		case r == '\'':
			j := i + 1
			for j < len(rs) && rs[j] != '\'' {
				j++
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("%w: %q has an unclosed '", ErrEditorCommand, line)
			}
			w.WriteString(string(rs[i+1 : j]))
			i = j
		case r == '"':
			j := i + 1
			for ; j < len(rs) && rs[j] != '"'; j++ {
				if rs[j] == '\\' && j+1 < len(rs) && strings.ContainsRune("\"\\$`\n", rs[j+1]) {
					j++
					if rs[j] != '\n' {
						w.WriteRune(rs[j])
					}
					continue
				}
				w.WriteRune(rs[j])
			}
			if j >= len(rs) {
				return nil, fmt.Errorf("%w: %q has an unclosed \"", ErrEditorCommand, line)
			}
			i = j
		default:
			w.WriteRune(r)
		}
		inWord = true
	}
	if inWord {
		words = append(words, w.String())
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("%w: the command is empty", ErrEditorCommand)
	}
	return words, nil
}
