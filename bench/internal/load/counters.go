package load

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// counterTimeout bounds one run of Config.WindowCmd.
const counterTimeout = 30 * time.Second

// readCounters runs cmd with sh -c and parses what it prints: name=value
// pairs separated by white space, each value a number. It fails if the
// command fails or prints anything else, or nothing.
func readCounters(ctx context.Context, cmd string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, counterTimeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("load: window command: %v: %.300s", err, strings.TrimSpace(stderr.String()))
	}
	return parseCounters(stdout.String())
}

// parseCounters parses name=value pairs separated by white space.
func parseCounters(s string) (map[string]float64, error) {
	out := make(map[string]float64)
	for _, f := range strings.Fields(s) {
		name, value, ok := strings.Cut(f, "=")
		v, err := strconv.ParseFloat(value, 64)
		if !ok || name == "" || err != nil {
			return nil, fmt.Errorf("load: window command printed %q: want name=number pairs", f)
		}
		out[name] = v
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("load: window command printed no counters")
	}
	return out, nil
}

// grown returns, for each counter in both a and b, how much it grew from a
// to b.
func grown(a, b map[string]float64) map[string]float64 {
	out := make(map[string]float64, len(b))
	for name, v := range b {
		if w, ok := a[name]; ok {
			out[name] = v - w
		}
	}
	return out
}
