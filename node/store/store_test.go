package store

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSwarmSpace(t *testing.T) {
	// Vectors from the protocol facts.
	cases := []struct {
		owner string
		want  uint64
	}{
		{"053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8", 17589930838143112648},
		{"05cf27da303a50ac8c4b2d43d27259505c9bcd73fc21cf2a57902c3d050730b604", 10370619079776428163},
		{"000000000000000000000000000000000000000000000000000000000000000000", 0},
		{"03ffffffffffffffff0000000000000000000000000000000000000000000000ff", 0xffffffffffffff00},
	}
	for _, c := range cases {
		o, err := ParseOwner(c.owner)
		require.NoError(t, err)
		assert.Equal(t, c.want, o.SwarmSpace(), c.owner)
		assert.Equal(t, c.want, SwarmSpace(o.Key()))
		assert.Equal(t, c.owner, o.String())
	}
	assert.Equal(t, uint64(0x0100000000000000), SwarmSpace([]byte{1}), "short keys read zero-padded")
}

func TestParseOwner(t *testing.T) {
	cases := []struct {
		name, in string
		ok       bool
		prefix   byte
	}{
		{"session id", "05" + strings.Repeat("ab", 32), true, 0x05},
		{"group id upper case", "03" + strings.Repeat("CD", 32), true, 0x03},
		{"no prefix", strings.Repeat("ab", 32), false, 0},
		{"too long", "05" + strings.Repeat("ab", 33), false, 0},
		{"not hex", "05" + strings.Repeat("zz", 32), false, 0},
		{"odd length", "05" + strings.Repeat("ab", 31) + "a", false, 0},
		{"empty", "", false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := ParseOwner(c.in)
			if !c.ok {
				require.Error(t, err)
				assert.Equal(t, Owner{}, o)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, c.prefix, o.Prefix())
			assert.Equal(t, strings.ToLower(c.in), o.String())
			back, err := OwnerFromParts(o.Prefix(), o.Key())
			require.NoError(t, err)
			assert.Equal(t, o, back)
		})
	}
	_, err := OwnerFromParts(5, make([]byte, 31))
	assert.Error(t, err)
}

func FuzzParseOwner(f *testing.F) {
	f.Add("053506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8")
	f.Add("05CF27DA303A50AC8C4B2D43D27259505C9BCD73FC21CF2A57902C3D050730B604")
	f.Add("05")
	f.Add("0g" + strings.Repeat("0", 64))
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOwner(s)
		if err != nil {
			if o != (Owner{}) {
				t.Fatalf("ParseOwner(%q) failed but returned %x", s, o[:])
			}
			return
		}
		if got := o.String(); got != strings.ToLower(s) {
			t.Fatalf("ParseOwner(%q) round-trips to %q", s, got)
		}
	})
}

func TestSpaceRange(t *testing.T) {
	const top = ^uint64(0)
	cases := []struct {
		name string
		r    SpaceRange
		in   []uint64
		out  []uint64
	}{
		{"plain", SpaceRange{10, 20}, []uint64{11, 15, 20}, []uint64{10, 9, 21, 0, top}},
		{"wraps", SpaceRange{top - 5, 5}, []uint64{top - 4, top, 0, 5}, []uint64{top - 5, 6, 1 << 63}},
		{"whole space", SpaceRange{7, 7}, []uint64{0, 6, 7, 8, top}, nil},
		{"zero value", FullSpace, []uint64{0, top}, nil},
		{"all but one", SpaceRange{7, 6}, []uint64{8, top, 0, 6}, []uint64{7}},
		{"single point", SpaceRange{6, 7}, []uint64{7}, []uint64{6, 8}},
		{"top to zero", SpaceRange{top, 0}, []uint64{0}, []uint64{top, 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, x := range c.in {
				assert.True(t, c.r.Contains(x), "%s should contain %d", c.r, x)
			}
			for _, x := range c.out {
				assert.False(t, c.r.Contains(x), "%s should not contain %d", c.r, x)
			}
			assert.Equal(t, c.r.Lo == c.r.Hi, c.r.Full())
		})
	}
}

func TestRetrieveCost(t *testing.T) {
	cases := []struct{ hash, data, want int }{
		{43, 0, 143},
		{43, 1, 144}, // 4/3 of 1 rounds down to 1
		{43, 2, 145},
		{43, 3, 147},
		{43, 76_800, 100 + 43 + 102_400},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, RetrieveCost(c.hash, c.data))
	}
}

func TestIsPublicOutbox(t *testing.T) {
	for ns, want := range map[int16]bool{-1: true, -21: true, -981: true, -3741: true, 0: false, 1: false, -10: false, -11: false, -20: false, 21: false, -32768: false} {
		assert.Equal(t, want, IsPublicOutbox(ns), "namespace %d", ns)
	}
}

func TestExpireModeApplies(t *testing.T) {
	cases := []struct {
		mode          ExpireMode
		later, sooner bool // moving 100 -> 200, 100 -> 50
		same          bool
	}{
		{ExpireEither, true, true, true},
		{ExpireExtend, true, false, false},
		{ExpireShorten, false, true, false},
		{ExpireMode(7), false, false, false},
	}
	for _, c := range cases {
		assert.Equal(t, c.later, c.mode.Applies(100, 200), "%s later", c.mode)
		assert.Equal(t, c.sooner, c.mode.Applies(100, 50), "%s sooner", c.mode)
		assert.Equal(t, c.same, c.mode.Applies(100, 100), "%s same", c.mode)
	}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name string
		m    Message
		ok   bool
	}{
		{"fine", Message{Hash: "h", Data: []byte("x")}, true},
		{"no hash", Message{Data: []byte("x")}, false},
		{"negative length", Message{Hash: "h", DataLen: -1}, false},
		{"length without data", Message{Hash: "h", DataLen: 100}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Check(&c.m)
			assert.Equal(t, c.ok, err == nil, "%v", err)
		})
	}
	assert.ErrorIs(t, Check(&Message{}), ErrEmptyHash)
}

func TestScopeAndResults(t *testing.T) {
	assert.True(t, AllNamespaces.Has(-5))
	assert.True(t, InNamespace(3).Has(3))
	assert.False(t, InNamespace(3).Has(0))
	assert.False(t, InNamespace(0).Has(3), "the zero scope is namespace 0, not all")
	assert.Equal(t, "all", AllNamespaces.String())
	assert.Equal(t, "-10", InNamespace(-10).String())
	for r, s := range map[StoreResult]string{New: "new", Extended: "extended", Exists: "exists"} {
		assert.Equal(t, s, r.String())
		assert.Equal(t, r != New, r.Already())
	}
}

func TestUniqueHashes(t *testing.T) {
	// hashes(n) is n distinct hashes.
	hashes := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "h" + strings.Repeat("x", i)
		}
		return out
	}
	long := hashes(20)
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"none", nil, nil},
		{"one", []string{"a"}, []string{"a"}},
		{"a few, all distinct", []string{"a", "b", "c"}, []string{"a", "b", "c"}},
		{"a few, repeated", []string{"a", "b", "a", "c", "b"}, []string{"a", "b", "c"}},
		{"only repeats", []string{"a", "a", "a"}, []string{"a"}},
		{"many, all distinct", long, long},
		{"many, repeated", append(slices.Clone(long), long[3], long[0]), long},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, UniqueHashes(tc.in))
		})
	}
}
