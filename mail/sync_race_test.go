//go:build race

package mail_test

// syncRaceEnabled is true under -race, which slows everything several times:
// latency bounds are widened so they still test the mechanism, not the box.
const syncRaceEnabled = true
