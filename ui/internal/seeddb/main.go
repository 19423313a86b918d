// Command seeddb fills a smista database with the UI fixture (and
// optionally N bulk messages) for the tmux end-to-end script and manual
// checks: seeddb PATH [N].
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"smista/db"
	"smista/ui/internal/fixture"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "seeddb:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return fmt.Errorf("usage: seeddb PATH [BULK_COUNT]")
	}
	ctx := context.Background()
	d, err := db.Open(ctx, args[0])
	if err != nil {
		return err
	}
	defer d.Close()
	if err := fixture.Seed(ctx, d); err != nil {
		return err
	}
	if len(args) == 2 {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 0 {
			return fmt.Errorf("bulk count %q: want a number ≥ 0", args[1])
		}
		if err := fixture.SeedBulk(ctx, d, n); err != nil {
			return err
		}
	}
	return nil
}
