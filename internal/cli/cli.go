// Package cli is the command line's machinery, apart from its commands:
// finding the subcommand among the global flags, parsing flags that may
// follow positional arguments, the --since/--until window, secrets read
// from a file or stdin, and turning an error into the exit status and the
// one line on stderr that DESIGN's command-line contract promises.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"smista/app/config"
)

// ErrUsage marks a command-line mistake: exit status 2.
var ErrUsage = errors.New("usage")

// Usagef returns a usage error: "usage: " and the formatted text.
func Usagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUsage, fmt.Sprintf(format, args...))
}

// Split finds the subcommand among args: the first argument that is
// neither a flag nor the value of one of valued (global flags taking a
// value, as "--db"). It returns the command, the flags before it and the
// arguments after it. Without a command it is def, and every argument is
// its flag ("smista --no-send"). Help asked for before any command is
// "help".
func Split(args []string, def string, valued ...string) (name string, pre, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return def, args, nil
		case a == "-h" || a == "-help" || a == "--help":
			return "help", nil, nil
		case strings.HasPrefix(a, "-"):
			for _, v := range valued {
				if a == "-"+v || a == "--"+v {
					i++ // its value follows
				}
			}
		default:
			return a, args[:i], args[i+1:]
		}
	}
	return def, args, nil
}

// Parse parses args into fs, turning flag errors into ErrUsage (the flag
// package has already printed the message and usage); -h is
// flag.ErrHelp.
func Parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", ErrUsage, err)
	}
	return nil
}

// ParseInterspersed parses flags that may follow positional arguments
// ("endpoints add URL --secret S") and returns the positional ones.
func ParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := Parse(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// ParseNoArgs parses args into fs for a command that takes no positional
// argument.
func ParseNoArgs(fs *flag.FlagSet, args []string) error {
	if err := Parse(fs, args); err != nil {
		return err
	}
	return NoArgs(fs)
}

// NoArgs fails with a usage error when fs was given positional arguments.
func NoArgs(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return Usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// Window is the --since and --until flags of a listing or a bulk action.
type Window struct{ Since, Until string }

// Flags registers --since and --until on fs; what names the rows they
// bound ("queued").
func (w *Window) Flags(fs *flag.FlagSet, what string) {
	fs.StringVar(&w.Since, "since", "", "only those "+what+" since `D`: a duration back from now (90m, 2h, 7d) or a time (2026-03-01, 2026-03-01T14:00:00Z)")
	fs.StringVar(&w.Until, "until", "", "only those "+what+" before `D` (same forms as --since)")
}

// Times returns the window's bounds at now (zero: unbounded).
func (w Window) Times(now time.Time) (since, until time.Time, err error) {
	if since, err = config.ParseWhen(w.Since, now); err != nil {
		return since, until, Usagef("--since: %v", err)
	}
	if until, err = config.ParseWhen(w.Until, now); err != nil {
		return since, until, Usagef("--until: %v", err)
	}
	return since, until, nil
}

// Secret returns the secret given by --secret or --secret-file (a path,
// or - for stdin), trimmed; "" when neither was given.
func Secret(stdin io.Reader, secret, file string) (string, error) {
	switch {
	case secret != "" && file != "":
		return "", Usagef("give --secret or --secret-file, not both")
	case file == "-":
		b, err := io.ReadAll(io.LimitReader(stdin, 4096))
		if err != nil {
			return "", fmt.Errorf("read the secret from stdin: %w", err)
		}
		secret = string(b)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--secret-file: %w", err)
		}
		secret = string(b)
	}
	return strings.TrimSpace(secret), nil
}

// Exit returns the exit status of command name's err and writes its
// message to stderr: 0 on success or -h, 2 on a usage error, 1 on any
// other error, whose message is folded onto one line.
func Exit(stderr io.Writer, name string, err error) int {
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, ErrUsage):
		fmt.Fprintf(stderr, "smista %s: %v\n", name, err)
		return 2
	default:
		fmt.Fprintf(stderr, "smista %s: %v\n", name, Line(err))
		return 1
	}
}

// Line is err as the one line the command-line contract promises on
// stderr: the errors of a join are separated by "; ", each folded onto
// one line.
func Line(err error) string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var parts []string
		for _, e := range j.Unwrap() {
			parts = append(parts, Line(e))
		}
		return strings.Join(parts, "; ")
	}
	return OneLine(err.Error())
}

// OneLine folds multi-line text onto one line.
func OneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}
