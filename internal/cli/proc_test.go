package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProcCommandsRefuseBadFlags: node and registry exit 2 naming the flag, before starting.
func TestProcCommandsRefuseBadFlags(t *testing.T) {
	node := []string{"node", "--name", "n1", "--listen", "127.70.0.2:22021", "--registry", "127.70.0.1:22021", "--db", "/nonexistent/x.db"}
	reg := []string{"registry", "--listen", "127.70.0.1:22021", "--node", "n1=127.70.0.2:22021"}
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"db in no directory", node, "--db /nonexistent/x.db: the directory /nonexistent does not exist; create it (mkdir -p /nonexistent)"},
		{"db a directory", append(append([]string{}, node...), "--db", dir), "--db " + dir + " is a directory: give the database file, e.g. " + filepath.Join(dir, "node.db")},
		{"db under a file", append(append([]string{}, node...), "--db", filepath.Join(file, "x.db")), file + " is not a directory"},
		{"unknown flag", []string{"node", "--bogus"}, "unknown flag"},
		{"no name", []string{"node", "--listen", "127.0.0.2:1", "--registry", "127.0.0.1:1", "--db", "x"}, "--name"},
		{"no db", []string{"node", "--name", "n1", "--listen", "127.0.0.2:1", "--registry", "127.0.0.1:1"}, "--db"},
		{"bad listen", append(append([]string{}, node...), "--listen", "localhost"), "--listen"},
		{"bad registry", append(append([]string{}, node...), "--registry", "127.0.0.1:0"), "--registry"},
		{"bad log level", append(append([]string{}, node...), "--log-level", "loud"), "--log-level"},
		{"negative poll", append(append([]string{}, node...), "--list-poll", "-1s"), "--list-poll"},
		{"registry without nodes", []string{"registry", "--listen", "127.70.0.1:22021"}, "--node"},
		{"bad node", append(append([]string{}, reg...), "--node", "n2"), "name=ip:port"},
		{"two nodes at one address", append(append([]string{}, reg...), "--node", "n2=127.70.0.2:22021"), "both at"},
		{"bad obligations", append(append([]string{}, reg...), "--obligations", "vote"), "--obligations"},
		{"registry argument", append(append([]string{}, reg...), "extra"), "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(tt.args...)
			assert.Equal(t, exitUsage, code, errOut)
			assert.Contains(t, errOut, tt.want)
		})
	}
}
