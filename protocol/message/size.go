package message

import (
	"encoding/base64"

	"github.com/sessionsim/sessionsim/protocol/message/pb"
)

// StoredSize is len(data) of Build's result for content c sent at sentAtMs in encoding enc,
// computed by arithmetic alone: no encoding, no encryption. Both crypto modes produce this size.
func StoredSize(enc Encoding, c *Content, sentAtMs uint64) int {
	return storedSizeForContentLen(enc, c.EncodedLen(), sentAtMs)
}

// TextStoredSize is StoredSize(enc, NewText(body, sentAtMs), sentAtMs) for any body of bodyLen
// bytes, without building the body: the simulator draws message sizes and needs the wire size
// of each.
func TextStoredSize(enc Encoding, bodyLen int, sentAtMs uint64) int {
	dm := 0
	if bodyLen > 0 {
		dm = pb.SizeBytes(dataBody, bodyLen)
	}
	n := pb.SizeBytes(contentDataMessage, dm) + sizeUintOpt(contentSigTimestamp, sentAtMs)
	return storedSizeForContentLen(enc, n, sentAtMs)
}

func storedSizeForContentLen(enc Encoding, n int, sentAtMs uint64) int {
	box := enc.PaddedLen(n) + SealOverhead
	env := pb.SizeUint(envType, uint64(SessionMessage)) + pb.SizeUint(envTimestamp, sentAtMs) + pb.SizeBytes(envContent, box)
	if enc == Libsession {
		env += pb.SizeUint(envSourceDevice, LibsessionSourceDevice) + pb.SizeBytes(envProSig, ProSigLen)
	}
	r := enc.request(nil)
	req := pb.SizeBytes(reqVerb, len(r.Verb)) + pb.SizeBytes(reqPath, len(r.Path)) +
		pb.SizeBytes(reqBody, env) + pb.SizeUint(reqID, 0)
	ws := pb.SizeUint(wsType, wsTypeRequest) + pb.SizeBytes(wsRequest, req)
	return base64.StdEncoding.EncodedLen(ws)
}
