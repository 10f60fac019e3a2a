package storagerpc

import "github.com/sessionsim/sessionsim/protocol/bencode"

// Swarm-change pushes (sn.data): one bencoded list holding a list per message of the account
// (33 bytes), the hash, the timestamp and expiry in ms, the data and the namespace. The
// simulator passes the messages as values; these are the lengths of that encoding.

// PushedMessageSize is one message's length in a push.
func PushedMessageSize(hashLen int, ns Namespace, timestamp, expiry int64, dataLen int) int {
	return 2 + bencode.StringLen(33) + bencode.StringLen(hashLen) + bencode.IntLen(timestamp) +
		bencode.IntLen(expiry) + bencode.StringLen(dataLen) + bencode.IntLen(int64(ns))
}

// PushSize is the length of a push whose messages' PushedMessageSize add up to messages.
func PushSize(messages int) int { return 2 + messages }
