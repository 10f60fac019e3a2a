// Package message builds and opens Session messages: the Content protobuf, the 1:1 sealed-box
// encryption with its sender signature, the Envelope and WebSocketMessage framing stored in a
// recipient's namespace 0, new-group (03) messages under the group key, and attachment
// encryption for the file server.
//
// The formats are the real clients' byte for byte (session-desktop, session-android and
// libsession-util): a message built here opens in a real client and the reverse. Asymmetric
// operations go through a cryptomode.Suite, so the same code runs in modeled mode, where it keeps
// every size and every failure of real mode but does no curve operations. Every operation returns
// the CPU time the real operations cost, for the simulator to charge; randomness comes in as an
// io.Reader.
//
// Layers, outermost first, of what a 1:1 message stores (base64 in the store's "data"), in
// libsession's encoding (the 2026 apps') and, where it differs, the legacy one (the 2024 apps'):
//
//	WebSocketMessage{type REQUEST, request{verb "", path "", body, id 0}}
//	    (legacy: verb "PUT", path "/api/v1/message")
//	  Envelope{type SESSION_MESSAGE (6), timestamp ms, sourcedevice 1, content, proSig (64, decoy)}
//	    (legacy: no sourcedevice, no proSig)
//	    sealed box to the recipient's X25519 key (32-byte ephemeral key, 16-byte tag)
//	      M || sender Ed25519 public key (32) || Ed25519 signature (64) over M || A || recipient X25519
//	        M = Content protobuf, 0x80, zeros up to 160k bytes (legacy: 160k - 1; see PaddedLen)
//
// Receive opens both encodings, as the apps of both generations open each other's messages.
//
// New-group messages are stored without that framing: the Envelope (type CLOSED_GROUP_MESSAGE,
// source the group ID, content the unpadded Content) is bencoded with the author's key and
// signature and encrypted with XChaCha20-Poly1305 under the group key, for namespace 11.
//
// StoredSize, TextStoredSize and GroupStoredSize give the exact stored size of a message by
// arithmetic alone, for simulations that need sizes but not bytes.
package message
