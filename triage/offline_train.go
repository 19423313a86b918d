package triage

import (
	"cmp"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"smista/mail"
)

// TrainDoc is one labelled training email.
type TrainDoc struct {
	Intent  Intent
	Message *mail.Message
	// Corpus marks an email from a large outside corpus (SpamAssassin):
	// together such emails get at most half of their class's weight, so
	// thousands of mailing-list posts do not drown the written examples,
	// and the temperature is fitted on the written examples only.
	Corpus bool
	// Domain names the product domain the email was written for ("" for
	// none): the unit of leave-one-domain-out.
	Domain string
}

// TrainOptions are the offline model's hyperparameters.
type TrainOptions struct {
	Epochs       int     // passes of stochastic gradient descent
	LearningRate float64 // initial step
	L2           float64 // weight decay per step
	MinDF        int     // a word must appear in this many documents
	MaxWords     int     // vocabulary cap (most frequent kept)
	Seed         uint64  // shuffling seed: training is deterministic
	// OwnWordsOnly keeps only words of the written examples and of corpus
	// spam in the vocabulary.
	OwnWordsOnly bool
	// MinPairDF and MaxPairs bound the word pairs of the vocabulary like
	// MinDF and MaxWords bound the words; pairs come from the written
	// examples only.
	MinPairDF, MaxPairs int
	// CorpusShare is the part of a class's weight that its corpus emails
	// (TrainDoc.Corpus) share, when the class also has written examples.
	CorpusShare float64
	// CorpusShareOther, when not 0, replaces CorpusShare for the "other"
	// class: the corpus's ham is mailing-list prose — people reporting
	// and debugging problems to each other — and a long narrative support
	// request should not read as it (mailing lists are known by their
	// headers, a rule). At 0.4 half of the development sets' missed
	// tickets were clear bug reports read as other; at 0.1 a third as
	// many.
	CorpusShareOther float64
	// MinDomains keeps in the vocabulary only the words and pairs used in
	// at least this many domains (TrainDoc.Domain; the corpus is one):
	// words of one product's trade would teach the model that product,
	// not what a support request is.
	MinDomains int
	// Subject, ReplySubject and OOV are the scan's shape (see shape).
	Subject, ReplySubject, OOV float64
	// Calibrate fits the confidence calibrator on predictions for each
	// domain by a model trained without it (Train only).
	Calibrate bool
	// CorpusCalShare is the total weight of the corpus emails among the
	// calibrator's samples, as a share of the written emails' count: an
	// inbox gets spam and list mail too, on which a "support" reading is
	// wrong however sure the model is.
	CorpusCalShare float64
	// CalLift bounds how much the calibrator may raise the model's
	// log-odds (see calibrator).
	CalLift float64
}

// DefaultTrainOptions returns the hyperparameters the embedded model was
// trained with.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Epochs: 20, LearningRate: 0.5, L2: 1e-5, MinDF: 2, MaxWords: 20000, MinPairDF: 3, MaxPairs: 8000,
		Seed: 1, CorpusShare: 0.4, CorpusShareOther: 0.1, MinDomains: 1, Subject: 2, ReplySubject: 1, OOV: 0.1,
		Calibrate: true, CorpusCalShare: 0.5, CalLift: 1.2}
}

func (o TrainOptions) corpusShare(class int) float64 {
	if Intents[class] == IntentOther && o.CorpusShareOther != 0 {
		return o.CorpusShareOther
	}
	return o.CorpusShare
}

func (o TrainOptions) shape() shape {
	return shape{subject: float32(o.Subject), replySubject: float32(o.ReplySubject), oov: float32(o.OOV)}
}

// TrainReport describes a trained model on its calibration split.
type TrainReport struct {
	Words       int
	Temperature float64
	// CalAccuracy is the intent accuracy on the calibration split.
	CalAccuracy float64
	// CalHigh is how many calibration emails scored ≥ 0.8, CalHighRight
	// how many of those were right.
	CalHigh, CalHighRight int
	// CalSamples is how many held-out-domain predictions the confidence
	// calibrator was fitted on (0: no calibrator).
	CalSamples int
}

// Split assigns a training example to "train", "cal" (temperature fitting)
// or "test" by a hash of its key: 70%, 15%, 15%. Train trains on "test"
// too: the held-out measure is leave-one-domain-out and the held-out
// sets.
func Split(key string) string {
	h := fnv.New32a()
	h.Write([]byte(key))
	switch v := h.Sum32() % 100; {
	case v < 70:
		return "train"
	case v < 85:
		return "cal"
	default:
		return "test"
	}
}

type trainVec struct {
	y      int
	corpus bool
	w      float64 // class weight
	feats  []feature
	norm   float64
}

// TrainOffline fits the offline model on train, fits its temperature on cal
// (minimum negative log-likelihood) and returns the encoded weights, ready
// for NewOfflineWeights (without a confidence calibrator: see Train). It
// fails when a class has no example.
func TrainOffline(train, cal []TrainDoc, o TrainOptions) ([]byte, TrainReport, error) {
	md, rep, err := fitModel(train, cal, o)
	if err != nil {
		return nil, rep, err
	}
	return md.encode(), rep, nil
}

// fitModel is TrainOffline without the encoding. Long: one pass of
// vectorising, weighting, SGD and the temperature, each using the last.
func fitModel(train, cal []TrainDoc, o TrainOptions) (*model, TrainReport, error) {
	var rep TrainReport
	vocab := buildVocab(train, o)
	lx := newLexicon(vocab, o.shape())
	pool := &scratchPool{lx: lx}
	vecs := func(docs []TrainDoc) []trainVec {
		out := make([]trainVec, 0, len(docs))
		sc := pool.get()
		for _, d := range docs {
			lx.scanMessage(sc, d.Message)
			out = append(out, trainVec{y: indexOf(d.Intent), corpus: d.Corpus, feats: slices.Clone(sc.scan.feats), norm: sc.scan.norm})
		}
		return out
	}
	tv, cv := vecs(train), vecs(cal)
	var count, corpus [nIntents]int
	for _, v := range tv {
		if v.y < 0 {
			return nil, rep, errors.New("train offline: unknown intent")
		}
		count[v.y]++
		if v.corpus {
			corpus[v.y]++
		}
	}
	for c, n := range count {
		if n == 0 {
			return nil, rep, fmt.Errorf("train offline: no %s example", Intents[c])
		}
	}
	for i := range tv {
		// every class weighs the same in total; within a class, corpus
		// emails share CorpusShare of it
		y := tv[i].y
		own := count[y] - corpus[y]
		classW := float64(len(tv)) / float64(nIntents)
		switch {
		case own == 0 || corpus[y] == 0:
			tv[i].w = classW / float64(count[y])
		case tv[i].corpus:
			tv[i].w = classW * o.corpusShare(y) / float64(corpus[y])
		default:
			tv[i].w = classW * (1 - o.corpusShare(y)) / float64(own)
		}
	}
	md := &model{words: vocab, weights: make([]float32, len(vocab)*nIntents), temperature: 1, shape: o.shape()}
	w := make([]float64, len(md.weights))
	var bias [nIntents]float64
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	order := make([]int, len(tv))
	for i := range order {
		order[i] = i
	}
	for ep := range o.Epochs {
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		lr := o.LearningRate / (1 + float64(ep))
		for _, i := range order {
			v := &tv[i]
			var z, p [nIntents]float64
			z = bias
			for _, f := range v.feats {
				x := float64(f.v) / v.norm
				for c := range nIntents {
					z[c] += x * w[int(f.id)*nIntents+c]
				}
			}
			softmax(&z, 1, &p)
			for c := range nIntents {
				g := p[c]
				if c == v.y {
					g--
				}
				g *= v.w * lr
				bias[c] -= g * 0.1
				for _, f := range v.feats {
					k := int(f.id)*nIntents + c
					w[k] -= g*float64(f.v)/v.norm + lr*o.L2*w[k]
				}
			}
		}
	}
	for i, x := range w {
		md.weights[i] = float32(x)
	}
	for c := range bias {
		md.bias[c] = float32(bias[c])
	}
	// temperature: the grid value with the least negative log-likelihood
	logits := func(v trainVec) [nIntents]float64 {
		z := bias
		for _, f := range v.feats {
			x := float64(f.v) / v.norm
			for c := range nIntents {
				z[c] += x * float64(md.weights[int(f.id)*nIntents+c])
			}
		}
		return z
	}
	fit := cv
	if own := slices.DeleteFunc(slices.Clone(cv), func(v trainVec) bool { return v.corpus }); len(own) > 0 {
		fit = own
	}
	bestT, bestNLL := 1.0, math.Inf(1)
	for t := 0.2; t <= 6; t += 0.05 {
		var nll float64
		for _, v := range fit {
			z := logits(v)
			var p [nIntents]float64
			softmax(&z, t, &p)
			nll -= math.Log(max(p[v.y], 1e-12))
		}
		if nll < bestNLL {
			bestT, bestNLL = t, nll
		}
	}
	md.temperature = float32(bestT)
	rep.Words, rep.Temperature = len(vocab), bestT
	var right int
	for _, v := range cv {
		z := logits(v)
		var p [nIntents]float64
		softmax(&z, bestT, &p)
		b := 0
		for c := range p {
			if p[c] > p[b] {
				b = c
			}
		}
		if b == v.y {
			right++
		}
		if p[b] >= 0.8 {
			rep.CalHigh++
			if b == v.y {
				rep.CalHighRight++
			}
		}
	}
	if len(cv) > 0 {
		rep.CalAccuracy = float64(right) / float64(len(cv))
	}
	return md, rep, nil
}

// buildVocab keeps the words that appear in at least MinDF training emails
// (the most frequent MaxWords), in a stable order. Long: one pass over
// the documents, then the two sorted cuts (words, pairs).
func buildVocab(docs []TrainDoc, o TrainOptions) []string {
	df, pairDF := map[string]int{}, map[string]int{}
	ownDF, spamDF := map[string]int{}, map[string]int{}
	// the domains each word and pair is used in
	domains := map[string]map[string]bool{}
	inDomain := func(w, d string) {
		if domains[w] == nil {
			domains[w] = map[string]bool{}
		}
		domains[w][d] = true
	}
	var t tokenizer
	seen := map[string]bool{}
	for _, d := range docs {
		clear(seen)
		body := d.Message.Text
		if len(body) > maxBody {
			body = body[:maxBody]
		}
		for _, s := range [...]string{d.Message.Subject, body} {
			t.reset(s)
			prev := ""
			for t.next() {
				if t.inQuote {
					prev = ""
					continue
				}
				w := string(stem(t.buf))
				// a pair is counted under its own name; the scan of an
				// email looks it up the same way
				pair := ""
				if prev != "" {
					pair = prev + string(bigramSep) + w
				}
				prev = w
				if pair != "" && !seen[pair] && !d.Corpus {
					seen[pair] = true
					pairDF[pair]++
					inDomain(pair, d.Domain)
				}
				if len(t.buf) < 2 || allDigits(t.buf) && len(t.buf) > 4 {
					continue
				}
				if stopWords[w] {
					continue
				}
				if !seen[w] {
					seen[w] = true
					df[w]++
					inDomain(w, d.Domain)
					switch {
					case !d.Corpus:
						ownDF[w]++
					case d.Intent == IntentSpam:
						spamDF[w]++
					}
				}
			}
		}
	}
	type wc struct {
		w string
		n int
	}
	var ws []wc
	for w, n := range df {
		// corpus ham adds no words of its own: its mailing-list English
		// would make every unfamiliar word a sign of "other"
		if n >= o.MinDF && (!o.OwnWordsOnly || ownDF[w] > 0 || spamDF[w] >= o.MinDF) && len(domains[w]) >= o.MinDomains {
			ws = append(ws, wc{w, n})
		}
	}
	slices.SortFunc(ws, func(a, b wc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.w, b.w)
	})
	if o.MaxWords > 0 && len(ws) > o.MaxWords {
		ws = ws[:o.MaxWords]
	}
	// word pairs of the written examples (not of the corpus: thousands of
	// mailing-list posts would fill the vocabulary with their phrases)
	var ps []wc
	for w, n := range pairDF {
		if n >= o.MinPairDF && len(domains[w]) >= o.MinDomains && !gluePair(w) {
			ps = append(ps, wc{w, n})
		}
	}
	slices.SortFunc(ps, func(a, b wc) int {
		if c := cmp.Compare(b.n, a.n); c != 0 {
			return c
		}
		return cmp.Compare(a.w, b.w)
	})
	if o.MaxPairs >= 0 && len(ps) > o.MaxPairs {
		ps = ps[:o.MaxPairs]
	}
	ws = append(ws, ps...)
	ws = append(ws, wc{questionWord, 0})
	out := make([]string, len(ws))
	for i, x := range ws {
		out[i] = x.w
	}
	slices.Sort(out)
	return out
}

// glueWords are the articles and prepositions of English and Italian
// (stemmed): a pair of two of them ("to the", "of the", "per la") says
// how long and how narrative a text is, not what it asks, and a model
// that learns them reads every long, careful report as the prose of a
// newsletter or a mailing list.
var glueWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the a an of to in on at by for from with into as about over under
		il lo la i gli le un uno una di a da in con su per tra fra del dello della dei degli delle al allo
		alla ai agli alle dal dallo dalla dai dagli dalle nel nello nella nei negli nelle sul sullo sulla
		sui sugli sulle col l`) {
		m[string(stem([]byte(w)))] = true
	}
	return m
}()

// gluePair reports a word pair of two glueWords.
func gluePair(pair string) bool {
	a, b, ok := strings.Cut(pair, string(bigramSep))
	return ok && glueWords[a] && glueWords[b]
}

// stopWords are function words of English and Italian (in their stemmed
// form): they say nothing about what an email is, but a model trained on a
// few thousand emails learns accidents from them ("for" and "our" in a sales
// pitch), so they never become features.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`the a an and or but if of to in on at by for from with about as into
		is are was were be been being am do does did have has had i me my we us our ours you your yours he him
		his she her it its they them their this that these those there here what which who whom when where
		how than then so too very just also all any some no not only own same other such can could would
		should will shall may might must up out over under again once s t re ve ll d m
		il lo la i gli le un uno una di a da in con su per tra fra e ed o ma se che chi cui non ne ci vi si
		mi ti ho hai ha abbiamo avete hanno è sono sei siamo siete era erano sia del dello della dei degli
		delle al allo alla ai agli alle dal dallo dalla dai dagli dalle nel nello nella nei negli nelle sul
		sullo sulla sui sugli sulle col come anche questo questa questi queste quello quella quelli quelle
		mio mia miei mie tuo tua suo sua nostro nostra nostri nostre vostro vostra loro più molto tutto tutti
		già ancora poi quando dove perché l un nostr vostr`) {
		m[string(stem([]byte(w)))] = true
	}
	return m
}()

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// KeyedDoc is a training email with the key that Split assigns.
type KeyedDoc struct {
	Key string
	TrainDoc
}

// ParseTrainTSV parses one training file: one email a line, as
// intent<TAB>subject<TAB>body, the body's line breaks written as \n. Lines
// starting with # and blank lines are skipped. The key of an email is the
// file name and its subject, so variants of one email share a split. It
// fails on an unknown intent or a malformed line, naming the file and line.
func ParseTrainTSV(name string, data []byte) ([]KeyedDoc, error) {
	var out []KeyedDoc
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || indexOf(Intent(f[0])) < 0 {
			return nil, fmt.Errorf("training data %s:%d: want intent<TAB>subject<TAB>body with a known intent", name, i+1)
		}
		m := &mail.Message{Subject: f[1], Text: strings.ReplaceAll(f[2], `\n`, "\n")}
		// variants of one email share a subject: keep them in one split
		key := strings.TrimSuffix(strings.TrimPrefix(strings.ToLower(f[1]), "re: "), "!")
		out = append(out, KeyedDoc{Key: name + ":" + key, TrainDoc: TrainDoc{Intent: Intent(f[0]), Message: m}})
	}
	return out, nil
}

// Train fits the offline model on docs: each email goes to the training
// or the temperature split by Split of its key (Split's "test" part is
// trained on: the held-out measure is leave-one-domain-out). With
// o.Calibrate, the confidence calibrator is fitted on predictions for
// each written domain by a model trained without that domain, so that
// confidence means what it says on mail of a product never seen. It
// returns the encoded weights and fails like TrainOffline.
func Train(docs []KeyedDoc, o TrainOptions) ([]byte, TrainReport, error) {
	md, rep, err := fitSplit(docs, o)
	if err != nil {
		return nil, rep, err
	}
	if o.Calibrate {
		samples, err := heldOutDomainSamples(docs, o)
		if err != nil {
			return nil, rep, err
		}
		md.cal = fitCalibrator(samples)
		md.cal.lift = float32(o.CalLift)
		rep.CalSamples = len(samples)
	}
	return md.encode(), rep, nil
}

// fitSplit fits a model on docs split by Split.
func fitSplit(docs []KeyedDoc, o TrainOptions) (*model, TrainReport, error) {
	var train, cal []TrainDoc
	for _, d := range docs {
		if Split(d.Key) == "cal" {
			cal = append(cal, d.TrainDoc)
		} else {
			train = append(train, d.TrainDoc)
		}
	}
	return fitModel(train, cal, o)
}

// heldOutDomainSamples trains one model per written domain without it,
// and without a share of the corpus emails assigned to its fold by a hash
// of their keys, and predicts what it left out (emails no rule decides):
// the calibrator's samples. Folds run in parallel, two at a time; the
// result does not depend on their order.
func heldOutDomainSamples(docs []KeyedDoc, o TrainOptions) ([]calSample, error) {
	var names []string
	for _, d := range docs {
		if d.Domain != "" && !d.Corpus && !slices.Contains(names, d.Domain) {
			names = append(names, d.Domain)
		}
	}
	slices.Sort(names)
	out := func(d KeyedDoc, i int) bool {
		if d.Corpus {
			return len(names) > 0 && int(fnv64([]byte(d.Key))%uint64(len(names))) == i
		}
		return d.Domain == names[i]
	}
	per := make([][]calSample, len(names))
	g := errgroup.Group{}
	g.SetLimit(2)
	for i, name := range names {
		g.Go(func() error {
			rest := slices.DeleteFunc(slices.Clone(docs), func(d KeyedDoc) bool { return out(d, i) })
			md, _, err := fitSplit(rest, o)
			if err != nil {
				return fmt.Errorf("calibrate without %s: %w", name, err)
			}
			off := newOfflineModel(md)
			for _, d := range docs {
				if !out(d, i) {
					continue
				}
				if smp, ok := off.sample(d.Message, indexOf(d.Intent)); ok {
					smp.weight = 1
					if d.Corpus {
						smp.weight = -1 // set below, once the counts are known
					}
					per[i] = append(per[i], smp)
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	samples := slices.Concat(per...)
	var written, corpus int
	for _, s := range samples {
		if s.weight < 0 {
			corpus++
		} else {
			written++
		}
	}
	for i := range samples {
		if samples[i].weight < 0 {
			samples[i].weight = o.CorpusCalShare * float64(written) / float64(corpus)
		}
	}
	return samples, nil
}
