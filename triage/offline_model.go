package triage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrBadModel is returned when embedded or given weights cannot be read.
var ErrBadModel = errors.New("offline model: bad weights")

const (
	nIntents = 6
	// maxBody bounds how much of a body the classifier reads: the start of an
	// email says what it is, and long tails (logs, forwarded threads) cost
	// time without changing the verdict.
	maxBody = 8 << 10
	// minOwnFeatures: with fewer known words of its own, an email is
	// judged by its quoted text too (at quotedValue, up to maxQuoted words).
	minOwnFeatures = 6
	maxQuoted      = 300
	quotedValue    = 0.5
	// maxOwnQuestion is how far into the body a question mark is looked for.
	maxOwnQuestion = 2 << 10
	modelMagic     = "SMISTA-OFFLINE-3\n"
)

// shape are the hyperparameters the scan of an email uses, fixed at
// training and stored with the weights.
type shape struct {
	// subject is the feature value of a subject word (body words are 1);
	// replySubject that of a reply's or forward's subject, which names the
	// thread more than this email.
	subject, replySubject float32
	// oov is what an unknown word adds to the squared norm: a long email
	// full of words the model never saw is less sure than a short one.
	oov float32
}

// model is the learned part: a multinomial logistic regression over the
// L2-normalised bag of words (stemmed, function words left out), word pairs
// of the written examples and the question feature, with a temperature
// fitted on held-out data, and a calibrator that turns its probabilities
// into a confidence fitted on domains held out of training.
type model struct {
	words       []string
	weights     []float32 // len(words) × nIntents
	bias        [nIntents]float32
	temperature float32
	shape       shape
	cal         calibrator
}

// probs returns the class probabilities for a scan.
func (md *model) probs(s *scan, out *[nIntents]float64) {
	var z [nIntents]float64
	for c := range z {
		z[c] = float64(md.bias[c])
	}
	inv := 1 / s.norm
	for _, f := range s.feats {
		w := md.weights[int(f.id)*nIntents : int(f.id)*nIntents+nIntents]
		v := float64(f.v) * inv
		for c := range nIntents {
			z[c] += v * float64(w[c])
		}
	}
	t := float64(md.temperature)
	if t <= 0 {
		t = 1
	}
	softmax(&z, t, out)
}

func softmax(z *[nIntents]float64, t float64, out *[nIntents]float64) {
	mx := math.Inf(-1)
	for _, v := range z {
		mx = max(mx, v/t)
	}
	var sum float64
	for c, v := range z {
		out[c] = math.Exp(v/t - mx)
		sum += out[c]
	}
	for c := range out {
		out[c] /= sum
	}
}

// header is the fixed part of the encoded model after the magic line, as
// float32 values in this order.
func (md *model) header() []*float32 {
	h := []*float32{&md.temperature, &md.shape.subject, &md.shape.replySubject, &md.shape.oov}
	for c := range md.cal.intercept {
		h = append(h, &md.cal.intercept[c])
	}
	for i := range md.cal.slope {
		h = append(h, &md.cal.slope[i])
	}
	h = append(h, &md.cal.lift)
	for c := range md.bias {
		h = append(h, &md.bias[c])
	}
	return h
}

// encode writes the model in its compact binary form: the magic line, the
// header (temperature, shape, calibrator, biases) as float32, the word
// count, a weight scale, then per word its length, bytes and weights as
// int16 multiples of the scale.
func (md *model) encode() []byte {
	var b bytes.Buffer
	b.WriteString(modelMagic)
	put := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	for _, v := range md.header() {
		put(*v)
	}
	put(uint32(len(md.words)))
	var mx float32
	for _, w := range md.weights {
		mx = max(mx, float32(math.Abs(float64(w))))
	}
	scale := mx / 32767
	if scale == 0 {
		scale = 1
	}
	put(scale)
	for i, w := range md.words {
		b.WriteByte(byte(len(w)))
		b.WriteString(w)
		for c := range nIntents {
			put(int16(math.Round(float64(md.weights[i*nIntents+c] / scale))))
		}
	}
	return b.Bytes()
}

// decodeModel reads what encode wrote; it fails with ErrBadModel.
func decodeModel(data []byte) (*model, error) {
	bad := func(what string) (*model, error) { return nil, fmt.Errorf("%w: %s", ErrBadModel, what) }
	if !bytes.HasPrefix(data, []byte(modelMagic)) {
		return bad("magic")
	}
	p := data[len(modelMagic):]
	f32 := func() float32 {
		v := math.Float32frombits(binary.LittleEndian.Uint32(p))
		p = p[4:]
		return v
	}
	md := &model{}
	h := md.header()
	if len(p) < 4*len(h)+8 {
		return bad("short header")
	}
	for _, v := range h {
		*v = f32()
	}
	n := int(binary.LittleEndian.Uint32(p))
	p = p[4:]
	scale := f32()
	if n > len(p) {
		return bad("word count")
	}
	md.words = make([]string, 0, n)
	md.weights = make([]float32, 0, n*nIntents)
	for range n {
		if len(p) < 1 || len(p) < 1+int(p[0])+2*nIntents {
			return bad("truncated")
		}
		l := int(p[0])
		md.words = append(md.words, string(p[1:1+l]))
		p = p[1+l:]
		for c := 0; c < nIntents; c++ {
			md.weights = append(md.weights, float32(int16(binary.LittleEndian.Uint16(p[2*c:])))*scale)
		}
		p = p[2*nIntents:]
	}
	if len(p) != 0 {
		return bad("trailing bytes")
	}
	return md, nil
}
