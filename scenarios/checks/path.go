package checks

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Path is a parsed figure path (see the package documentation for its syntax).
type Path struct {
	text  string
	steps []step
}

// String is the path as written.
func (p Path) String() string { return p.text }

type stepKind int

const (
	keyStep   stepKind = iota // .name: a struct field by its JSON name, or a map key
	indexStep                 // [3]: a list element by position
	matchStep                 // [name=x]: the list element whose field is x
)

// step is one part of a path.
type step struct {
	kind  stepKind
	key   string // keyStep: the name; matchStep: the field
	index int    // indexStep
	value string // matchStep: the value the field must have
}

// ParsePath reads a figure path such as onion_rtt_ms.p99 or
// leakage.adversaries[name=random-0.05].exposure.direct.
func ParsePath(text string) (Path, error) {
	p := Path{text: text}
	if text == "" {
		return p, fmt.Errorf("empty figure path")
	}
	rest := text
	readKey := func() error {
		end := strings.IndexAny(rest, ".[]")
		if end < 0 {
			end = len(rest)
		}
		key := rest[:end]
		if key == "" {
			return fmt.Errorf("figure path %q has an empty part; parts are joined by single dots", text)
		}
		if strings.ContainsFunc(key, isSpace) {
			return fmt.Errorf("figure path %q holds a space", text)
		}
		p.steps = append(p.steps, step{kind: keyStep, key: key})
		rest = rest[end:]
		return nil
	}
	if err := readKey(); err != nil {
		return p, err
	}
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			if err := readKey(); err != nil {
				return p, err
			}
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return p, fmt.Errorf("figure path %q: %q has no closing ]", text, rest)
			}
			st, err := parseSelector(rest[1:end])
			if err != nil {
				return p, fmt.Errorf("figure path %q: %w", text, err)
			}
			p.steps = append(p.steps, st)
			rest = rest[end+1:]
		default: // a stray ]
			return p, fmt.Errorf("figure path %q: unexpected %q", text, rest[:1])
		}
	}
	return p, nil
}

// parseSelector reads what stands between [ and ]: an index, or FIELD=VALUE.
func parseSelector(s string) (step, error) {
	if field, value, ok := strings.Cut(s, "="); ok {
		if field == "" || strings.ContainsAny(field, ".[") || strings.ContainsFunc(field, isSpace) {
			return step{}, fmt.Errorf("[%s]: a selector is [N] or [FIELD=VALUE], with FIELD a plain name such as name", s)
		}
		if value == "" {
			return step{}, fmt.Errorf("[%s]: no value after =", s)
		}
		return step{kind: matchStep, key: field, value: value}, nil
	}
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 {
		return step{}, fmt.Errorf("[%s]: a selector is an index from 0, such as [0], or FIELD=VALUE, such as [name=random-0.05]", s)
	}
	return step{kind: indexStep, index: i}, nil
}

func isSpace(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' }

// Placeholders in the figure names a Schema lists, standing for what is only known after a run.
const (
	anyKey     = "<key>" // a map key: a platform, a cause
	anyElement = "[<i>]" // a list element: [N] or [FIELD=VALUE]
)

// Schema is the set of figures a summary type holds, read from its JSON tags, so it cannot
// drift from the summary it describes. A field tagged `figure:"-"` is no figure (the
// recorded checks themselves); a map tagged `figure:"counts"` counts things by key, and a key
// absent from a run reads 0 (a cause of loss that never happened).
type Schema struct {
	t       reflect.Type
	figures []string
}

// SchemaOf is the schema of v's type (a struct, such as results.Summary{}).
func SchemaOf(v any) *Schema {
	t := deref(reflect.TypeOf(v))
	s := &Schema{t: t}
	s.walk(t, "", 0)
	slices.Sort(s.figures)
	return s
}

// Figures lists every figure of the schema as a path, <key> standing for a map key and [<i>]
// for a list element.
func (s *Schema) Figures() []string { return slices.Clone(s.figures) }

// maxDepth bounds the walk over a type that contains itself.
const maxDepth = 12

func (s *Schema) walk(t reflect.Type, prefix string, depth int) {
	if depth > maxDepth {
		return
	}
	t = deref(t)
	switch t.Kind() {
	case reflect.Struct:
		for _, f := range figureFields(t) {
			s.walk(f.typ, join(prefix, f.name), depth+1)
		}
	case reflect.Map:
		s.walk(t.Elem(), join(prefix, anyKey), depth+1)
	case reflect.Slice, reflect.Array:
		s.walk(t.Elem(), prefix+anyElement, depth+1)
	default:
		if isNumber(t) {
			s.figures = append(s.figures, prefix)
		}
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// field is a struct field as summary.json names it.
type field struct {
	name   string
	index  []int // for reflect.Value.FieldByIndex: an embedded struct's fields are its own
	typ    reflect.Type
	counts bool // a map whose absent keys count 0
}

// figureFields are the exported fields of a struct by their JSON names, in declaration order.
// The fields of an embedded struct without a JSON name come in its place, as encoding/json
// writes them (KindMessages embeds Messages).
func figureFields(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("figure") == "-" {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" && f.Anonymous && f.Type.Kind() == reflect.Struct {
			for _, sub := range figureFields(f.Type) {
				sub.index = append([]int{i}, sub.index...)
				out = append(out, sub)
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, field{name: name, index: []int{i}, typ: f.Type, counts: f.Tag.Get("figure") == "counts"})
	}
	return out
}

func fieldNamed(t reflect.Type, name string) (field, bool) {
	for _, f := range figureFields(t) {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func isNumber(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// Validate checks that p names a number of the schema. Map keys and list elements cannot be
// known before a run, so there only the shape is checked (a key below a map, a selector on a
// list whose elements have the selector's field); Lookup finds whether they exist. A name the
// schema does not have is refused with the closest figures.
func (s *Schema) Validate(p Path) error {
	t, shape := s.t, ""
	for i, st := range p.steps {
		t = deref(t)
		switch t.Kind() {
		case reflect.Struct:
			if st.kind != keyStep {
				return fmt.Errorf("%s is a group of figures, not a list: name one as %s", orTop(shape), s.below(shape))
			}
			f, ok := fieldNamed(t, st.key)
			if !ok {
				return fmt.Errorf("no figure %q in the summary (closest: %s)", p.text, strings.Join(s.closest(shape, p.steps[i:]), ", "))
			}
			t, shape = f.typ, join(shape, f.name)
		case reflect.Map:
			if st.kind != keyStep {
				return fmt.Errorf("%s is keyed by name, not a list: write %s.NAME", shape, shape)
			}
			t, shape = t.Elem(), join(shape, anyKey)
		case reflect.Slice, reflect.Array:
			switch {
			case st.kind == keyStep:
				return fmt.Errorf("%s is a list: pick an element with [N] or [FIELD=VALUE] before .%s", shape, st.key)
			case st.kind == indexStep && t.Kind() == reflect.Array && st.index >= t.Len():
				return fmt.Errorf("%s has %d elements: [%d] is past its end", shape, t.Len(), st.index)
			case st.kind == matchStep:
				elem := deref(t.Elem())
				f, ok := field{}, false
				if elem.Kind() == reflect.Struct {
					f, ok = fieldNamed(elem, st.key)
				}
				if !ok || !(deref(f.typ).Kind() == reflect.String || isNumber(deref(f.typ))) {
					return fmt.Errorf("the elements of %s have no name or number %q to select by", shape, st.key)
				}
			}
			t, shape = t.Elem(), shape+anyElement
		default:
			return fmt.Errorf("%s is a single figure: %q goes below it, where there is nothing", shape, p.text)
		}
	}
	t = deref(t)
	if isNumber(t) {
		return nil
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map, reflect.Slice, reflect.Array:
		return fmt.Errorf("%s is not one figure but several: name one, e.g. %s", p.text, s.below(shape))
	}
	return fmt.Errorf("%s is a %s, not a number: checks compare numbers", p.text, t.Kind())
}

func orTop(shape string) string {
	if shape == "" {
		return "the summary"
	}
	return shape
}

// below lists a few figures under shape, for an error that asks for one of them.
func (s *Schema) below(shape string) string {
	var out []string
	for _, f := range s.figures {
		under := shape == "" || strings.HasPrefix(f, shape+".") || strings.HasPrefix(f, shape+"[")
		if under && len(out) < 4 {
			out = append(out, f)
		}
	}
	return strings.Join(out, ", ")
}

// closest names the figures nearest (by edit distance) to what was asked for: shape is the part
// that matched, rest the steps from the one that did not, written as the figures are.
func (s *Schema) closest(shape string, rest []step) []string {
	asked := shape
	for _, st := range rest {
		if st.kind == keyStep {
			asked = join(asked, st.key)
		} else {
			asked += anyElement
		}
	}
	dist := make(map[string]int, len(s.figures))
	for _, f := range s.figures {
		dist[f] = editDistance(asked, f)
	}
	near := slices.SortedFunc(maps.Keys(dist), func(a, b string) int {
		if d := dist[a] - dist[b]; d != 0 {
			return d
		}
		return strings.Compare(a, b)
	})
	return near[:min(3, len(near))]
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Lookup reads the figure p names in summary (a value of a type p was validated against). A
// nil result with no error is a figure that is null in this run (a ratio of nothing). A map
// key or list element the run does not have is an error saying what it does have.
func Lookup(summary any, p Path) (*float64, error) {
	v := reflect.ValueOf(summary)
	shape := ""
	counts := false // v is a map of counts
	for _, st := range p.steps {
		for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
			if v.IsNil() {
				return nil, fmt.Errorf("%s is absent from this run", orTop(shape))
			}
			v = v.Elem()
		}
		wasCounts := counts
		counts = false
		switch v.Kind() {
		case reflect.Struct:
			f, ok := fieldNamed(v.Type(), st.key)
			if st.kind != keyStep || !ok {
				return nil, fmt.Errorf("no figure %q in the summary", p.text)
			}
			v, shape, counts = v.FieldByIndex(f.index), join(shape, st.key), f.counts
		case reflect.Map:
			if st.kind != keyStep || v.Type().Key().Kind() != reflect.String {
				return nil, fmt.Errorf("%s is keyed by name: write %s.NAME", shape, shape)
			}
			e := v.MapIndex(reflect.ValueOf(st.key).Convert(v.Type().Key()))
			if !e.IsValid() {
				if wasCounts {
					zero := 0.0
					return &zero, nil
				}
				return nil, fmt.Errorf("%s has no %q in this run (it has: %s)", shape, st.key, mapKeys(v))
			}
			v, shape = e, join(shape, st.key)
		case reflect.Slice, reflect.Array:
			var err error
			if v, err = element(v, st, shape); err != nil {
				return nil, err
			}
			shape += selector(st)
		default:
			return nil, fmt.Errorf("%s is a single figure: nothing lies below it", shape)
		}
	}
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return nil, nil
		}
		v = v.Elem()
	}
	f, ok := number(v)
	if !ok {
		return nil, fmt.Errorf("%s is not a number", p.text)
	}
	return &f, nil
}

// element picks a list's element by index or by a field's value.
func element(list reflect.Value, st step, shape string) (reflect.Value, error) {
	switch st.kind {
	case indexStep:
		if st.index >= list.Len() {
			return reflect.Value{}, fmt.Errorf("%s has %d elements in this run: [%d] is past its end", shape, list.Len(), st.index)
		}
		return list.Index(st.index), nil
	case matchStep:
		var seen []string
		for i := range list.Len() {
			e := reflect.Indirect(list.Index(i))
			if e.Kind() != reflect.Struct {
				break
			}
			f, ok := fieldNamed(e.Type(), st.key)
			if !ok {
				break
			}
			got := scalarText(reflect.Indirect(e.FieldByIndex(f.index)))
			if got == st.value {
				return list.Index(i), nil
			}
			seen = append(seen, got)
		}
		return reflect.Value{}, fmt.Errorf("%s has no element with %s=%s in this run (%ss: %s)", shape, st.key, st.value, st.key, orNone(seen))
	}
	return reflect.Value{}, fmt.Errorf("%s is a list: pick an element with [N] or [FIELD=VALUE]", shape)
}

func selector(st step) string {
	if st.kind == indexStep {
		return fmt.Sprintf("[%d]", st.index)
	}
	return "[" + st.key + "=" + st.value + "]"
}

// scalarText writes a string or number field as a selector would name it.
func scalarText(v reflect.Value) string {
	if v.Kind() == reflect.String {
		return v.String()
	}
	if f, ok := number(v); ok {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return ""
}

func number(v reflect.Value) (float64, bool) {
	switch {
	case v.CanInt():
		return float64(v.Int()), true
	case v.CanUint():
		return float64(v.Uint()), true
	case v.CanFloat():
		return v.Float(), true
	}
	return 0, false
}

func mapKeys(m reflect.Value) string {
	var keys []string
	for _, k := range m.MapKeys() {
		keys = append(keys, k.String())
	}
	slices.Sort(keys)
	return orNone(keys)
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
