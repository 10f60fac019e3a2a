package client

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAnswerClock(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		body                 string
		stamps               []int64
		status406, status425 int
	}{
		{"every sub-answer's t", `{"results":[{"code":200,"body":{"t":1700000000001,"hf":[19,3]}},{"code":200,"body":{"messages":[],"t":1700000000002}}]}`, []int64{1700000000001, 1700000000002}, 0, 0},
		{"refusals counted, their text has no t", `{"results":[{"code":406,"body":"retrieve timestamp too far from current time"},{"code":406,"body":"x"},{"code":200,"body":{"t":1700000000003}}]}`, []int64{1700000000003}, 2, 0},
		{"425 apart", `{"results":[{"code":425,"body":"too early"}]}`, nil, 0, 1},
		{"a t before 2021 is ignored", `{"results":[{"code":200,"body":{"t":1609419600000}}]}`, nil, 0, 0},
		{"a t that is no integer is ignored", `{"results":[{"code":200,"body":{"t":"1700000000000"}},{"code":200,"body":{"t":1.7e12}}]}`, nil, 0, 0},
		{"no t", `{"results":[{"code":200,"body":{"hf":[19,3]}}]}`, nil, 0, 0},
		{"not a batch", `{"t":1700000000000}`, nil, 0, 0},
		{"not JSON", `Timestamp error: check your clock`, nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stamps, refused := answerClock([]byte(tc.body))
			assert.Equal(t, tc.stamps, stamps)
			assert.Equal(t, tc.status406, refused.Status406)
			assert.Equal(t, tc.status425, refused.Status425)
		})
	}
}

func TestFloorDiv(t *testing.T) {
	for _, tc := range []struct{ a, b, want int64 }{
		{7, 2, 3}, {-7, 2, -4}, {-6, 2, -3}, {0, 3, 0}, {-1, 10, -1}, {9, 10, 0},
	} {
		assert.Equal(t, tc.want, floorDiv(tc.a, tc.b), "floor(%d/%d)", tc.a, tc.b)
	}
}
