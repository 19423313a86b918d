package config

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

var durationType = reflect.TypeFor[Duration]()

// schema maps each key path ("triage.threshold", "account.imap.port") to
// the Go type its value decodes into, read from Config's toml tags.
func schema() map[string]reflect.Type {
	out := map[string]reflect.Type{}
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for f := range t.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				continue
			}
			path := prefix + name
			ft := f.Type
			out[path] = ft
			if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct && ft.Elem() != durationType {
				ft = ft.Elem() // [[account]]: each element is a table
			}
			if ft.Kind() == reflect.Struct && ft != durationType {
				walk(path+".", ft)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	return out
}

// typeCheck reads the document and returns, for the first value whose type
// does not fit its key, an error naming the line, the whole key and what
// the key wants: "line 3: account.imap.port: want a whole number, got a
// string". The decoder's own messages name Go types instead; a value whose
// type fits is left to the decoder and Validate. Syntax errors are left to
// the decoder too (it reports them with their position).
func typeCheck(b []byte) error {
	types := schema()
	var p unstable.Parser
	p.Reset(b)
	var table []string
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(e.Key())
		case unstable.KeyValue:
			path := append(append([]string{}, table...), keyParts(e.Key())...)
			if err := checkValue(&p, types, strings.Join(path, "."), e); err != nil {
				return err
			}
		}
	}
	return nil
}

func keyParts(it unstable.Iterator) []string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return parts
}

// checkValue checks the value of the key-value kv, and the values of an
// inline table under it.
func checkValue(p *unstable.Parser, types map[string]reflect.Type, path string, kv *unstable.Node) error {
	v := kv.Value()
	t, ok := types[path]
	if !ok {
		return nil // an unknown key: the decoder names it
	}
	if v.Kind == unstable.InlineTable && t.Kind() == reflect.Struct && t != durationType {
		it := v.Children()
		for it.Next() {
			sub := path + "." + strings.Join(keyParts(it.Node().Key()), ".")
			if err := checkValue(p, types, sub, it.Node()); err != nil {
				return err
			}
		}
		return nil
	}
	want, fits := fitsType(t, v)
	if fits {
		return nil
	}
	got := describe(p, v)
	if v.Kind == unstable.Array {
		// Name the element that does not fit.
		it := v.Children()
		for it.Next() {
			if _, ok := fitsType(t.Elem(), it.Node()); !ok {
				got = describe(p, it.Node()) + " in the list"
				break
			}
		}
	}
	line := p.Shape(kv.Raw).Start.Line
	return fmt.Errorf("line %d: %s: want %s, got %s", line, path, want, got)
}

// fitsType reports whether v can decode into t, and what t wants in words.
func fitsType(t reflect.Type, v *unstable.Node) (string, bool) {
	switch {
	case t == durationType:
		return `a duration in quotes, e.g. "30s" or "5m"`, v.Kind == unstable.String
	case t.Kind() == reflect.String:
		return "a string in quotes", v.Kind == unstable.String
	case t.Kind() == reflect.Int:
		return "a whole number", v.Kind == unstable.Integer
	case t.Kind() == reflect.Float64:
		return "a number", v.Kind == unstable.Integer || v.Kind == unstable.Float
	case t.Kind() == reflect.Bool:
		return "true or false", v.Kind == unstable.Bool
	case t.Kind() == reflect.Slice && (t.Elem().Kind() != reflect.Struct || t.Elem() == durationType):
		want := `a list of strings in quotes, e.g. ["a", "b"]`
		if t.Elem() == durationType {
			want = `a list of durations in quotes, e.g. ["30s", "60s"]`
		}
		if v.Kind != unstable.Array {
			return want, false
		}
		it := v.Children()
		for it.Next() {
			if _, ok := fitsType(t.Elem(), it.Node()); !ok {
				return want, false
			}
		}
		return want, true
	case t.Kind() == reflect.Slice:
		return "a list of tables ([[...]])", v.Kind == unstable.Array
	case t.Kind() == reflect.Struct:
		return "a table", v.Kind == unstable.InlineTable
	}
	return t.String(), true
}

// describe says what a value is: `a string ("high")`, `a whole number (5)`.
func describe(p *unstable.Parser, v *unstable.Node) string {
	raw := strings.TrimSpace(string(rawOf(p, v)))
	if len(raw) > 40 {
		raw = raw[:37] + "..."
	}
	kind := map[unstable.Kind]string{
		unstable.String: "a string", unstable.Integer: "a whole number", unstable.Float: "a number",
		unstable.Bool: "a boolean", unstable.Array: "a list", unstable.InlineTable: "a table",
	}[v.Kind]
	if kind == "" {
		kind = "a " + strings.ToLower(v.Kind.String())
	}
	if raw == "" {
		return kind
	}
	return kind + " (" + raw + ")"
}

// rawOf returns the input bytes of v, or its value when the parser kept
// no range for it.
func rawOf(p *unstable.Parser, v *unstable.Node) []byte {
	if v.Raw.Length > 0 {
		return p.Raw(v.Raw)
	}
	return v.Data
}
