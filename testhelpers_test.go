package main

import (
	"flag"
	"os"
	"testing"

	// Registers -update (its golden package does), which the goldens of
	// this package share.
	_ "github.com/charmbracelet/x/exp/teatest/v2"
)

// updating reports whether -update asks the golden files to be rewritten.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
