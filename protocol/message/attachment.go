package message

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/sessionsim/sessionsim/protocol/cryptomode"
)

// Attachment encryption, as the clients do it for the file server: the plaintext is padded with
// zeros to PaddedSize, encrypted with AES-256-CBC (PKCS#7) under the first half of a random
// 64-byte key with a random IV, and authenticated with HMAC-SHA256 under the second half. The
// upload is IV (16) || ciphertext || MAC (32); the message carries the key and the SHA-256 of the
// upload (the digest).
const (
	// AttachmentKeySize is AES-256 key || HMAC-SHA256 key.
	AttachmentKeySize = 64
	// MaxAttachmentSize is the file server's upload limit (10,000,000 bytes).
	MaxAttachmentSize = 10_000_000
	// MinPaddedAttachment is the smallest padded size.
	MinPaddedAttachment = 541

	attachmentIV  = aes.BlockSize
	attachmentMAC = sha256.Size
)

// PaddedSize is the size an n-byte attachment is padded to before encryption:
// max(541, floor(1.05^ceil(log_1.05 n))), so that sizes fall into about 5% buckets, capped at
// MaxAttachmentSize for attachments that fit under it. The float expression is evaluated as the
// desktop client evaluates it, in IEEE doubles.
func PaddedSize(n int) int {
	if n <= 0 {
		return MinPaddedAttachment
	}
	p := int(math.Floor(math.Pow(1.05, math.Ceil(math.Log(float64(n))/math.Log(1.05)))))
	if p < MinPaddedAttachment {
		p = MinPaddedAttachment
	}
	if p > MaxAttachmentSize && n <= MaxAttachmentSize {
		p = MaxAttachmentSize
	}
	// Rounding in the last bit could in principle land a hair under n; never cut data.
	return max(p, n)
}

// EncryptedAttachmentSize is the upload size of an n-byte attachment: IV, the CBC ciphertext of
// the padded plaintext (PKCS#7 always adds 1 to 16 bytes) and the MAC.
func EncryptedAttachmentSize(n int) int {
	return attachmentIV + (PaddedSize(n)/aes.BlockSize+1)*aes.BlockSize + attachmentMAC
}

// EncryptedAttachment is an attachment ready to upload, with what the message must carry.
type EncryptedAttachment struct {
	Ciphertext []byte
	Key        [AttachmentKeySize]byte
	Digest     [sha256.Size]byte
	// Size is the plaintext size before padding, which the recipient truncates to.
	Size int
}

// Pointer is the AttachmentPointer for this attachment once uploaded as file id at url.
func (e *EncryptedAttachment) Pointer(id uint64, url, contentType string) AttachmentPointer {
	return AttachmentPointer{
		ID: id, ContentType: contentType, URL: url, Size: uint32(e.Size),
		Key: append([]byte(nil), e.Key[:]...), Digest: append([]byte(nil), e.Digest[:]...),
	}
}

// attachmentCost charges AES for the cipher and two hash passes (the MAC and the digest) per KiB.
// cryptomode.Costs has no AES-CBC entry; AES-GCM is the nearest it has.
func attachmentCost(c cryptomode.Costs, n int) time.Duration {
	return cryptomode.PerKiB(c.AESGCMPerKiB, n) + 2*cryptomode.PerKiB(c.HashPerKiB, n)
}

// EncryptAttachment pads and encrypts plaintext with a fresh key and IV read from r. Attachments
// over MaxAttachmentSize are refused, as the file server would refuse them.
func EncryptAttachment(c cryptomode.Costs, r io.Reader, plaintext []byte) (*EncryptedAttachment, time.Duration, error) {
	if len(plaintext) > MaxAttachmentSize {
		return nil, 0, fmt.Errorf("encrypting attachment: %d bytes is over the file server's limit of %d", len(plaintext), MaxAttachmentSize)
	}
	e := &EncryptedAttachment{Size: len(plaintext)}
	if _, err := io.ReadFull(r, e.Key[:]); err != nil {
		return nil, 0, fmt.Errorf("encrypting attachment: reading key: %w", err)
	}
	padded := PaddedSize(len(plaintext))
	ctLen := (padded/aes.BlockSize + 1) * aes.BlockSize
	out := make([]byte, attachmentIV+ctLen+attachmentMAC)
	if _, err := io.ReadFull(r, out[:attachmentIV]); err != nil {
		return nil, 0, fmt.Errorf("encrypting attachment: reading IV: %w", err)
	}
	// Pad in place in the output (zeros to the padded size, then PKCS#7), then encrypt in place.
	body := out[attachmentIV : attachmentIV+ctLen]
	copy(body, plaintext)
	pkcs := byte(ctLen - padded)
	for i := padded; i < ctLen; i++ {
		body[i] = pkcs
	}
	block, _ := aes.NewCipher(e.Key[:32]) // cannot fail: the key is 32 bytes
	cipher.NewCBCEncrypter(block, out[:attachmentIV]).CryptBlocks(body, body)
	mac := hmac.New(sha256.New, e.Key[32:])
	mac.Write(out[:attachmentIV+ctLen])
	mac.Sum(out[attachmentIV+ctLen : attachmentIV+ctLen])
	e.Digest = sha256.Sum256(out)
	e.Ciphertext = out
	return e, attachmentCost(c, len(out)), nil
}

// DecryptAttachment checks and decrypts an uploaded attachment: the MAC (ErrBadMAC), the digest
// the message carried (ErrBadDigest; a missing digest is refused, as the clients refuse it),
// then AES-CBC with PKCS#7 (ErrDecrypt), and truncates to size when size is smaller than what
// was decrypted (size 0 keeps everything).
func DecryptAttachment(c cryptomode.Costs, data, key, digest []byte, size int) ([]byte, time.Duration, error) {
	if len(key) != AttachmentKeySize {
		return nil, 0, fmt.Errorf("decrypting attachment: %w: key has %d bytes, want %d", ErrBadKey, len(key), AttachmentKeySize)
	}
	ctLen := len(data) - attachmentIV - attachmentMAC
	if ctLen < aes.BlockSize || ctLen%aes.BlockSize != 0 {
		return nil, 0, fmt.Errorf("decrypting attachment: %w: %d bytes is not IV + whole AES blocks + MAC", ErrTooShort, len(data))
	}
	cost := attachmentCost(c, len(data))
	mac := hmac.New(sha256.New, key[32:])
	mac.Write(data[:attachmentIV+ctLen])
	if !hmac.Equal(mac.Sum(nil), data[attachmentIV+ctLen:]) {
		return nil, cost, fmt.Errorf("decrypting attachment: %w", ErrBadMAC)
	}
	if len(digest) != sha256.Size {
		return nil, cost, fmt.Errorf("decrypting attachment: %w: the message carries a %d-byte digest, want %d", ErrBadDigest, len(digest), sha256.Size)
	}
	if sum := sha256.Sum256(data); !hmac.Equal(sum[:], digest) {
		return nil, cost, fmt.Errorf("decrypting attachment: %w", ErrBadDigest)
	}
	block, _ := aes.NewCipher(key[:32]) // cannot fail: the key is 32 bytes
	plain := make([]byte, ctLen)
	cipher.NewCBCDecrypter(block, data[:attachmentIV]).CryptBlocks(plain, data[attachmentIV:attachmentIV+ctLen])
	p := int(plain[ctLen-1])
	if p == 0 || p > aes.BlockSize {
		return nil, cost, fmt.Errorf("decrypting attachment: %w: bad PKCS#7 padding", ErrDecrypt)
	}
	for _, b := range plain[ctLen-p:] {
		if int(b) != p {
			return nil, cost, fmt.Errorf("decrypting attachment: %w: bad PKCS#7 padding", ErrDecrypt)
		}
	}
	plain = plain[:ctLen-p]
	if size > 0 && size < len(plain) {
		plain = plain[:size]
	}
	return plain, cost, nil
}

// AttachmentCost is the CPU time of encrypting or decrypting an upload of n bytes (see
// EncryptedAttachmentSize), what EncryptAttachment and DecryptAttachment charge.
func AttachmentCost(c cryptomode.Costs, n int) time.Duration { return attachmentCost(c, n) }

// ModeledAttachment is EncryptAttachment's size-only twin for modeled crypto: a fresh key and
// digest read from r, no ciphertext (an upload of EncryptedAttachmentSize(size) bytes whose
// content nobody reads), and the cost the real encryption would charge.
func ModeledAttachment(c cryptomode.Costs, r io.Reader, size int) (*EncryptedAttachment, time.Duration, error) {
	if size > MaxAttachmentSize {
		return nil, 0, fmt.Errorf("encrypting attachment: %d bytes is over the file server's limit of %d", size, MaxAttachmentSize)
	}
	e := &EncryptedAttachment{Size: size}
	if _, err := io.ReadFull(r, e.Key[:]); err != nil {
		return nil, 0, fmt.Errorf("encrypting attachment: reading key: %w", err)
	}
	if _, err := io.ReadFull(r, e.Digest[:]); err != nil {
		return nil, 0, fmt.Errorf("encrypting attachment: reading digest: %w", err)
	}
	return e, attachmentCost(c, EncryptedAttachmentSize(size)), nil
}
