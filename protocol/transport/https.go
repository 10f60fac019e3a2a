package transport

import (
	"net/http"
	"net/netip"
	"strconv"
)

// Content types of the bodies nodes and clients exchange.
const (
	JSON   = "application/json"
	Text   = "text/plain; charset=utf-8"
	Binary = "application/octet-stream"
)

// The HTTP/1.1 framing is the one net/http writes: a request line, Host, User-Agent,
// Content-Length and Content-Type; a status line, Content-Length, Content-Type and Date (whose
// IMF-fixdate value always has 29 characters).
const (
	crlf          = len("\r\n")
	headerSep     = len(": ") + crlf
	userAgentLine = len("User-Agent") + len("Go-http-client/1.1") + headerSep
	dateLine      = len("Date") + len("Mon, 02 Jan 2006 15:04:05 GMT") + headerSep
	httpVersion   = len("HTTP/1.1")
)

// TLS 1.3 application data: each record carries at most tlsRecordMax bytes of plaintext and
// adds a 5-byte header, the inner content type byte and a 16-byte AEAD tag.
const (
	tlsRecordMax      = 16384
	tlsRecordOverhead = 5 + 1 + 16
)

// HTTPSRequestSize is the bytes on the wire of a POST to path at host with a body of bodyLen
// bytes of type contentType ("" for no Content-Type header).
func HTTPSRequestSize(host netip.AddrPort, path, contentType string, bodyLen int) int {
	var buf [64]byte
	n := len("POST") + 1 + len(path) + 1 + httpVersion + crlf
	n += len("Host") + len(host.AppendTo(buf[:0])) + headerSep
	n += userAgentLine
	n += httpHead(contentType, bodyLen)
	return tlsSize(n + bodyLen)
}

// HTTPSResponseSize is the bytes on the wire of a response with status and a body of bodyLen
// bytes of type contentType ("" for no Content-Type header).
func HTTPSResponseSize(status int, contentType string, bodyLen int) int {
	text := http.StatusText(status)
	if text == "" {
		text = "status code " + strconv.Itoa(status)
	}
	n := httpVersion + 1 + 3 + 1 + len(text) + crlf
	n += dateLine
	n += httpHead(contentType, bodyLen)
	return tlsSize(n + bodyLen)
}

// httpHead is the Content-Length and Content-Type lines and the blank line that ends the head.
func httpHead(contentType string, bodyLen int) int {
	n := len("Content-Length") + digits(bodyLen) + headerSep
	if contentType != "" {
		n += len("Content-Type") + len(contentType) + headerSep
	}
	return n + crlf
}

// tlsSize is n bytes of plaintext in TLS records.
func tlsSize(n int) int {
	return n + (n+tlsRecordMax-1)/tlsRecordMax*tlsRecordOverhead
}

// digits is the length of n in decimal.
func digits(n int) int {
	var buf [20]byte
	return len(strconv.AppendInt(buf[:0], int64(n), 10))
}
