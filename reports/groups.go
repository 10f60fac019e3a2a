package reports

import (
	"fmt"
	"maps"
	"slices"

	"github.com/sessionsim/sessionsim/results"
)

// messageRow is one line of the "Messages by kind" and "Groups" tables: a share of the messages
// with its outcomes.
type messageRow struct {
	Name string
	results.KindMessages
}

// kindOrder is the order kinds are listed in; a kind not in it comes after, by name.
var kindOrder = []string{"text", "group", "voice", "photo", "file"}

// kindRows are the summary's messages_by_kind, every kind sent, in kindOrder.
func kindRows(s results.Summary) []messageRow {
	names := slices.SortedFunc(maps.Keys(s.MessagesByKind), func(a, b string) int {
		ia, ib := slices.Index(kindOrder, a), slices.Index(kindOrder, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
		return cmpString(a, b)
	})
	rows := make([]messageRow, 0, len(names))
	for _, n := range names {
		rows = append(rows, messageRow{Name: n, KindMessages: s.MessagesByKind[n]})
	}
	return rows
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// groupSizeRows are the summary's messages_by_group_size, smallest groups first.
func groupSizeRows(s results.Summary) []messageRow {
	var rows []messageRow
	for _, b := range results.GroupSizeBuckets {
		if m, ok := s.MessagesByGroupSize[b.Name]; ok {
			rows = append(rows, messageRow{Name: b.Name + " members", KindMessages: m})
		}
	}
	return rows
}

// outcomes is a row's outcomes in one line.
func outcomes(r messageRow) string {
	return fmt.Sprintf("sent %d, delivered %d, lost %d, pending %d; delivery ratio %s; latency %s",
		r.Sent, r.Delivered, r.Lost, r.Pending, ratio(r.DeliveryRatio), latencies(r.EndToEndMs))
}

// writeKindsAndGroups writes the text report's lines on messages by kind and on group chats.
func writeKindsAndGroups(p func(string, ...any), s results.Summary) {
	if rows := kindRows(s); len(rows) > 0 {
		p("  by kind:")
		for _, r := range rows {
			p("    %-6s %s", r.Name, outcomes(r))
		}
	}
	g := s.Groups
	if g == nil {
		return
	}
	p("")
	p("Groups")
	p("  %s of %.1f members on average; %s removed, %s stored; %s",
		Count(g.Count, "group"), g.MembersMean, Count(g.Removals, "member"), Count(g.KeyRotations, "key rotation"), Count(g.Polls, "group poll"))
	for _, r := range groupSizeRows(s) {
		p("    %-15s %s", r.Name+":", outcomes(r))
	}
}
