package webhook

import "time"

// decide applies the retry policy to an attempt's result.
func (s *Sender) decide(d Delivery, r Result) Outcome {
	o := Outcome{Delivery: d, Result: r, Deadline: d.Deadline, LastError: r.Err}
	if r.Class == ClassOffline {
		// Due again as soon as the network is back; the round is as it was.
		o.Status, o.NextAttemptAt = StatusRetrying, r.Started.Add(r.Duration)
		return o
	}
	if o.Deadline.IsZero() {
		o.Deadline = r.Started.Add(s.round)
	}
	if r.OK() {
		o.Status = StatusDelivered
		return o
	}
	n := d.RoundAttempts // retries already scheduled in this round
	if r.Permanent || n >= len(s.opts.Retries) {
		o.Status = StatusDead
		return o
	}
	done := r.Started.Add(r.Duration)
	delay := s.opts.Retries[n]
	if r.RetryAfter > delay {
		// Honour Retry-After, but only up to the next step of the schedule
		// (or the round's deadline for the last retry): a receiver cannot
		// stretch the give-up time.
		hi := o.Deadline.Sub(done)
		if n+1 < len(s.opts.Retries) {
			hi = min(hi, s.opts.Retries[n+1])
		}
		delay = max(delay, min(r.RetryAfter, hi))
	}
	o.Status = StatusRetrying
	o.NextAttemptAt = done.Add(delay)
	return o
}

// fmtDuration prints 30m rather than 30m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	for _, suf := range []string{"m0s", "h0m"} {
		if len(s) > len(suf) && s[len(s)-len(suf):] == suf {
			s = s[:len(s)-len(suf)+1]
		}
	}
	return s
}
