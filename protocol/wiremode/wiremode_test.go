package wiremode

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in   string
		want Mode
		err  string
	}{
		{"bytes", Bytes, ""},
		{"structural", Structural, ""},
		{"", 0, `unknown wire mode ""`},
		{"Structural", 0, `use "bytes" or "structural"`},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			m, err := Parse(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, m)
			assert.Equal(t, tc.in, m.String(), "String reads back what Parse read")
		})
	}
}
