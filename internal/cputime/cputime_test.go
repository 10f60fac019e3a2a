package cputime

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUsedGrowsWithWork(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no process CPU time on this system")
	}
	before := Used()
	x := 0
	for i := range 50_000_000 {
		x ^= i * i
	}
	assert.NotZero(t, x|1)
	assert.Greater(t, Used(), before, "a busy loop uses CPU time")
}
