package reports

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/sessionsim/sessionsim/results"
)

// browserEnv, when set to 1, makes the browser test fail instead of skip when no Chromium is
// installed; .ci/run and `make test-browser` install Chromium and set it.
const browserEnv = "REQUIRE_BROWSER"

// chromium finds a headless-capable Chromium, or skips (fails under browserEnv=1).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(browserEnv) == "1" {
		t.Fatalf("%s=1 but no Chromium on PATH: install it with `apt-get install chromium` (make test-browser does)", browserEnv)
	}
	t.Skipf("no Chromium on PATH; `make test-browser` installs it and runs this test")
	return ""
}

// runChromium runs one headless Chromium command on the file and returns its standard output.
func runChromium(t *testing.T, bin, file string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	profile := t.TempDir() // a private profile: no state shared with other runs
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--hide-scrollbars", "--user-data-dir=" + profile, "--window-size=1200,4400"}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+file)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium %v: %s", args, stderr.String())
	return stdout.Bytes()
}

// dumpDOM is the DOM headless Chromium builds of the file, with args such as a window size.
func dumpDOM(t *testing.T, bin, file string, args ...string) *html.Node {
	t.Helper()
	return parseDOM(t, runChromium(t, bin, file, append([]string{"--dump-dom"}, args...)...))
}

// pageFile writes the page render gives to a file named name in a new temporary directory and
// returns its path, for Chromium to open.
func pageFile(t *testing.T, name string, render func(io.Writer) error) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, render(&buf))
	file := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o644))
	return file
}

// TestReportInBrowser opens a report in a real browser: the DOM Chromium builds holds every
// chart as SVG in its figure with its legend, the faults labelled on each time chart, the
// headline cards and the scenario's parameters with those that differ from the defaults
// marked; the screenshot shows every series', phase's and fault's colour, so the inline SVG was
// drawn rather than shown as text or dropped.
func TestReportInBrowser(t *testing.T) {
	bin := chromium(t)
	file := pageFile(t, "report.html", func(w io.Writer) error {
		return WriteHTML(w, sample(), &results.Run{WallSeconds: 12, Speedup: 115}, []byte(sampleScenario), []byte(sampleDefaults))
	})
	dom := dumpDOM(t, bin, file)
	type figure struct {
		svgs   int
		legend []string
		texts  string // of the drawing
	}
	figures := map[string]*figure{}
	byID := map[string]*html.Node{}
	var changed []string
	for n := range dom.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		if id := attr(n, "id"); id != "" {
			byID[id] = n
		}
		if n.Data == "tr" && attr(n, "class") == "changed" {
			changed = append(changed, text(n.FirstChild))
		}
		if n.Data != "figure" {
			continue
		}
		f := &figure{}
		figures[attr(n, "id")] = f
		for c := range n.Descendants() {
			switch {
			case isElement(c, "svg"):
				f.svgs++
			case isElement(c, "text"):
				f.texts += text(c) + " "
			case isElement(c, "span") && c.Parent.Data == "figcaption":
				f.legend = append(f.legend, text(c))
			}
		}
	}
	shaded := []string{"warmup", "drain", "fault", "crash"}
	want := map[string][]string{
		"chart-messages":     append(shaded, "delivered", "lost", "sent"),
		"chart-latency-time": append(shaded, "p50", "p99"),
		"chart-copies":       append(shaded, "minimum", "p1", "mean"),
		"chart-latency":      {"end to end", "end to end, recipient online at send", "onion round trip"},
		"chart-platforms":    {"android", "desktop", "ios"},
	}
	assert.Len(t, figures, len(want), "one figure a chart")
	for id, legend := range want {
		f := figures[id]
		if !assert.NotNil(t, f, "figure %s in the browser's DOM", id) {
			continue
		}
		assert.Equal(t, 1, f.svgs, "%s holds its drawing", id)
		assert.Equal(t, legend, f.legend, "%s legend", id)
		if slices.Contains(legend, "warmup") {
			assert.Contains(t, f.texts, "partition", "%s labels the partition", id)
			assert.Contains(t, f.texts, "crash", "%s labels the crash", id)
			assert.Contains(t, f.texts, "20 min", "%s time axis in readable units", id)
		}
	}
	for id, want := range map[string]string{"delivery-ratio": "99.80%", "p1-copies": "6.0"} {
		if assert.Contains(t, byID, id) {
			assert.Equal(t, want, text(byID[id]), id)
		}
	}
	assert.Equal(t, []string{"faults[0].at", "faults[0].for", "faults[0].kind", "faults[0].regions",
		"faults[1].at", "faults[1].count", "faults[1].kind", "faults[1].target", "name", "seed"}, changed,
		"the parameters that differ from the defaults are marked, and only those")
	if assert.Contains(t, byID, "faults") {
		assert.Contains(t, text(byID["faults"]), "6 min to 11 min")
	}

	img := screenshot(t, bin, file)
	colours := map[string]color.RGBA{
		"minimum copies, lost (red)":                   chartRed,
		"mean copies, end to end, sent, p50 (blue)":    chartBlue,
		"end to end online at send, delivered (green)": chartGreen,
		"onion round trip, p99 (orange)":               chartOrange,
		"p1 copies, android (purple)":                  chartPurple,
		"desktop (brown)":                              chartBrown,
		"ios (pink)":                                   chartPink,
		"warmup shading":                               warmupShade,
		"drain shading":                                drainShade,
		"fault band":                                   faultShade,
		"crash line":                                   faultLine,
	}
	for name, c := range colours {
		assert.Greater(t, countNear(img, [3]uint8{c.R, c.G, c.B}), 50, "pixels of the %s in the screenshot", name)
	}
}

// screenshot is what headless Chromium shows of the file, with args such as a window size.
func screenshot(t *testing.T, bin, file string, args ...string) image.Image {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "shot.png")
	runChromium(t, bin, file, append([]string{"--screenshot=" + shot}, args...)...)
	f, err := os.Open(shot)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	return img
}

// countNear counts pixels within a small distance of colour c (antialiasing shifts edges).
func countNear(img image.Image, c [3]uint8) int {
	near := func(a uint32, b uint8) bool {
		d := int(a>>8) - int(b)
		return d >= -12 && d <= 12
	}
	n := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			r, g, b, _ := img.At(x, y).RGBA()
			if near(r, c[0]) && near(g, c[1]) && near(b, c[2]) {
				n++
			}
		}
	}
	return n
}
