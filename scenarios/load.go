package scenarios

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/sessionsim/sessionsim/results"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// EnvPrefix prefixes environment variables that override scenario keys:
// SESSIONSIM_NODES_COUNT=50 sets nodes.count.
const EnvPrefix = "SESSIONSIM_"

// Builtins lists the names of the scenarios shipped inside the binary.
func Builtins() []string {
	entries, _ := builtinFS.ReadDir("builtin")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// BuiltinSource returns the YAML text of a built-in scenario.
func BuiltinSource(name string) ([]byte, bool) {
	b, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	return b, err == nil
}

// Error is a problem with a scenario, naming where it comes from, the key and the value.
type Error struct {
	// Source is where the offending value was set: "file.yaml:12" (file and line), "--set",
	// the SESSIONSIM_* variable, or "default" for a value no layer set.
	Source string
	Key    string // dotted key, e.g. nodes.count or faults[0].at
	Value  any    // the offending value, if any
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("scenario")
	if e.Source != "" {
		b.WriteString(" " + e.Source)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": key %q", e.Key)
	}
	if e.Value != nil {
		fmt.Fprintf(&b, " = %v", e.Value)
	}
	b.WriteString(": " + e.Reason)
	return b.String()
}

// LoadOptions are the layers on top of a scenario file, lowest priority first: the file, then
// the environment, then --set pairs.
type LoadOptions struct {
	// Environ is the process environment (os.Environ()); entries starting with EnvPrefix set keys.
	Environ []string
	// Sets are "key=value" overrides from the command line.
	Sets []string
	// MachineMemory, when not 0, is the memory of the machine that will run the scenario: a
	// scenario whose world is estimated (EstimateMemory) to need more is refused.
	MachineMemory uint64
	// Quick shortens the scenario after every layer is applied (Scenario.Shorten).
	Quick bool
	// Mode, when not empty, is the mode the scenario is validated for and run in, whatever its
	// layers say: compare-modes runs every scenario live (and simulated), so a value live mode
	// refuses is refused at load, naming where it was set.
	Mode string
}

// Load reads a scenario by file path or built-in name, applies the layers, fills defaults and
// validates it. Every problem is an *Error naming the key, the value and where it was set.
func Load(nameOrPath string, opts LoadOptions) (Scenario, error) {
	src, label, err := readSource(nameOrPath)
	if err != nil {
		return Scenario{}, err
	}
	return Parse(src, label, opts)
}

func readSource(nameOrPath string) ([]byte, string, error) {
	if nameOrPath == "" {
		nameOrPath = "default"
	}
	if b, ok := BuiltinSource(nameOrPath); ok && !strings.ContainsAny(nameOrPath, "/.") {
		return b, "builtin:" + nameOrPath, nil
	}
	if fi, err := os.Stat(nameOrPath); err == nil && fi.IsDir() {
		again := ""
		file := filepath.Join(nameOrPath, results.ScenarioFile)
		if _, err := os.Stat(file); err == nil {
			again = fmt.Sprintf(" (to run this results directory's scenario again, give %s)", file)
		}
		return nil, "", &Error{Source: nameOrPath, Reason: "a directory; give a scenario file or a built-in name" + again}
	}
	b, err := os.ReadFile(nameOrPath)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, "", &Error{Source: nameOrPath, Reason: fmt.Sprintf("no such file and no built-in scenario of that name (built-ins: %s)", strings.Join(Builtins(), ", "))}
		}
		return nil, "", &Error{Source: nameOrPath, Reason: err.Error()}
	}
	return b, filepath.Base(nameOrPath), nil
}

// Parse reads scenario YAML (label names it in errors), applies opts, fills defaults and
// validates.
func Parse(src []byte, label string, opts LoadOptions) (Scenario, error) {
	keys := schemaKeys()
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(src)); err != nil {
		return Scenario{}, &Error{Source: label, Reason: "not valid YAML: " + err.Error()}
	}
	if len(v.AllSettings()) == 0 {
		return Scenario{}, &Error{Source: label, Reason: "the scenario file sets nothing; give at least its name (`sessionsim scenarios default` prints a complete file)"}
	}
	from := fileOrigins(src, label)
	if err := checkKeys(v.AllSettings(), "", "", keys, from); err != nil {
		return Scenario{}, err
	}
	var overrides []string // "key=value by source", in the order applied
	for _, kv := range opts.Environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		key, ok := envKey(strings.TrimPrefix(name, EnvPrefix), keys)
		if !ok {
			return Scenario{}, &Error{Source: "environment", Key: name, Value: value, Reason: fmt.Sprintf("no scenario key of that name; remove it (`unset %s`) or name a key in capitals with _ for dots, e.g. %sNODES_COUNT", name, EnvPrefix)}
		}
		v.Set(key, value)
		from.set(key, name)
		overrides = append(overrides, name+"="+value)
	}
	for _, kv := range opts.Sets {
		key, value, ok := strings.Cut(kv, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || key == "" {
			return Scenario{}, &Error{Source: "--set", Value: kv, Reason: "expected key=value, e.g. --set nodes.count=50"}
		}
		if kind, known := keys[key]; (!known || kind == listKey || strings.Contains(key, "[")) && !isMapEntry(key, keys) {
			if known && kind == listKey {
				return Scenario{}, &Error{Source: "--set", Key: key, Value: value, Reason: "a list of entries, which --set cannot give: write it in a scenario file (`sessionsim scenarios NAME > my.yaml` prints one to edit) and run that"}
			}
			return Scenario{}, &Error{Source: "--set", Key: key, Value: value, Reason: "no scenario key that --set can change" + suggest(key, keys)}
		}
		v.Set(key, value)
		from.set(key, "--set")
		overrides = append(overrides, "--set "+key+"="+value)
	}

	s := Default()
	err := v.UnmarshalExact(&s, func(c *mapstructure.DecoderConfig) {
		c.TagName = keyTag
		c.ZeroFields = true // a map in the file replaces the default map instead of merging into it
		c.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			durationHook,
			bucketsHook,
			mapstructure.StringToSliceHookFunc(","),
		)
	})
	if err != nil {
		return Scenario{}, decodeError(from, v, err)
	}
	if _, own := from["description"]; len(overrides) > 0 && (!own || strings.HasPrefix(from["description"], label)) {
		// The file's description was written for the file's values: say which ones changed.
		s.Description = strings.TrimSpace(s.Description + " [overridden: " + strings.Join(overrides, ", ") + "]")
	}
	if opts.Mode != "" {
		s.Mode = opts.Mode
	}
	if opts.Quick {
		s.Shorten()
	}
	s.fillLeakage()
	if err := s.Validate(); err != nil {
		return Scenario{}, from.locate(err)
	}
	if opts.MachineMemory > 0 {
		if err := s.fitsMemory(opts.MachineMemory); err != nil {
			return Scenario{}, from.locate(err)
		}
	}
	return s, nil
}

// origins records where each key's value was set: "file.yaml:12", a SESSIONSIM_* variable or
// "--set". A key no layer set has its default.
type origins map[string]string

// set records that a layer set key: the key and everything below it (a list's items, which
// the layer replaces) now come from src.
func (o origins) set(key, src string) {
	for k := range o {
		if strings.HasPrefix(k, key+"[") || strings.HasPrefix(k, key+".") {
			delete(o, k)
		}
	}
	o[key] = src
}

// of is where key was set, or where the nearest enclosing key was (a list item, a map).
func (o origins) of(key string) string {
	for k := key; k != ""; k = parentKey(k) {
		if src, ok := o[k]; ok {
			return src
		}
	}
	return "default"
}

// locate fills in where the key of a scenario Error was set.
func (o origins) locate(err error) error {
	var se *Error
	if errors.As(err, &se) && se.Source == "" {
		se.Source = o.of(se.Key)
	}
	return err
}

// parentKey drops the last part of a key: faults[0].at -> faults[0] -> faults.
func parentKey(key string) string {
	if strings.HasSuffix(key, "]") {
		if i := strings.LastIndexByte(key, '['); i >= 0 {
			return key[:i]
		}
	}
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		return key[:i]
	}
	return ""
}

// fileOrigins maps every key of the YAML text to its "label:line".
func fileOrigins(src []byte, label string) origins {
	o := origins{}
	var doc yaml.Node
	if yaml.Unmarshal(src, &doc) != nil || len(doc.Content) == 0 {
		return o
	}
	var walk func(n *yaml.Node, key string)
	walk = func(n *yaml.Node, key string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := strings.ToLower(n.Content[i].Value) // viper's keys are lower case
				if key != "" {
					k = key + "." + k
				}
				o[k] = fmt.Sprintf("%s:%d", label, n.Content[i].Line)
				walk(n.Content[i+1], k)
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				k := fmt.Sprintf("%s[%d]", key, i)
				o[k] = fmt.Sprintf("%s:%d", label, item.Line)
				walk(item, k)
			}
		}
	}
	walk(doc.Content[0], "")
	return o
}

// durationHook reads durations as a scenario writes them, with a unit ("90s", "20m"). A bare
// number is refused: 5 could mean seconds or minutes, and Go would read nanoseconds. A bare 0
// is unambiguous and accepted.
func durationHook(_, to reflect.Type, data any) (any, error) {
	if to != durationType {
		return data, nil
	}
	text := strings.TrimSpace(fmt.Sprint(data))
	if text == "0" {
		return time.Duration(0), nil
	}
	d, err := parseDays(text)
	if err != nil {
		if _, numErr := strconv.ParseFloat(text, 64); numErr == nil {
			return nil, fmt.Errorf("duration %s has no unit: write it as %ss or %sm, say", text, text, text)
		}
		return nil, fmt.Errorf("%q is not a duration such as 90s, 20m, 1h30m or 90d", text)
	}
	return d, nil
}

// parseDays is time.ParseDuration that also reads a leading number of days: "90d", "1d12h".
// Long horizons are written in days.
func parseDays(text string) (time.Duration, error) {
	days, rest, ok := strings.Cut(text, "d")
	if !ok {
		return time.ParseDuration(text)
	}
	n, err := strconv.ParseFloat(days, 64)
	if err != nil || n > 100*365 || n < -100*365 || strings.ContainsAny(days, "+eE") {
		return 0, fmt.Errorf("bad number of days in %q", text)
	}
	d := time.Duration(n * float64(24*time.Hour))
	if rest == "" {
		return d, nil
	}
	r, err := time.ParseDuration(rest)
	if err != nil || r < 0 {
		return 0, fmt.Errorf("bad duration after the days in %q", text)
	}
	return d + r, nil
}

var bucketsType = reflect.TypeOf(Buckets(nil))

// bucketsHook reads onion padding sizes: "none" (or nothing) for no padding, a list of sizes
// in bytes, or the same list as one comma-separated string (--set and the environment).
func bucketsHook(_, to reflect.Type, data any) (any, error) {
	if to != bucketsType {
		return data, nil
	}
	var items []any
	switch d := data.(type) {
	case nil:
		return Buckets(nil), nil
	case string:
		text := strings.TrimSpace(d)
		if text == "" || strings.EqualFold(text, "none") {
			return Buckets(nil), nil
		}
		for _, f := range strings.Split(strings.Trim(text, "[]"), ",") {
			items = append(items, strings.TrimSpace(f))
		}
	case []any:
		items = d
	default:
		return nil, fmt.Errorf("%v is not \"none\" or a list of sizes in bytes such as [512, 1024, 4096]", data)
	}
	out := make(Buckets, 0, len(items))
	for _, it := range items {
		n, err := strconv.Atoi(strings.TrimSpace(fmt.Sprint(it)))
		if err != nil {
			return nil, fmt.Errorf("size %q is not a whole number of bytes: write \"none\" or a list such as [512, 1024, 4096]", fmt.Sprint(it))
		}
		out = append(out, n)
	}
	return out, nil
}

// keyKind is what a schema key holds.
type keyKind int

const (
	leafKey keyKind = iota
	structKey
	mapKey  // free-form keys below (region weights)
	listKey // a list of structs (faults): its items are checked by the decoder
)

// keyTag is the struct tag that names a scenario key as a scenario file writes it, with
// ",omitempty" on a key the resolved scenario leaves out while it is empty. The decoder, the
// key list, explain and the resolved scenario all read it, so each key is spelled once.
const keyTag = "yaml"

// scenarioKey is the key field f holds ("" when it holds none) and whether the resolved
// scenario leaves it out while it is empty.
func scenarioKey(f reflect.StructField) (key string, omitEmpty bool) {
	key, opts, _ := strings.Cut(f.Tag.Get(keyTag), ",")
	return key, opts == "omitempty"
}

// schemaKeys lists every dotted key of the Scenario schema.
func schemaKeys() map[string]keyKind {
	keys := map[string]keyKind{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, _ := scenarioKey(f)
			if tag == "" {
				continue
			}
			key := prefix + tag
			switch {
			case f.Type.Kind() == reflect.Struct:
				keys[key] = structKey
				walk(f.Type, key+".")
			case f.Type.Kind() == reflect.Map:
				keys[key] = mapKey
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				keys[key] = listKey
				walk(f.Type.Elem(), key+"[].") // an item's keys, checked like any others
			default:
				keys[key] = leafKey
			}
		}
	}
	walk(reflect.TypeOf(Scenario{}), "")
	return keys
}

// checkKeys refuses a key the schema does not have, in m and in every mapping and list item
// below it. prefix is m's key as reported ("faults[0]."), schema its key in the schema
// ("faults[].").
func checkKeys(m map[string]any, prefix, schema string, keys map[string]keyKind, from origins) error {
	for _, k := range slices.Sorted(maps.Keys(m)) { // sorted: the first unknown key reported is stable
		key, schemaKey := prefix+k, schema+k
		kind, ok := keys[schemaKey]
		if !ok {
			return &Error{Source: from.of(key), Key: key, Reason: "unknown key" + suggest(schemaKey, keys)}
		}
		switch kind {
		case structKey:
			sub, ok := m[k].(map[string]any)
			if !ok {
				return &Error{Source: from.of(key), Key: key, Value: m[k], Reason: "expected a mapping of keys"}
			}
			if err := checkKeys(sub, key+".", schemaKey+".", keys, from); err != nil {
				return err
			}
		case listKey:
			items, ok := m[k].([]any)
			if !ok {
				return &Error{Source: from.of(key), Key: key, Value: m[k], Reason: "expected a list"}
			}
			for i, item := range items {
				itemKey := fmt.Sprintf("%s[%d]", key, i)
				sub, ok := item.(map[string]any)
				if !ok {
					return &Error{Source: from.of(itemKey), Key: itemKey, Value: item, Reason: "expected a mapping of keys"}
				}
				if err := checkKeys(sub, itemKey+".", schemaKey+"[].", keys, from); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func isMapEntry(key string, keys map[string]keyKind) bool {
	i := strings.LastIndexByte(key, '.')
	return i > 0 && keys[key[:i]] == mapKey
}

func envKey(name string, keys map[string]keyKind) (string, bool) {
	want := strings.ToLower(name)
	for k, kind := range keys {
		if kind != structKey && kind != listKey && !strings.Contains(k, "[") && strings.ReplaceAll(k, ".", "_") == want {
			return k, true
		}
	}
	return "", false
}

// suggest names the known keys at the same level, so a typo is quick to fix.
func suggest(key string, keys map[string]keyKind) string {
	prefix := ""
	if i := strings.LastIndexByte(key, '.'); i >= 0 {
		prefix = key[:i+1]
	}
	var near []string
	for k := range keys {
		if strings.HasPrefix(k, prefix) && !strings.Contains(k[len(prefix):], ".") {
			near = append(near, k)
		}
	}
	if len(near) == 0 {
		return ""
	}
	sort.Strings(near)
	return " (known keys here: " + strings.Join(near, ", ") + ")"
}

// parseAs matches the decoder's "cannot parse value as 'int': strconv.ParseInt: invalid syntax".
var parseAs = regexp.MustCompile(`^cannot parse value as '([a-z]+)[0-9]*': `)

// plainReason says in words what a value of the wrong form is not, in place of the decoder's
// Go type and strconv message; any other reason is kept as it is.
func plainReason(reason string) string {
	m := parseAs.FindStringSubmatch(reason)
	if m == nil {
		return reason
	}
	want, ok := map[string]string{"int": "an integer", "uint": "a whole number of 0 or more", "float": "a number", "bool": "true or false"}[m[1]]
	switch {
	case !ok:
		return reason
	case strings.HasSuffix(reason, "value out of range"):
		return "out of range: want " + want + " of at most 64 bits"
	}
	return "want " + want
}

// decodeError turns the decoder's message into an Error that names the key, the value and
// where it was set.
func decodeError(from origins, v *viper.Viper, err error) error {
	msg := err.Error()
	// The decoder's last line reads "'nodes.count' cannot parse value as 'int': ...": take the
	// quoted key and what follows it.
	if i := strings.LastIndexByte(strings.TrimSpace(msg), '\n'); i >= 0 {
		msg = strings.TrimSpace(msg[i+1:])
	}
	key, reason := "", msg
	if strings.HasPrefix(msg, "'") {
		if j := strings.IndexByte(msg[1:], '\''); j >= 0 {
			key, reason = msg[1:1+j], strings.TrimSpace(msg[2+j:])
		}
	}
	e := &Error{Source: from.of(key), Key: key, Reason: "bad value: " + plainReason(reason)}
	if key != "" && !strings.ContainsAny(key, "[]") && v.IsSet(key) {
		e.Value = v.Get(key)
	}
	return e
}
