package leakage

import (
	"bufio"
	"compress/gzip"
	"io"
	"net/netip"
	"strconv"
	"time"
)

// LinkTapsHeader is the first line of the link taps file: one transmission a line after it,
// the times in nanoseconds from the run's start, the addresses as the hosts have them, the
// size in bytes; arrive_ns is empty for a message that never arrived. Lines are in the order
// the engine sent the messages, which is not strictly by sent_ns: a reply leaves when its
// host's CPU work is done, which the engine knows before that moment comes. In live mode a
// line is one write on a connection as the link model shaped it (TLS records with their HTTP
// framing, handshakes included), in the order the model took them; in docker mode too, the
// writes between nodes as each node's process shaped and reported them, in the order the
// harness read its reports, and the nodes at their container addresses.
const LinkTapsHeader = "sent_ns,arrive_ns,from,to,bytes"

// LinkTaps writes every transmission on every link of a run as a line of gzip-compressed
// CSV (scenario key leakage.link_taps): what an observer of every link would have, for
// attacks the summary does not compute. Record allocates nothing, so a run pays the encoding
// and the compression and no garbage. It is not safe for concurrent use: the engine's single
// event loop calls it in order, so the file is as deterministic as the run; in live mode the
// link model calls it under its lock, once for each write on a connection.
type LinkTaps struct {
	epoch int64
	zw    *gzip.Writer
	bw    *bufio.Writer
	line  []byte
}

// NewLinkTaps writes to w the transmissions of a run that started at epoch, beginning with
// the header line.
func NewLinkTaps(w io.Writer, epoch time.Time) *LinkTaps {
	zw := gzip.NewWriter(w)
	t := &LinkTaps{epoch: epoch.UnixNano(), zw: zw, bw: bufio.NewWriterSize(zw, 64<<10), line: make([]byte, 0, 128)}
	_, _ = t.bw.WriteString(LinkTapsHeader + "\n") // a write error sticks and Close returns it
	return t
}

// SetEpoch moves the run's start to epoch, for a world whose start is known only once it is up
// (docker mode: when its containers serve); call it before the first Record.
func (t *LinkTaps) SetEpoch(epoch time.Time) { t.epoch = epoch.UnixNano() }

// Record writes one transmission from `from` to `to` of size bytes that left at sent and, if
// ok, arrived at arrive (unix ns).
func (t *LinkTaps) Record(from, to netip.Addr, size int, sent, arrive int64, ok bool) {
	b := strconv.AppendInt(t.line[:0], sent-t.epoch, 10)
	b = append(b, ',')
	if ok {
		b = strconv.AppendInt(b, arrive-t.epoch, 10)
	}
	b = append(b, ',')
	b = from.AppendTo(b)
	b = append(b, ',')
	b = to.AppendTo(b)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(size), 10)
	b = append(b, '\n')
	t.line = b
	_, _ = t.bw.Write(b) // a write error sticks and Close returns it
}

// Close writes what is buffered and ends the gzip stream; it returns the first write error.
// It does not close the underlying writer.
func (t *LinkTaps) Close() error {
	if err := t.bw.Flush(); err != nil {
		return err
	}
	return t.zw.Close()
}
