package scenarios

import (
	"testing"
)

// FuzzParse: any bytes and overrides give a valid scenario or an error, never a panic, and a
// scenario that parses survives its own resolved YAML.
func FuzzParse(f *testing.F) {
	def, _ := BuiltinSource("default")
	f.Add(def, "nodes.count=5")
	f.Add([]byte("name: x\nfaults: [{at: 1m, kind: crash, count: 1}]\n"), "drain=0s")
	f.Add([]byte("nodes: {regions: {us-east-1: -1}}"), "")
	f.Add([]byte("{"), "x")
	f.Fuzz(func(t *testing.T, src []byte, set string) {
		s, err := Parse(src, "fuzz", LoadOptions{Sets: []string{set}})
		if err != nil {
			return
		}
		out, err := s.YAML()
		if err != nil {
			t.Fatalf("resolved YAML of a valid scenario: %v", err)
		}
		if _, err := Parse(out, "resolved", LoadOptions{}); err != nil {
			t.Fatalf("resolved scenario does not parse again: %v\n%s", err, out)
		}
	})
}
