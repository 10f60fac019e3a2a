// Package enum names the values of the project's small enumerations (crypto modes, onion
// actions, store results, decoder kinds, ...) with one table per type, so that a type's String
// and its Parse read the same names instead of two switches that must be kept in step.
package enum

import (
	"fmt"
	"strings"
)

// Names is the table of one enumeration V.
type Names[V ~uint8] struct {
	// Type is the type's name, printed for a value the table does not name as "Type(7)", so a
	// corrupt or newer value still prints as something a reader can trace.
	Type string
	// Names[v] is the name of value v: what String prints and Parse reads. "" names nothing.
	Names []string
	// Aliases are further spellings Parse accepts (older names, other clients' names, "" for a
	// default); String never prints them.
	Aliases map[string]V
	// FoldCase makes Parse read s in any case; the table then holds lower-case names.
	FoldCase bool
}

// Name is v's name, or "Type(v)" when the table has none.
func (n Names[V]) Name(v V) string {
	if n.Known(v) {
		return n.Names[v]
	}
	return fmt.Sprintf("%s(%d)", n.Type, uint8(v))
}

// Known reports whether the table names v.
func (n Names[V]) Known(v V) bool { return int(v) < len(n.Names) && n.Names[v] != "" }

// Parse is the value named or aliased s, matched exactly unless the table folds case. ok is false
// when nothing is spelled s.
func (n Names[V]) Parse(s string) (v V, ok bool) {
	if n.FoldCase {
		s = strings.ToLower(s)
	}
	for i, name := range n.Names {
		if name != "" && name == s {
			return V(i), true
		}
	}
	v, ok = n.Aliases[s]
	return v, ok
}

// Read is the value Parse finds for s, or an error that names the enumeration as its reader knows
// it (what: "crypto mode") and says what to write instead (use, or the table's names when use is
// ""), so that every enumeration refuses a bad name in the same words.
func (n Names[V]) Read(s, what, use string) (V, error) {
	if v, ok := n.Parse(s); ok {
		return v, nil
	}
	if use == "" {
		use = n.choices()
	}
	return 0, fmt.Errorf("unknown %s %q: use %s", what, s, use)
}

// choices lists the table's names quoted, as `"a", "b" or "c"`.
func (n Names[V]) choices() string {
	var quoted []string
	for _, name := range n.Names {
		if name != "" {
			quoted = append(quoted, fmt.Sprintf("%q", name))
		}
	}
	if len(quoted) < 2 {
		return strings.Join(quoted, "")
	}
	return strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
}
