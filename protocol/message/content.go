package message

import (
	"fmt"

	"github.com/sessionsim/sessionsim/protocol/message/pb"
)

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

func sizeString(field int, s string) int {
	if s == "" {
		return 0
	}
	return pb.SizeBytes(field, len(s))
}

func sizeBytesOpt(field int, b []byte) int {
	if len(b) == 0 {
		return 0
	}
	return pb.SizeBytes(field, len(b))
}

func sizeUintOpt(field int, v uint64) int {
	if v == 0 {
		return 0
	}
	return pb.SizeUint(field, v)
}

func appendString(b []byte, field int, s string) []byte {
	if s == "" {
		return b
	}
	return pb.AppendString(b, field, s)
}

func appendBytesOpt(b []byte, field int, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return pb.AppendBytes(b, field, v)
}

func appendUintOpt(b []byte, field int, v uint64) []byte {
	if v == 0 {
		return b
	}
	return pb.AppendUint(b, field, v)
}

// EncodedLen is the encoded length of c, computed without encoding it.
func (c *Content) EncodedLen() int {
	n := 0
	if c.DataMessage != nil {
		n += pb.SizeBytes(contentDataMessage, c.DataMessage.EncodedLen())
	}
	n += sizeUintOpt(contentExpirationType, uint64(c.ExpirationType))
	n += sizeUintOpt(contentExpirationTimer, uint64(c.ExpirationTimer))
	n += sizeUintOpt(contentSigTimestamp, c.SigTimestamp)
	return n
}

// Marshal encodes c.
func (c *Content) Marshal() []byte { return c.AppendTo(make([]byte, 0, c.EncodedLen())) }

// AppendTo appends the encoding of c to b.
func (c *Content) AppendTo(b []byte) []byte {
	if c.DataMessage != nil {
		b = pb.AppendMessage(b, contentDataMessage, c.DataMessage.EncodedLen(), c.DataMessage.AppendTo)
	}
	b = appendUintOpt(b, contentExpirationType, uint64(c.ExpirationType))
	b = appendUintOpt(b, contentExpirationTimer, uint64(c.ExpirationTimer))
	b = appendUintOpt(b, contentSigTimestamp, c.SigTimestamp)
	return b
}

// EncodedLen is the encoded length of m.
func (m *DataMessage) EncodedLen() int {
	n := sizeString(dataBody, m.Body)
	for i := range m.Attachments {
		n += pb.SizeBytes(dataAttachments, m.Attachments[i].EncodedLen())
	}
	n += sizeUintOpt(dataFlags, uint64(m.Flags))
	n += sizeBytesOpt(dataProfileKey, m.ProfileKey)
	n += sizeUintOpt(dataTimestamp, m.Timestamp)
	if m.Profile != nil {
		n += pb.SizeBytes(dataProfile, m.Profile.EncodedLen())
	}
	return n
}

// AppendTo appends the encoding of m to b.
func (m *DataMessage) AppendTo(b []byte) []byte {
	b = appendString(b, dataBody, m.Body)
	for i := range m.Attachments {
		a := &m.Attachments[i]
		b = pb.AppendMessage(b, dataAttachments, a.EncodedLen(), a.AppendTo)
	}
	b = appendUintOpt(b, dataFlags, uint64(m.Flags))
	b = appendBytesOpt(b, dataProfileKey, m.ProfileKey)
	b = appendUintOpt(b, dataTimestamp, m.Timestamp)
	if m.Profile != nil {
		b = pb.AppendMessage(b, dataProfile, m.Profile.EncodedLen(), m.Profile.AppendTo)
	}
	return b
}

// EncodedLen is the encoded length of p.
func (p *Profile) EncodedLen() int {
	return sizeString(profileDisplayName, p.DisplayName) +
		sizeString(profilePicture, p.ProfilePicture) +
		sizeUintOpt(profileLastUpdateSec, p.LastUpdateSeconds)
}

// AppendTo appends the encoding of p to b.
func (p *Profile) AppendTo(b []byte) []byte {
	b = appendString(b, profileDisplayName, p.DisplayName)
	b = appendString(b, profilePicture, p.ProfilePicture)
	return appendUintOpt(b, profileLastUpdateSec, p.LastUpdateSeconds)
}

// EncodedLen is the encoded length of a.
func (a *AttachmentPointer) EncodedLen() int {
	return pb.SizeFixed64(attID) +
		sizeString(attContentType, a.ContentType) +
		sizeBytesOpt(attKey, a.Key) +
		sizeUintOpt(attSize, uint64(a.Size)) +
		sizeBytesOpt(attDigest, a.Digest) +
		sizeString(attFileName, a.FileName) +
		sizeUintOpt(attFlags, uint64(a.Flags)) +
		sizeUintOpt(attWidth, uint64(a.Width)) +
		sizeUintOpt(attHeight, uint64(a.Height)) +
		sizeString(attCaption, a.Caption) +
		sizeString(attURL, a.URL)
}

// AppendTo appends the encoding of a to b.
func (a *AttachmentPointer) AppendTo(b []byte) []byte {
	b = pb.AppendFixed64(b, attID, a.ID)
	b = appendString(b, attContentType, a.ContentType)
	b = appendBytesOpt(b, attKey, a.Key)
	b = appendUintOpt(b, attSize, uint64(a.Size))
	b = appendBytesOpt(b, attDigest, a.Digest)
	b = appendString(b, attFileName, a.FileName)
	b = appendUintOpt(b, attFlags, uint64(a.Flags))
	b = appendUintOpt(b, attWidth, uint64(a.Width))
	b = appendUintOpt(b, attHeight, uint64(a.Height))
	b = appendString(b, attCaption, a.Caption)
	return appendString(b, attURL, a.URL)
}

// UnmarshalContent decodes a Content protobuf (unpadded). Unknown fields are skipped; byte
// fields of the result alias b.
func UnmarshalContent(b []byte) (*Content, error) {
	c := &Content{}
	d := pb.NewDecoder(b)
	err := eachField("Content", d, func(f int, wt pb.WireType) (err error) {
		var v uint64
		switch f {
		case contentDataMessage:
			var raw []byte
			if raw, err = bytesField(d, f, wt); err == nil {
				// A repeated non-repeated message field merges in protobuf; the clients never
				// send it twice, so the last one wins here, which is simpler and as safe.
				c.DataMessage, err = unmarshalDataMessage(raw)
			}
		case contentExpirationType:
			v, err = uintField(d, f, wt)
			c.ExpirationType = ExpirationType(v)
		case contentExpirationTimer:
			v, err = uintField(d, f, wt)
			c.ExpirationTimer = uint32(v)
		case contentSigTimestamp:
			c.SigTimestamp, err = uintField(d, f, wt)
		default:
			err = d.Skip(wt)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// eachField calls field for every field left in d, in order, and returns the first error as a
// DecodeError of layer; a nested message's DecodeError passes through as it is, so the error
// names the innermost layer that failed. field reads the value through d, which the caller
// shares with it by closure: a decoder passed through the func value would escape to the heap.
func eachField(layer string, d *pb.Decoder, field func(f int, wt pb.WireType) error) error {
	for !d.Done() {
		f, wt, err := d.Next()
		if err == nil {
			err = field(f, wt)
		}
		if err != nil {
			return decodeErr(layer, err)
		}
	}
	return nil
}

func stringField(d *pb.Decoder, f int, wt pb.WireType) (string, error) {
	b, err := bytesField(d, f, wt)
	return string(b), err
}

func uintField(d *pb.Decoder, f int, wt pb.WireType) (uint64, error) {
	if err := d.Expect(f, wt, pb.Varint); err != nil {
		return 0, err
	}
	return d.Uint()
}

func bytesField(d *pb.Decoder, f int, wt pb.WireType) ([]byte, error) {
	if err := d.Expect(f, wt, pb.Bytes); err != nil {
		return nil, err
	}
	return d.Bytes()
}

// optBytesField reads a bytes field whose empty value means absent, as the encoders treat it,
// so that decoding and re-encoding give equal values.
func optBytesField(d *pb.Decoder, f int, wt pb.WireType) ([]byte, error) {
	b, err := bytesField(d, f, wt)
	if len(b) == 0 {
		return nil, err
	}
	return b, err
}

func unmarshalDataMessage(b []byte) (*DataMessage, error) {
	m := &DataMessage{}
	d := pb.NewDecoder(b)
	err := eachField("DataMessage", d, func(f int, wt pb.WireType) (err error) {
		var v uint64
		var raw []byte
		switch f {
		case dataBody:
			m.Body, err = stringField(d, f, wt)
		case dataAttachments:
			if raw, err = bytesField(d, f, wt); err == nil {
				var a AttachmentPointer
				if a, err = unmarshalAttachment(raw); err == nil {
					m.Attachments = append(m.Attachments, a)
				}
			}
		case dataFlags:
			v, err = uintField(d, f, wt)
			m.Flags = uint32(v)
		case dataProfileKey:
			m.ProfileKey, err = optBytesField(d, f, wt)
		case dataTimestamp:
			m.Timestamp, err = uintField(d, f, wt)
		case dataProfile:
			if raw, err = bytesField(d, f, wt); err == nil {
				m.Profile, err = unmarshalProfile(raw)
			}
		default:
			err = d.Skip(wt)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

func unmarshalProfile(b []byte) (*Profile, error) {
	p := &Profile{}
	d := pb.NewDecoder(b)
	err := eachField("LokiProfile", d, func(f int, wt pb.WireType) (err error) {
		switch f {
		case profileDisplayName:
			p.DisplayName, err = stringField(d, f, wt)
		case profilePicture:
			p.ProfilePicture, err = stringField(d, f, wt)
		case profileLastUpdateSec:
			p.LastUpdateSeconds, err = uintField(d, f, wt)
		default:
			err = d.Skip(wt)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func unmarshalAttachment(b []byte) (AttachmentPointer, error) {
	const layer = "AttachmentPointer"
	var a AttachmentPointer
	seenID := false
	d := pb.NewDecoder(b)
	err := eachField(layer, d, func(f int, wt pb.WireType) (err error) {
		var v uint64
		switch f {
		case attID:
			if err = d.Expect(f, wt, pb.Fixed64); err == nil {
				a.ID, err = d.Fixed64()
				seenID = true
			}
		case attContentType:
			a.ContentType, err = stringField(d, f, wt)
		case attKey:
			a.Key, err = optBytesField(d, f, wt)
		case attSize:
			v, err = uintField(d, f, wt)
			a.Size = uint32(v)
		case attDigest:
			a.Digest, err = optBytesField(d, f, wt)
		case attFileName:
			a.FileName, err = stringField(d, f, wt)
		case attFlags:
			v, err = uintField(d, f, wt)
			a.Flags = uint32(v)
		case attWidth:
			v, err = uintField(d, f, wt)
			a.Width = uint32(v)
		case attHeight:
			v, err = uintField(d, f, wt)
			a.Height = uint32(v)
		case attCaption:
			a.Caption, err = stringField(d, f, wt)
		case attURL:
			a.URL, err = stringField(d, f, wt)
		default:
			err = d.Skip(wt)
		}
		return err
	})
	if err != nil {
		return a, err
	}
	if !seenID {
		return a, decodeErr(layer, fmt.Errorf("%w: deprecated_id (1)", ErrMissingField))
	}
	return a, nil
}
