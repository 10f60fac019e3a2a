package scenarios

import (
	"github.com/sessionsim/sessionsim/client"
	"github.com/sessionsim/sessionsim/metrics"
	"github.com/sessionsim/sessionsim/results"
)

// kindTally splits the messages' outcomes and latencies by what they carry (client.Kind).
type kindTally struct {
	m   [client.NumKinds]results.Messages
	e2e [client.NumKinds]metrics.Histogram
}

// add counts one message of the run with its outcome (and cause, when lost).
func (t *kindTally) add(rec *messageRecord, o outcome, cause string) {
	k := int(rec.kind)
	if k >= len(t.m) {
		return
	}
	countOutcome(&t.m[k], &t.e2e[k], rec, o, cause)
}

// countOutcome counts rec with outcome o (and cause, when lost) in m, its latency in e2e when
// it was delivered and e2e is not nil.
func countOutcome(m *results.Messages, e2e *metrics.Histogram, rec *messageRecord, o outcome, cause string) {
	m.Sent++
	switch o {
	case undeliverable:
		m.Undeliverable++
	case delivered:
		m.Delivered++
		if e2e != nil {
			e2e.Add(rec.latencyMs())
		}
	case pending:
		m.Pending++
	case inFlight:
		m.InFlight++
	case lost:
		m.Lost++
		if m.LostByCause == nil {
			m.LostByCause = map[string]uint64{}
		}
		m.LostByCause[cause]++
	}
}

// fill is the summary's messages_by_kind: every kind that was sent at least once.
func (t *kindTally) fill() map[string]results.KindMessages {
	out := map[string]results.KindMessages{}
	for k, m := range t.m {
		if m.Sent == 0 {
			continue
		}
		out[client.Kind(k).String()] = kindMessages(m, &t.e2e[k])
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// kindMessages is the summary form of a share of the messages: m, its delivery ratio and the
// latencies e2e of its delivered messages.
func kindMessages(m results.Messages, e2e *metrics.Histogram) results.KindMessages {
	return results.KindMessages{Messages: m, DeliveryRatio: deliveryRatio(m.Delivered, m.Lost), EndToEndMs: percentiles(e2e)}
}
