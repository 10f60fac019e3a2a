package message

// Field numbers of SignalService.proto as the Session clients define it.
const (
	contentDataMessage     = 1
	contentExpirationType  = 12
	contentExpirationTimer = 13
	contentSigTimestamp    = 15

	dataBody        = 1
	dataAttachments = 2
	dataFlags       = 4
	dataProfileKey  = 6
	dataTimestamp   = 7
	dataProfile     = 101

	profileDisplayName   = 1
	profilePicture       = 2
	profileLastUpdateSec = 3

	attID          = 1
	attContentType = 2
	attKey         = 3
	attSize        = 4
	attDigest      = 6
	attFileName    = 7
	attFlags       = 8
	attWidth       = 9
	attHeight      = 10
	attCaption     = 11
	attURL         = 101
)

// ExpirationType is Content.expirationType (disappearing messages).
type ExpirationType uint32

// Expiration types.
const (
	ExpirationUnknown         ExpirationType = 0
	ExpirationDeleteAfterRead ExpirationType = 1
	ExpirationDeleteAfterSend ExpirationType = 2
)

// Content is the top-level plaintext of every Session message. Only the parts a text or
// attachment message uses are modelled; other fields (typing, receipts, calls, group updates)
// are skipped when decoding.
//
// Zero values mean "absent": scalars are written only when non-zero, strings and bytes only when
// non-empty, DataMessage only when non-nil, which is how the real clients leave them out.
type Content struct {
	DataMessage     *DataMessage
	ExpirationType  ExpirationType
	ExpirationTimer uint32 // seconds
	// SigTimestamp is the sending time in ms. Current clients put it here and require it;
	// older ones used DataMessage.Timestamp.
	SigTimestamp uint64
}

// DataMessage is a visible message.
type DataMessage struct {
	Body        string
	Attachments []AttachmentPointer
	Flags       uint32
	ProfileKey  []byte
	// Timestamp (field 7) is the sending time in ms as clients before 2024 wrote it; current
	// clients reserve the field and use Content.SigTimestamp.
	Timestamp uint64
	Profile   *Profile
}

// Profile is DataMessage.LokiProfile: the sender's display name and avatar URL, sent along with
// messages so that recipients learn them.
type Profile struct {
	DisplayName    string
	ProfilePicture string
	// LastUpdateSeconds is when the profile last changed (seconds), so recipients keep the newest.
	LastUpdateSeconds uint64
}

// AttachmentPointer locates an encrypted attachment on the file server and carries its key.
type AttachmentPointer struct {
	// ID is the file server's file id (deprecated_id, fixed64; always written).
	ID          uint64
	ContentType string
	Key         []byte // 64 bytes: AES-256 key || HMAC-SHA256 key
	Size        uint32 // plaintext size before padding
	Digest      []byte // SHA-256 of the uploaded ciphertext
	FileName    string
	Flags       uint32
	Width       uint32
	Height      uint32
	Caption     string
	URL         string
}

// NewText is the Content of a plain text message sent at sentAtMs, as current clients build it.
func NewText(body string, sentAtMs uint64) *Content {
	return &Content{DataMessage: &DataMessage{Body: body}, SigTimestamp: sentAtMs}
}

var contentFields = fields[Content]{layer: "Content", list: []field[Content]{
	optMessage(contentDataMessage, func(c *Content) **DataMessage { return &c.DataMessage }, &dataMessageFields),
	optUint(contentExpirationType, func(c *Content) *ExpirationType { return &c.ExpirationType }),
	optUint(contentExpirationTimer, func(c *Content) *uint32 { return &c.ExpirationTimer }),
	optUint(contentSigTimestamp, func(c *Content) *uint64 { return &c.SigTimestamp }),
}}

var dataMessageFields = fields[DataMessage]{layer: "DataMessage", list: []field[DataMessage]{
	optString(dataBody, func(m *DataMessage) *string { return &m.Body }),
	repeatedMessage(dataAttachments, func(m *DataMessage) *[]AttachmentPointer { return &m.Attachments }, &attachmentFields),
	optUint(dataFlags, func(m *DataMessage) *uint32 { return &m.Flags }),
	optBytes(dataProfileKey, func(m *DataMessage) *[]byte { return &m.ProfileKey }),
	optUint(dataTimestamp, func(m *DataMessage) *uint64 { return &m.Timestamp }),
	optMessage(dataProfile, func(m *DataMessage) **Profile { return &m.Profile }, &profileFields),
}}

var profileFields = fields[Profile]{layer: "LokiProfile", list: []field[Profile]{
	optString(profileDisplayName, func(p *Profile) *string { return &p.DisplayName }),
	optString(profilePicture, func(p *Profile) *string { return &p.ProfilePicture }),
	optUint(profileLastUpdateSec, func(p *Profile) *uint64 { return &p.LastUpdateSeconds }),
}}

var attachmentFields = fields[AttachmentPointer]{layer: "AttachmentPointer", list: []field[AttachmentPointer]{
	fixed64Always(attID, func(a *AttachmentPointer) *uint64 { return &a.ID }).require("deprecated_id"),
	optString(attContentType, func(a *AttachmentPointer) *string { return &a.ContentType }),
	optBytes(attKey, func(a *AttachmentPointer) *[]byte { return &a.Key }),
	optUint(attSize, func(a *AttachmentPointer) *uint32 { return &a.Size }),
	optBytes(attDigest, func(a *AttachmentPointer) *[]byte { return &a.Digest }),
	optString(attFileName, func(a *AttachmentPointer) *string { return &a.FileName }),
	optUint(attFlags, func(a *AttachmentPointer) *uint32 { return &a.Flags }),
	optUint(attWidth, func(a *AttachmentPointer) *uint32 { return &a.Width }),
	optUint(attHeight, func(a *AttachmentPointer) *uint32 { return &a.Height }),
	optString(attCaption, func(a *AttachmentPointer) *string { return &a.Caption }),
	optString(attURL, func(a *AttachmentPointer) *string { return &a.URL }),
}}

// EncodedLen is the encoded length of c, computed without encoding it.
func (c *Content) EncodedLen() int { return contentFields.size(c) }

// Marshal encodes c.
func (c *Content) Marshal() []byte { return c.AppendTo(make([]byte, 0, c.EncodedLen())) }

// AppendTo appends the encoding of c to b.
func (c *Content) AppendTo(b []byte) []byte { return contentFields.appendTo(b, c) }

// EncodedLen is the encoded length of m.
func (m *DataMessage) EncodedLen() int { return dataMessageFields.size(m) }

// AppendTo appends the encoding of m to b.
func (m *DataMessage) AppendTo(b []byte) []byte { return dataMessageFields.appendTo(b, m) }

// EncodedLen is the encoded length of p.
func (p *Profile) EncodedLen() int { return profileFields.size(p) }

// AppendTo appends the encoding of p to b.
func (p *Profile) AppendTo(b []byte) []byte { return profileFields.appendTo(b, p) }

// EncodedLen is the encoded length of a.
func (a *AttachmentPointer) EncodedLen() int { return attachmentFields.size(a) }

// AppendTo appends the encoding of a to b.
func (a *AttachmentPointer) AppendTo(b []byte) []byte { return attachmentFields.appendTo(b, a) }

// UnmarshalContent decodes a Content protobuf (unpadded). Unknown fields are skipped; byte
// fields of the result alias b.
func UnmarshalContent(b []byte) (*Content, error) {
	c := &Content{}
	if err := contentFields.decode(b, c); err != nil {
		return nil, err
	}
	return c, nil
}
