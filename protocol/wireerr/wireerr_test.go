package wireerr

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("ab", 50)
	tests := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"short", "05zz", "05zz"},
		{"just fits", long[:80], long[:80]},
		{"one too long", long[:81], long[:80] + "..."},
		{"pasted blob", long, long[:80] + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Excerpt(tt.in))
		})
	}
}
