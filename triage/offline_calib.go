package triage

import "math"

// nCalInputs is how many inputs the calibrator reads besides the intent.
const nCalInputs = 6

// calibrator turns the model's probabilities into a confidence: the
// probability that the intent is right, fitted by logistic regression on
// predictions for emails of product domains held out of training. It
// reads the predicted intent, how sure the model is (the log-odds of the
// top class and its lead over the second), the share of the email's words
// the model never saw, how many it knew, and how much of the lead over
// the second intent its one and its three strongest words carry: a lead
// that rests on a word or two of an unfamiliar email is a guess from
// vocabulary, and unfamiliar vocabulary lowers the confidence instead of
// raising it. It may lower the model's log-odds freely but raise them by
// at most lift: what it learns of an intent's reliability on the written
// domains, whose writers wrote the training data too, is not carried onto
// mail of other products and hands (a spam the model reads as a 55%
// request stays below the threshold). The zero calibrator is none: the
// confidence is then the top probability.
type calibrator struct {
	intercept [nIntents]float32 // by predicted intent
	slope     [nCalInputs]float32
	// lift bounds how much the calibrator may raise the model's log-odds
	// (1.2: 3.3 times the odds).
	lift float32
}

func (cal *calibrator) isZero() bool { return *cal == calibrator{} }

// calInputs returns the calibrator's inputs for a prediction: the
// log-odds of the top class, its log-ratio to the second, the share of
// unknown words, log(1+known words), and the share of the positive
// evidence for the top class over the second that its strongest word and
// its three strongest words carry (1 when there is none).
func (md *model) calInputs(p *[nIntents]float64, best int, s *scan) [nCalInputs]float64 {
	second, sc := 0.0, 0
	for c, v := range p {
		if c != best && v >= second {
			second, sc = v, c
		}
	}
	top := min(max(p[best], 1e-6), 1-1e-6)
	known := float64(len(s.feats))
	var pos, m1, m2, m3 float64
	for _, f := range s.feats {
		i := int(f.id) * nIntents
		d := float64(f.v * (md.weights[i+best] - md.weights[i+sc]))
		if d <= 0 {
			continue
		}
		pos += d
		switch {
		case d > m1:
			m1, m2, m3 = d, m1, m2
		case d > m2:
			m2, m3 = d, m2
		case d > m3:
			m3 = d
		}
	}
	one, three := 1.0, 1.0
	if pos > 0 {
		one, three = m1/pos, (m1+m2+m3)/pos
	}
	return [nCalInputs]float64{
		math.Log(top / (1 - top)),
		math.Log(top / max(second, 1e-6)),
		float64(s.oov) / max(1, float64(s.oov)+known),
		math.Log1p(known),
		one,
		three,
	}
}

// confidence returns the calibrated confidence of the prediction best.
func (md *model) confidence(p *[nIntents]float64, best int, s *scan) float64 {
	if md.cal.isZero() {
		return p[best]
	}
	in := md.calInputs(p, best, s)
	z := float64(md.cal.intercept[best])
	for i, v := range in {
		z += float64(md.cal.slope[i]) * v
	}
	z = min(z, in[0]+float64(md.cal.lift))
	return 1 / (1 + math.Exp(-z))
}

// calSample is one prediction for an email of a held-out domain.
type calSample struct {
	in     [nCalInputs]float64
	intent int
	right  bool
	weight float64
}

// calOOV is the index of the unfamiliar-words input: its slope may not be
// positive (unfamiliar vocabulary never raises the confidence).
const calOOV = 2

// calL2 is the ridge penalty of the calibrator's fit: a few hundred
// samples fit ten parameters, and a rare intent's intercept should not
// chase its two or three samples.
const calL2 = 1.0

// fitCalibrator fits the calibrator to weighted samples by Newton's
// method on the L2-penalised log-likelihood (a fixed number of steps: the
// problem is small and convex). A positive slope for unfamiliar words is
// fixed at 0 and the rest fitted again. It returns the zero calibrator for
// no samples.
func fitCalibrator(samples []calSample) calibrator {
	if len(samples) == 0 {
		return calibrator{}
	}
	var fixed [nIntents + nCalInputs]bool
	w := newtonFit(samples, fixed)
	if w[nIntents+calOOV] > 0 {
		fixed[nIntents+calOOV] = true
		w = newtonFit(samples, fixed)
	}
	var cal calibrator
	for c := range nIntents {
		cal.intercept[c] = float32(w[c])
	}
	for i := range nCalInputs {
		cal.slope[i] = float32(w[nIntents+i])
	}
	return cal
}

// newtonFit returns the penalised maximum-likelihood weights (the
// per-intent intercepts, then the slopes), the fixed ones held at 0.
func newtonFit(samples []calSample, fixed [nIntents + nCalInputs]bool) [nIntents + nCalInputs]float64 {
	const n = nIntents + nCalInputs
	var w [n]float64
	for range 50 {
		var g [n]float64
		var h [n][n]float64
		for i := range n {
			g[i] = calL2 * w[i]
			h[i][i] = calL2
		}
		for _, s := range samples {
			var v [n]float64
			v[s.intent] = 1
			copy(v[nIntents:], s.in[:])
			var z float64
			for i := range n {
				z += w[i] * v[i]
			}
			p := 1 / (1 + math.Exp(-z))
			y, sw := 0.0, s.weight
			if s.right {
				y = 1
			}
			for i := range n {
				g[i] += sw * (p - y) * v[i]
				for j := range n {
					h[i][j] += sw * p * (1 - p) * v[i] * v[j]
				}
			}
		}
		for i := range n {
			if fixed[i] {
				// a fixed weight stays 0: no gradient, an identity row
				g[i] = 0
				for j := range n {
					h[i][j], h[j][i] = 0, 0
				}
				h[i][i] = 1
			}
		}
		step, ok := solve(h, g)
		if !ok {
			break
		}
		for i := range n {
			w[i] -= step[i]
		}
	}
	return w
}

// solve returns x with a·x = b by Gaussian elimination with partial
// pivoting; ok is false for a singular a.
func solve(a [nIntents + nCalInputs][nIntents + nCalInputs]float64, b [nIntents + nCalInputs]float64) ([nIntents + nCalInputs]float64, bool) {
	const n = nIntents + nCalInputs
	for col := range n {
		piv := col
		for r := col + 1; r < n; r++ {
			if math.Abs(a[r][col]) > math.Abs(a[piv][col]) {
				piv = r
			}
		}
		if math.Abs(a[piv][col]) < 1e-12 {
			return b, false
		}
		a[col], a[piv] = a[piv], a[col]
		b[col], b[piv] = b[piv], b[col]
		for r := col + 1; r < n; r++ {
			f := a[r][col] / a[col][col]
			for k := col; k < n; k++ {
				a[r][k] -= f * a[col][k]
			}
			b[r] -= f * b[col]
		}
	}
	var x [n]float64
	for r := n - 1; r >= 0; r-- {
		v := b[r]
		for k := r + 1; k < n; k++ {
			v -= a[r][k] * x[k]
		}
		x[r] = v / a[r][r]
	}
	return x, true
}
