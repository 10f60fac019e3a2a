package transport

// OxenMQ between nodes: a request is the parts [command, reply tag, data...] and its reply
// ["REPLY", reply tag, data...], the tag being 15 random bytes. Each part travels as one ZMTP
// 3.1 frame (a flags byte, then a 1-byte length up to 255 or an 8-byte one, then the part), and
// CurveZMQ wraps every frame in a MESSAGE command: the command name with its length byte, an
// 8-byte short nonce, and a box of a flags byte and the part under a 16-byte tag.
const (
	replyTagLen  = 15
	replyCommand = "REPLY"
	curveMessage = 1 + len("MESSAGE") + 8 + 16 + 1
)

// MQRequestSize is the bytes on the wire of an OxenMQ request for command with data parts of
// the given lengths.
func MQRequestSize(command string, parts ...int) int {
	n := curveFrame(len(command)) + curveFrame(replyTagLen)
	for _, p := range parts {
		n += curveFrame(p)
	}
	return n
}

// MQCommandSize is the bytes on the wire of an OxenMQ command sent without expecting a reply
// (OxenMQ's send, as a node's notify.message to the push server): the parts [command, data...],
// no reply tag.
func MQCommandSize(command string, parts ...int) int {
	n := curveFrame(len(command))
	for _, p := range parts {
		n += curveFrame(p)
	}
	return n
}

// MQReplySize is the bytes on the wire of the reply to an OxenMQ request, with data parts of
// the given lengths.
func MQReplySize(parts ...int) int { return MQRequestSize(replyCommand, parts...) }

// curveFrame is one part of n bytes as a CurveZMQ MESSAGE command frame.
func curveFrame(n int) int { return zmtpFrame(curveMessage + n) }

// zmtpFrame is a ZMTP 3.1 frame with a body of n bytes.
func zmtpFrame(n int) int {
	if n <= 255 {
		return 2 + n
	}
	return 9 + n
}
