package checks

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v3"
)

// Error is a check that cannot be used, naming where it was written, its index and its text.
type Error struct {
	// Source is "file.yaml:12" (file and line), or the file alone for the file as a whole.
	Source string
	// Index is the check's position in its list, from 0; -1 for the file as a whole.
	Index  int
	Check  string
	Reason string
}

func (e *Error) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("checks %s: %s", e.Source, e.Reason)
	}
	return fmt.Sprintf("checks %s: checks[%d] %q: %s", e.Source, e.Index, e.Check, e.Reason)
}

// ReadFile reads a checks file: YAML whose only key is `checks`, a list of checks. Every
// check is validated; the first problem is an *Error.
func ReadFile(path string) ([]Check, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, &Error{Source: path, Index: -1, Reason: `no such file; give a YAML file holding a checks: list, such as checks: ["delivery_ratio >= 0.99"]`}
	}
	if err != nil {
		return nil, &Error{Source: path, Index: -1, Reason: err.Error()}
	}
	return FromYAML(src, filepath.Base(path), true)
}

// FromYAML reads the `checks` list of a YAML document, such as a results directory's
// scenario.yaml; label names it in errors. Strict refuses any other key (a checks file holds
// nothing else) and a document without checks.
func FromYAML(src []byte, label string, strict bool) ([]Check, error) {
	fileErr := func(format string, a ...any) error {
		return &Error{Source: label, Index: -1, Reason: fmt.Sprintf(format, a...)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return nil, fileErr("not valid YAML: %v", err)
	}
	if len(doc.Content) == 0 {
		if strict {
			return nil, fileErr("the file is empty; give a `checks:` list")
		}
		return nil, nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fileErr("expected a mapping with a `checks:` list")
	}
	var list *yaml.Node
	for i := 0; i+1 < len(top.Content); i += 2 {
		key := top.Content[i]
		switch {
		case key.Value == "checks":
			list = top.Content[i+1]
		case strict:
			return nil, &Error{Source: fmt.Sprintf("%s:%d", label, key.Line), Index: -1, Reason: fmt.Sprintf("unknown key %q: a checks file holds only `checks:`", key.Value)}
		}
	}
	if list == nil || (list.Kind == yaml.ScalarNode && list.Tag == "!!null") {
		if strict {
			return nil, fileErr("no `checks:` list")
		}
		return nil, nil
	}
	if list.Kind != yaml.SequenceNode {
		return nil, &Error{Source: fmt.Sprintf("%s:%d", label, list.Line), Index: -1, Reason: "`checks` must be a list of strings such as \"delivery_ratio >= 0.999\""}
	}
	cs := make([]Check, 0, len(list.Content))
	for i, item := range list.Content {
		at := fmt.Sprintf("%s:%d", label, item.Line)
		if item.Kind != yaml.ScalarNode {
			return nil, &Error{Source: at, Index: i, Reason: "expected one string, FIGURE OP VALUE (a \"key: value\" in a check needs quotes)"}
		}
		c, err := Parse(item.Value)
		if err != nil {
			return nil, &Error{Source: at, Index: i, Check: item.Value, Reason: err.Error()}
		}
		cs = append(cs, c)
	}
	return cs, nil
}
