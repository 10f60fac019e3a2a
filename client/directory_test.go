package client

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestDirectoryConfigSharing(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Config)
		share bool
	}{
		{"equal settings share one", func(*Config) {}, true},
		{"another push token", func(c *Config) { c.PushToken = "other" }, false},
		{"another clock offset", func(c *Config) { c.ClockOffset = time.Second }, false},
		{"another platform", func(c *Config) { c.Platform = IOS }, false},
		{"same key, another setting", func(c *Config) { c.PathRotate = time.Hour }, false},
		{"same key, another list", func(c *Config) { c.Communities = []Community{{Rooms: []string{"r"}}} }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDirectory()
			base := DefaultConfig(Desktop)
			base.PushToken = "token"
			first := d.config(base)
			other := base
			tc.edit(&other)
			got := d.config(other)
			assert.Equal(t, tc.share, got == first)
			assert.Same(t, first, d.config(base), "the first configuration is still found")
			assert.Same(t, got, d.config(other), "and so is the second")
		})
	}
}
