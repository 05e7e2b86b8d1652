package load

import (
	"bufio"
	"bytes"
	"errors"
	"math"
	"os"
	"strconv"
	"strings"
)

// Memory is the server's resident memory, in MB of 10⁶ bytes: the stricter
// reading of a target stated in MB.
type Memory struct {
	// RSSStart and RSS are VmRSS when the measured window opened and when
	// it closed.
	RSSStart float64 `json:"rss_start_mb"`
	RSS      float64 `json:"rss_mb"`
	// Peak is VmHWM when the window closed: the most the process ever had
	// resident, creating the calls included.
	Peak float64 `json:"peak_mb"`
}

// procMem is what /proc/<pid>/status says about a process's memory, in
// bytes.
type procMem struct {
	rss, hwm int64
}

// readMem reads /proc/<pid>/status.
func readMem(pid int) (procMem, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return procMem{}, err
	}
	return parseStatus(b)
}

var errNoVmRSS = errors.New("load: /proc status has no VmRSS and VmHWM")

// parseStatus reads VmRSS and VmHWM from the text of /proc/<pid>/status,
// whose sizes are in kB of 1024 bytes.
func parseStatus(b []byte) (procMem, error) {
	var m procMem
	var found int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		f := strings.Fields(value)
		if len(f) != 2 || f[1] != "kB" {
			return procMem{}, errors.New("load: /proc status: " + name + ": want a size in kB, got " + strconv.Quote(value))
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || n < 0 || n > math.MaxInt64>>10 {
			return procMem{}, errors.New("load: /proc status: " + name + ": bad size " + strconv.Quote(f[0]))
		}
		if name == "VmRSS" {
			m.rss = n << 10
		} else {
			m.hwm = n << 10
		}
		found++
	}
	if found != 2 {
		return procMem{}, errNoVmRSS
	}
	return m, nil
}

// memory turns the readings at both ends of the window into a Memory.
func memory(start, end procMem) *Memory {
	mb := func(n int64) float64 { return round3(float64(n) / 1e6) }
	return &Memory{RSSStart: mb(start.rss), RSS: mb(end.rss), Peak: mb(end.hwm)}
}
