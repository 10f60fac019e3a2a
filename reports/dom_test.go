package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
)

// parseDOM parses a page as a browser would, failing the test when it does not parse.
func parseDOM(t *testing.T, page []byte) *html.Node {
	t.Helper()
	dom, err := html.Parse(bytes.NewReader(page))
	require.NoError(t, err)
	return dom
}

// isElement reports whether n is an element with the tag.
func isElement(n *html.Node, tag string) bool {
	return n.Type == html.ElementNode && n.Data == tag
}

// attr is the value of n's attribute key, "" when it has none.
func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// text is the text below n, trimmed.
func text(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return strings.TrimSpace(b.String())
}
