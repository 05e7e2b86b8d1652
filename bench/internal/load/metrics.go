package load

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The media engine's metric families, as Switchboard's /metrics names them.
const (
	metricSkipped   = "switchboard_media_skipped_frames_total"
	metricFrames    = "switchboard_media_frames_total"
	metricRoomTicks = "switchboard_media_room_ticks_total"
	metricLag       = "switchboard_media_tick_lag_seconds"
	metricLagSum    = "switchboard_media_tick_lag_seconds_total"
	metricRooms     = "switchboard_media_rooms"
	metricAwake     = "switchboard_media_awake_rooms"

	metricDialogs = "switchboard_sip_dialogs"
	metricRTPIn   = "switchboard_sip_rtp_packets_received_total"
	metricRTPOut  = "switchboard_sip_rtp_packets_sent_total"
	metricRTPLost = "switchboard_sip_rtp_packets_lost_total"
)

// The media streams' families: frames dropped (by direction, a label) and
// bots connected.
const (
	metricStreamDropped = "switchboard_media_stream_dropped_frames_total"
	metricStreamConns   = "switchboard_media_stream_connections"
)

// series names one labelled series of a family in a scrape, as the text
// format writes it: family{label="value"}.
func series(family, label, value string) string {
	return family + "{" + label + "=" + strconv.Quote(value) + "}"
}

// PhoneRTP is what the server's SIP legs say about their RTP during the
// measured window, from its /metrics at both ends: the receiving end's
// view of loss (sequence numbers that never came). A nil field is a family
// the server does not export.
type PhoneRTP struct {
	// Dialogs is the SIP calls in progress when the window closed.
	Dialogs *float64 `json:"dialogs,omitempty"`
	// Received, Sent and Lost count the RTP packets received from phones,
	// sent to them, and missing from their streams (concealed).
	Received *float64 `json:"received,omitempty"`
	Sent     *float64 `json:"sent,omitempty"`
	Lost     *float64 `json:"lost,omitempty"`
	// LossPct is Lost in percent of Received + Lost.
	LossPct *float64 `json:"loss_pct,omitempty"`
}

// phoneRTP turns the readings at both ends of the window into a PhoneRTP,
// or nil when the server exports none of its families.
func phoneRTP(before, after scrape) *PhoneRTP {
	p := &PhoneRTP{Dialogs: gauge(after, metricDialogs, 1), Received: delta(before, after, metricRTPIn),
		Sent: delta(before, after, metricRTPOut), Lost: delta(before, after, metricRTPLost)}
	if p.Received != nil && p.Lost != nil && *p.Received+*p.Lost > 0 {
		pct := round3(100 * *p.Lost / (*p.Received + *p.Lost))
		p.LossPct = &pct
	}
	if *p == (PhoneRTP{}) {
		return nil
	}
	return p
}

func (p *PhoneRTP) String() string {
	var parts []string
	add := func(v *float64, format string) {
		if v != nil {
			parts = append(parts, fmt.Sprintf(format, *v))
		}
	}
	add(p.Dialogs, "%.0f SIP dialogs")
	add(p.Received, "%.0f packets received from phones")
	add(p.Sent, "%.0f sent")
	add(p.Lost, "%.0f lost")
	add(p.LossPct, "(%.3f%%)")
	return strings.Join(parts, ", ")
}

// delta is a counter's growth between two readings, or nil if either
// lacks it.
func delta(before, after scrape, name string) *float64 {
	a, ok1 := before[name]
	b, ok2 := after[name]
	if !ok1 || !ok2 {
		return nil
	}
	d := b - a
	return &d
}

// gauge is a family's value in a reading, times scale, or nil.
func gauge(s scrape, name string, scale float64) *float64 {
	v, ok := s[name]
	if !ok {
		return nil
	}
	v = round3(v * scale)
	return &v
}

// Engine is what the server's media engine did during the measured window,
// from its /metrics at both ends. A nil field is a family the server does
// not export.
type Engine struct {
	// SkippedFrames counts the 20 ms frames the engine skipped because it
	// fell too far behind real time: 0 when it kept up.
	SkippedFrames *float64 `json:"skipped_frames,omitempty"`
	// Frames counts the frames computed; RoomTicks sums them over the rooms
	// that were awake, the engine's work.
	Frames    *float64 `json:"frames,omitempty"`
	RoomTicks *float64 `json:"room_ticks,omitempty"`
	// MeanLag is the mean of how late each frame was computed after its
	// due time; LastLag is that of the last frame before the window closed.
	MeanLag *float64 `json:"mean_tick_lag_ms,omitempty"`
	LastLag *float64 `json:"last_tick_lag_ms,omitempty"`
	// Rooms and AwakeRooms are the rooms open, and those computed every
	// frame, when the window closed.
	Rooms      *float64 `json:"rooms,omitempty"`
	AwakeRooms *float64 `json:"awake_rooms,omitempty"`
}

// scrape is one reading of /metrics: the value of each family that has a
// single unlabelled counter or gauge, and of each series with one label
// (under its series name).
type scrape map[string]float64

// readMetrics GETs u and parses it with the Prometheus text parser.
func readMetrics(ctx context.Context, hc *http.Client, u string) (scrape, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	// The text format: what every Prometheus server can ask for.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("GET %s answered %d", u, resp.StatusCode)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics reads the Prometheus text format.
func parseMetrics(r io.Reader) (scrape, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("load: /metrics: %w", err)
	}
	s := make(scrape)
	for name, f := range fams {
		ms := f.GetMetric()
		if len(ms) == 1 && len(ms[0].GetLabel()) == 0 {
			if v, ok := value(f.GetType(), ms[0]); ok {
				s[name] = v
			}
			continue
		}
		for _, m := range ms {
			if l := m.GetLabel(); len(l) == 1 {
				if v, ok := value(f.GetType(), m); ok {
					s[series(name, l[0].GetName(), l[0].GetValue())] = v
				}
			}
		}
	}
	return s, nil
}

func value(t dto.MetricType, m *dto.Metric) (float64, bool) {
	switch t {
	case dto.MetricType_COUNTER:
		return m.GetCounter().GetValue(), m.Counter != nil
	case dto.MetricType_GAUGE:
		return m.GetGauge().GetValue(), m.Gauge != nil
	case dto.MetricType_UNTYPED:
		return m.GetUntyped().GetValue(), m.Untyped != nil
	}
	return 0, false
}

// engine turns the readings at both ends of the window into an Engine, or
// nil when the server exports none of the engine's families.
func engine(before, after scrape) *Engine {
	e := &Engine{
		SkippedFrames: delta(before, after, metricSkipped), Frames: delta(before, after, metricFrames),
		RoomTicks: delta(before, after, metricRoomTicks), LastLag: gauge(after, metricLag, 1000),
		Rooms: gauge(after, metricRooms, 1), AwakeRooms: gauge(after, metricAwake, 1),
	}
	if sum, frames := delta(before, after, metricLagSum), e.Frames; sum != nil && frames != nil && *frames > 0 {
		mean := round3(*sum / *frames * 1000)
		e.MeanLag = &mean
	}
	if *e == (Engine{}) {
		return nil
	}
	return e
}
