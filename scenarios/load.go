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
	"slices"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
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
	Source string // file name, "environment" or "--set"
	Key    string // dotted key, e.g. nodes.count
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
}

// Load reads a scenario by file path or built-in name, applies the layers, fills defaults and
// validates it. Every problem is an *Error naming the key and value.
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
	if err := checkKeys(v.AllSettings(), "", keys, label); err != nil {
		return Scenario{}, err
	}
	for _, kv := range opts.Environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		key, ok := envKey(strings.TrimPrefix(name, EnvPrefix), keys)
		if !ok {
			return Scenario{}, &Error{Source: "environment", Key: name, Value: value, Reason: "no scenario key of that name (use SESSIONSIM_ followed by the key in capitals with _ for dots, e.g. SESSIONSIM_NODES_COUNT)"}
		}
		v.Set(key, value)
	}
	for _, kv := range opts.Sets {
		key, value, ok := strings.Cut(kv, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || key == "" {
			return Scenario{}, &Error{Source: "--set", Value: kv, Reason: "expected key=value, e.g. --set nodes.count=50"}
		}
		if _, known := keys[key]; !known && !isMapEntry(key, keys) {
			return Scenario{}, &Error{Source: "--set", Key: key, Value: value, Reason: "no scenario key of that name" + suggest(key, keys)}
		}
		v.Set(key, value)
	}

	s := Default()
	err := v.UnmarshalExact(&s, func(c *mapstructure.DecoderConfig) {
		c.ZeroFields = true // a map in the file replaces the default map instead of merging into it
		c.DecodeHook = mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToSliceHookFunc(","),
		)
	})
	if err != nil {
		return Scenario{}, decodeError(label, v, err)
	}
	if err := s.Validate(); err != nil {
		var se *Error
		if errors.As(err, &se) && se.Source == "" {
			se.Source = label
		}
		return Scenario{}, err
	}
	return s, nil
}

// keyKind is what a schema key holds.
type keyKind int

const (
	leafKey keyKind = iota
	structKey
	mapKey  // free-form keys below (region weights)
	listKey // a list of structs (faults): its items are checked by the decoder
)

// schemaKeys lists every dotted key of the Scenario schema.
func schemaKeys() map[string]keyKind {
	keys := map[string]keyKind{}
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("mapstructure")
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
			default:
				keys[key] = leafKey
			}
		}
	}
	walk(reflect.TypeOf(Scenario{}), "")
	return keys
}

func checkKeys(m map[string]any, prefix string, keys map[string]keyKind, label string) error {
	for _, k := range slices.Sorted(maps.Keys(m)) { // sorted: the first unknown key reported is stable
		key := prefix + k
		kind, ok := keys[key]
		if !ok {
			return &Error{Source: label, Key: key, Reason: "unknown key" + suggest(key, keys)}
		}
		if kind == structKey {
			sub, ok := m[k].(map[string]any)
			if !ok {
				return &Error{Source: label, Key: key, Value: m[k], Reason: "expected a mapping of keys"}
			}
			if err := checkKeys(sub, key+".", keys, label); err != nil {
				return err
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
		if kind != structKey && strings.ReplaceAll(k, ".", "_") == want {
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

// decodeError turns the decoder's message into an Error that names the key and value.
func decodeError(label string, v *viper.Viper, err error) error {
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
	e := &Error{Source: label, Key: key, Reason: "bad value: " + reason}
	if key != "" && !strings.ContainsAny(key, "[]") && v.IsSet(key) {
		e.Value = v.Get(key)
	}
	return e
}
