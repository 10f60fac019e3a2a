package enum

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

type color uint8

const (
	red color = iota + 1
	green
	blue
)

// colors leaves 0 and blue unnamed, so the table has holes at both ends of the range.
var colors = Names[color]{
	Type:    "color",
	Names:   []string{red: "red", green: "green"},
	Aliases: map[string]color{"crimson": red, "": green},
}

func TestName(t *testing.T) {
	tests := []struct {
		name  string
		v     color
		want  string
		known bool
	}{
		{"named", red, "red", true},
		{"last named", green, "green", true},
		{"hole below", 0, "color(0)", false},
		{"past the table", blue, "color(3)", false},
		{"far past", 255, "color(255)", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, colors.Name(tt.v))
			assert.Equal(t, tt.known, colors.Known(tt.v))
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		want   color
		wantOK bool
	}{
		{"name", "green", green, true},
		{"alias", "crimson", red, true},
		{"empty alias", "", green, true},
		{"case matters", "Red", 0, false},
		{"unnamed value's type form", "color(3)", 0, false},
		{"unknown", "mauve", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := colors.Parse(tt.in)
			assert.Equal(t, tt.wantOK, ok)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestEmptyNameIsNotParsed(t *testing.T) {
	// Without an alias for "", the holes of Names must not make "" parse as value 0.
	noAlias := Names[color]{Type: "color", Names: []string{red: "red"}}
	_, ok := noAlias.Parse("")
	assert.False(t, ok)
}

func TestRoundTrip(t *testing.T) {
	for v := range color(len(colors.Names)) {
		if !colors.Known(v) {
			continue
		}
		got, ok := colors.Parse(colors.Name(v))
		assert.True(t, ok, colors.Name(v))
		assert.Equal(t, v, got)
	}
}

func TestRead(t *testing.T) {
	folded := colors
	folded.FoldCase = true
	tests := []struct {
		name    string
		names   Names[color]
		in, use string
		want    color
		wantErr string
	}{
		{"name", colors, "red", "", red, ""},
		{"alias", colors, "crimson", "", red, ""},
		{"names listed", colors, "mauve", "", 0, `unknown color name "mauve": use "red" or "green"`},
		{"hint given", colors, "mauve", "a primary colour", 0, `unknown color name "mauve": use a primary colour`},
		{"case matters", colors, "RED", "", 0, `unknown color name "RED"`},
		{"case folded", folded, "RED", "", red, ""},
		{"one name", Names[color]{Type: "color", Names: []string{red: "red"}}, "x", "", 0, `use "red"`},
		{"three names", Names[color]{Type: "color", Names: []string{red: "red", green: "green", blue: "blue"}}, "x", "", 0, `use "red", "green" or "blue"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.names.Read(tt.in, "color name", tt.use)
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			assert.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
