package reports

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
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
		"--hide-scrollbars", "--user-data-dir=" + profile, "--window-size=1200,2400"}
	cmd := exec.CommandContext(ctx, bin, append(append(base, args...), "file://"+file)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "chromium %v: %s", args, stderr.String())
	return stdout.Bytes()
}

// TestReportInBrowser opens a report in a real browser: the DOM Chromium builds holds both charts
// as SVG with their legends and the headline card, and the screenshot shows every series' colour,
// so the inline SVG was drawn rather than shown as text or dropped.
func TestReportInBrowser(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	require.NoError(t, WriteHTML(&buf, sample(), &results.Run{WallSeconds: 12, Speedup: 115}, []byte("name: demo\n")))
	require.NoError(t, os.WriteFile(file, buf.Bytes(), 0o644))

	dom, err := html.Parse(bytes.NewReader(runChromium(t, bin, file, "--dump-dom")))
	require.NoError(t, err)
	var svgs, legendEntries int
	var ratio string
	for n := range dom.Descendants() {
		if n.Type != html.ElementNode {
			continue
		}
		switch n.Data {
		case "svg":
			svgs++
		case "figcaption":
			for c := range n.ChildNodes() {
				if c.Data == "span" {
					legendEntries++
				}
			}
		}
		for _, a := range n.Attr {
			if a.Key == "id" && a.Val == "delivery-ratio" && n.FirstChild != nil {
				ratio = n.FirstChild.Data
			}
		}
	}
	assert.Equal(t, 2, svgs, "both charts are in the browser's DOM")
	assert.Equal(t, 5, legendEntries, "three latency series and two replication series")
	assert.Equal(t, "99.80%", ratio)

	img := screenshot(t, bin, file)
	colours := map[string][3]uint8{
		"replication minimum (red)":           {0xd6, 0x27, 0x28},
		"replication mean, end to end (blue)": {0x1f, 0x77, 0xb4},
		"end to end, online at send (green)":  {0x2c, 0xa0, 0x2c},
		"onion round trip (orange)":           {0xff, 0x7f, 0x0e},
	}
	for name, c := range colours {
		assert.Greater(t, countNear(img, c), 50, "pixels of the %s in the screenshot", name)
	}
}

// screenshot is what headless Chromium shows of the file.
func screenshot(t *testing.T, bin, file string) image.Image {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "shot.png")
	runChromium(t, bin, file, "--screenshot="+shot)
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
