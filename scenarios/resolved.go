package scenarios

import (
	"fmt"
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"
)

// YAML renders the scenario with every default filled in, in the same keys and units a scenario
// file uses, so the resolved scenario of a results directory can be run again as it is.
func (s Scenario) YAML() ([]byte, error) {
	b, err := yaml.Marshal(toPlain(reflect.ValueOf(s)))
	if err != nil {
		return nil, fmt.Errorf("encoding resolved scenario: %w", err)
	}
	return append([]byte("# Resolved scenario: every default filled in. Run it again with `sessionsim run scenario.yaml`.\n"), b...), nil
}

var durationType = reflect.TypeOf(time.Duration(0))

// toPlain turns the scenario into maps, lists and scalars keyed by the file's names, with
// durations written as "90s" rather than nanoseconds.
func toPlain(v reflect.Value) any {
	if v.Type() == durationType {
		return v.Interface().(time.Duration).String()
	}
	if v.Type() == bucketsType && v.Len() == 0 {
		return "none"
	}
	switch v.Kind() {
	case reflect.Struct:
		m := map[string]any{}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			tag, omitEmpty := scenarioKey(f)
			if omitEmpty && v.Field(i).IsZero() {
				continue // checks: a scenario without them resolves as it did before they existed
			}
			if tag != "" {
				m[tag] = toPlain(v.Field(i))
			}
		}
		return m
	case reflect.Map:
		m := map[string]any{}
		for _, k := range v.MapKeys() {
			m[fmt.Sprint(k.Interface())] = toPlain(v.MapIndex(k))
		}
		return m
	case reflect.Slice:
		out := make([]any, v.Len())
		for i := range out {
			out[i] = toPlain(v.Index(i))
		}
		return out
	}
	return v.Interface()
}
