package triage_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"smista/triage"
)

// heldoutDir holds labelled sets of product domains absent from the
// training data, written by a different hand. Never trained on; since
// issue 11's second round they are development sets (their errors are
// read), and the acceptance is measured on blind sets elsewhere.
const heldoutDir = "../testdata/triage/heldout"

// setVIP reads a held-out set's VIP list from its README.
func setVIP(tb testing.TB, dir string) []string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		tb.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^vip\s*=\s*\[(.*)\]`).FindSubmatch(b)
	if line == nil {
		tb.Fatalf("%s/README.md: no vip = [...] line", dir)
	}
	var vip []string
	for _, q := range regexp.MustCompile(`"([^"]+)"`).FindAllSubmatch(line[1], -1) {
		vip = append(vip, string(q[1]))
	}
	return vip
}

// The acceptance targets of issue 11 on each held-out set, and the
// floors the current model reaches. sharing and lab were blind until the
// merge of issue 11's second and third rounds was scored on them once
// (the acceptance figures, in the heldout README): sharing 0.955, 0.913,
// 0.910 met the targets; lab 0.870, 0.769, 0.890 did not. photobooks and
// hearing were blind until the model after the fourth round was scored on
// them once: photobooks 0.870, 0.870, 0.900 and hearing 0.920, 0.958,
// 0.890 — neither meets the precision target. These nine are development
// sets now: their errors were read, and every change made for
// them is a general rule or training data in other product domains (the
// acceptance is measured on blind sets nobody working on the classifier
// reads). The current model (issue 11's fifth round: a calibrator that
// distrusts a lead carried by a word or two, four more training domains)
// reaches ticket precision, recall and intent accuracy: energy 1.000,
// 0.976, 0.981; veterinary 1.000, 0.976, 0.971; printers 1.000, 0.870,
// 0.930; locks 1.000, 0.909, 0.970; pos 1.000, 0.857, 0.890; sharing
// 1.000, 0.913, 0.930; lab 1.000, 0.846, 0.910; photobooks 0.913, 0.913,
// 0.910; hearing 0.920, 0.958, 0.930 — printers, pos and lab are still
// below the recall target, photobooks and hearing below the precision
// target. telescopes, marina, homebrew and esign were blind until that
// model was scored on them once: 0.889, 0.960, 0.920; 0.955, 0.913,
// 0.850; 0.700, 0.875, 0.880; 1.000, 0.958, 0.950 — esign meets every
// target, marina misses intent accuracy, telescopes and homebrew miss
// precision; they are development sets now too. The sixth round
// (payments in the sender's own words, a call asked for about a product
// named, a question before buying, a pitch for a call of N minutes, more
// closing replies, a privacy breach named is legal) reaches 0.955, 0.913,
// 0.910 on photobooks; 1.000, 0.958, 0.940 on hearing; 0.913, 0.875,
// 0.910 on homebrew; 1.000, 0.913, 0.860 on marina; 1.000, 0.857, 0.900
// on pos; 1.000, 0.960, 0.930 on telescopes, the other sets unchanged.
// beehives, pianos and translation were blind until the fifth round's
// model and then the sixth's were scored on them once each: 0.913,
// 0.840, 0.910; 0.955, 0.913, 0.890; 0.875 then 0.913, 0.840, 0.870 —
// pianos meets every target, beehives and translation miss precision and
// recall; they are development sets now too. ski, drones and water were
// blind until the model after four more training domains (cc93fbc) and
// the one before it were scored on them once each: 0.762, 0.696, 0.860;
// 0.929, 0.963, 0.940; 0.917, 0.880, 0.960 (before: 0.727, 0.696, 0.860;
// 0.897, 0.963, 0.950; 0.920, 0.920, 0.960) — none meets every target.
// The eighth round (money in the sender's own words: an amount next to a
// word of money moved, a charge to come, a deposit, credit or claim; a
// forward's text is the sender's; a call or a chaser with nothing named is
// contentless) takes the false tickets of the nineteen sets from 17 to 4,
// recall unchanged: precision beehives 1.000, drones 0.963, pianos 1.000,
// ski 0.941, translation 1.000, veterinary 1.000, water 1.000. Seven
// more training domains by other hands (the model regenerated) then
// raise intent accuracy on eleven sets and lower it on four (pooled
// 0.932 -> 0.940) and move tickets at the margin (pooled precision 0.991
// -> 0.987, recall 0.908 -> 0.902): energy, photobooks, pos, printers
// and translation lose one or two at the threshold, and their floors
// follow. thermostats, vending, eyewear, lockers and elevators were
// blind until the model before the eighth round (c2fc232) and the one
// after it (9167a37) were scored on them once each: 0.958, 0.958, 0.970;
// 0.885, 0.920, 0.910; 0.909, 0.833, 0.940; 0.917, 0.917, 0.910; 1.000,
// 0.875, 0.920 (before: 0.958, 0.958, 0.930; 0.846, 0.880, 0.880; 0.833,
// 0.833, 0.940; 0.880, 0.917, 0.880; 1.000, 0.875, 0.910) — thermostats
// meets every target, the others miss precision (vending, eyewear,
// lockers) or recall (eyewear, elevators); they are development sets
// now too. The ninth round (a thank-you note is other, never a ticket; a
// request that names what is wrong only by a placeholder, "the locker
// thing", "la cosa che avete messo", is asked back; "reimburses" and
// "accreditare" are money moved) takes the false tickets of the 24 sets
// from 14 to 6, recall unchanged: precision eyewear 1.000, lockers 1.000,
// ski 1.000, thermostats 1.000, vending 0.958. florist, archive, bikeshop
// and catering were blind until the eighth round's model (db08f25) and
// the ninth's (d49e791) were scored on them once each: 0.917, 0.917,
// 0.960; 1.000, 0.920, 0.920; 0.950, 0.792, 0.920; 0.905, 0.792, 0.920
// (before: precision 0.880 on florist and 0.905 on bikeshop, the rest
// the same) — archive meets every target; they are development sets now
// too.
// Each set is
// asserted at floors just under the figures reached — a regression
// guard, not the acceptance — and the gap to the targets is logged on
// every run.
const targetPrecision, targetRecall, targetAccuracy = 0.95, 0.90, 0.88

type heldoutFloor struct{ precision, recall, accuracy float64 }

var heldoutFloors = map[string]heldoutFloor{
	"veterinary":  {0.99, 0.97, 0.97},
	"energy":      {0.99, 0.95, 0.97},
	"printers":    {0.95, 0.91, 0.98},
	"locks":       {0.99, 0.90, 0.97},
	"pos":         {0.99, 0.80, 0.93},
	"sharing":     {0.99, 0.91, 0.93},
	"lab":         {0.99, 0.84, 0.93},
	"photobooks":  {0.95, 0.86, 0.95},
	"hearing":     {0.99, 0.95, 0.94},
	"telescopes":  {0.99, 0.96, 0.95},
	"marina":      {0.99, 0.91, 0.90},
	"homebrew":    {0.91, 0.87, 0.91},
	"esign":       {0.99, 0.95, 0.96},
	"beehives":    {0.99, 0.88, 0.95},
	"pianos":      {0.99, 0.95, 0.93},
	"translation": {0.99, 0.80, 0.91},
	"ski":         {0.99, 0.69, 0.88},
	"drones":      {0.96, 0.96, 0.95},
	"water":       {0.99, 0.88, 0.95},
	"thermostats": {0.99, 0.95, 0.96},
	"vending":     {0.95, 0.91, 0.91},
	"eyewear":     {0.99, 0.83, 0.94},
	"lockers":     {0.99, 0.91, 0.91},
	"elevators":   {0.99, 0.87, 0.91},
	"florist":     {0.91, 0.91, 0.95},
	"archive":     {0.99, 0.91, 0.91},
	"bikeshop":    {0.94, 0.79, 0.91},
	"catering":    {0.90, 0.79, 0.91},
}

// TestAccuracyHeldout scores every held-out set, each with its own VIP
// list: intent accuracy and ticket precision and recall at least the
// set's floors; on all the sets together (mail of products the model
// never saw, by other hands than its training data's), a reliability
// table whose every band from 0.8 up is at least as accurate as its lower
// edge: the band just over the ticket threshold is where an over-confident
// model puts its false tickets.
func TestAccuracyHeldout(t *testing.T) {
	sets, err := filepath.Glob(filepath.Join(heldoutDir, "*", "labels.csv"))
	if err != nil || len(sets) < 28 {
		t.Fatalf("want twenty-eight held-out sets under %s, found %d (%v)", heldoutDir, len(sets), err)
	}
	o := mustOffline(t)
	var all []triage.Outcome
	for _, labels := range sets {
		dir := filepath.Dir(labels)
		name := filepath.Base(dir)
		fl, ok := heldoutFloors[name]
		if !ok {
			t.Fatalf("held-out set %s has no floors", name)
		}
		ex := loadLabelled(t, labels, dir)
		eo := triage.EvalOptions{Context: triage.Context{VIP: setVIP(t, dir)}, Policy: triage.DefaultPolicy()}
		rep, outs, err := triage.Evaluate(context.Background(), o, ex, eo)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, outs...)
		t.Logf("held-out %s:\n%s", name, rep.Text())
		for _, c := range []struct {
			what               string
			got, floor, target float64
		}{
			{"ticket precision", rep.Tickets.Precision, fl.precision, targetPrecision},
			{"ticket recall", rep.Tickets.Recall, fl.recall, targetRecall},
			{"intent accuracy", rep.IntentAccuracy, fl.accuracy, targetAccuracy},
		} {
			if c.got < c.floor {
				t.Errorf("%s: %s %.3f < %.2f", name, c.what, c.got, c.floor)
			} else if c.got < c.target {
				t.Logf("%s: %s %.3f, below issue 11's target %.2f", name, c.what, c.got, c.target)
			}
		}
	}
	rep := triage.Score(all, triage.EvalOptions{Policy: triage.DefaultPolicy()})
	t.Logf("held-out, all sets:\n%s", rep.Text())
	for _, b := range rep.Calibration {
		if b.Lo >= 0.8 && b.Emails > 0 && b.Accuracy < b.Lo {
			t.Errorf("band %.2f-%.2f: %d of %d right (%.3f), below its lower edge", b.Lo, b.Hi, b.Right, b.Emails, b.Accuracy)
		}
	}
}
