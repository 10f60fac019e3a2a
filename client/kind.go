package client

import "github.com/sessionsim/sessionsim/internal/enum"

// Kind is what a message carries, for measurement: delivery and latency are reported per kind
// (MessageSent.Kind). The zero value is a 1:1 text message.
type Kind uint8

const (
	KindText  Kind = iota // a 1:1 text message
	KindGroup             // a message to a group (03 group, namespace 11 of the group's swarm)
	KindVoice             // a voice clip: a message carrying an attachment on the file server
	KindPhoto             // a photo attachment
	KindFile              // any other file attachment
	// NumKinds is the number of kinds: a table indexed by Kind has this length.
	NumKinds
)

var kindNames = enum.Names[Kind]{Type: "Kind", Names: []string{
	KindText: "text", KindGroup: "group", KindVoice: "voice", KindPhoto: "photo", KindFile: "file",
}, FoldCase: true}

func (k Kind) String() string { return kindNames.Name(k) }

// Attachment reports whether messages of kind k carry an attachment.
func (k Kind) Attachment() bool { return k == KindVoice || k == KindPhoto || k == KindFile }

// ParseKind reads a kind name as scenario files and summaries write it.
func ParseKind(s string) (Kind, error) {
	return kindNames.Read(s, "message kind", "")
}
