// Package transport gives the exact byte counts of the two transports the storage RPC travels
// over: HTTPS (HTTP/1.1 in TLS 1.3 records) from clients to nodes and from nodes to servers, and
// OxenMQ (ZMTP 3.1 frames under CurveZMQ) between nodes. The simulator moves bodies as values and
// never writes these bytes; the network model charges the sizes computed here, which the tests
// check against real encoders (net/http's writers, a ZMTP frame writer).
package transport
