package message

import (
	"encoding/base64"

	"github.com/sessionsim/sessionsim/protocol/message/pb"
)

// StoredSize is len(data) of Build's result for content c sent at sentAtMs, computed by
// arithmetic alone: no encoding, no encryption. Both crypto modes produce this size.
func StoredSize(c *Content, sentAtMs uint64) int {
	return storedSizeForContentLen(c.EncodedLen(), sentAtMs)
}

// TextStoredSize is StoredSize(NewText(body, sentAtMs), sentAtMs) for any body of bodyLen bytes,
// without building the body: the simulator draws message sizes and needs the wire size of each.
func TextStoredSize(bodyLen int, sentAtMs uint64) int {
	dm := 0
	if bodyLen > 0 {
		dm = pb.SizeBytes(dataBody, bodyLen)
	}
	n := pb.SizeBytes(contentDataMessage, dm) + sizeUintOpt(contentSigTimestamp, sentAtMs)
	return storedSizeForContentLen(n, sentAtMs)
}

func storedSizeForContentLen(n int, sentAtMs uint64) int {
	box := PaddedLen(n) + SealOverhead
	env := pb.SizeUint(envType, uint64(SessionMessage)) + pb.SizeUint(envTimestamp, sentAtMs) + pb.SizeBytes(envContent, box)
	req := pb.SizeBytes(reqVerb, len(RequestVerb)) + pb.SizeBytes(reqPath, len(RequestPath)) +
		pb.SizeBytes(reqBody, env) + pb.SizeUint(reqID, 0)
	ws := pb.SizeUint(wsType, wsTypeRequest) + pb.SizeBytes(wsRequest, req)
	return base64.StdEncoding.EncodedLen(ws)
}
