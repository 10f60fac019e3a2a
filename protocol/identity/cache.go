package identity

// X25519Memo remembers Ed25519 to X25519 public key conversions. A storage server converts the
// `pubkey_ed25519` of every authenticated 05 request (about 80 us of curve arithmetic), and in a
// simulated world every node converts the same clients' keys over and over. The conversion is a
// pure function, so a memo shared by all the actors of a world changes no outcome.
//
// An X25519Memo belongs to the world that shares it (the world builder or a test harness makes
// one and hands it to the actors through their configs). It is not safe for concurrent use: a
// real-time driver that runs the actors sharing it on goroutines of their own must serialise
// calls to Convert, or give each actor its own memo.
type X25519Memo struct {
	m map[[32]byte][32]byte
}

// maxMemoConversions bounds a memo (about 100 bytes an entry): well above the accounts of the
// largest simulated world; past it conversions are simply not remembered.
const maxMemoConversions = 1 << 20

// NewX25519Memo returns an empty memo.
func NewX25519Memo() *X25519Memo { return &X25519Memo{m: map[[32]byte][32]byte{}} }

// Convert is Ed25519ToX25519 on ed, answered from the memo when ed was converted before.
// Failures are not remembered.
func (c *X25519Memo) Convert(ed [32]byte) ([32]byte, error) {
	if x, ok := c.m[ed]; ok {
		return x, nil
	}
	// Converted from a copy: slicing ed itself would move it to the heap on every call, hits
	// included.
	key := ed
	x, err := Ed25519ToX25519(key[:])
	if err != nil {
		return x, err
	}
	if len(c.m) < maxMemoConversions {
		c.m[ed] = x
	}
	return x, nil
}
