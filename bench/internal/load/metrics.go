package load

import (
	"context"
	"fmt"
	"io"
	"net/http"

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
)

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
// single unlabelled counter or gauge.
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
		if ms := f.GetMetric(); len(ms) == 1 && len(ms[0].GetLabel()) == 0 {
			if v, ok := value(f.GetType(), ms[0]); ok {
				s[name] = v
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
	delta := func(name string) *float64 {
		a, ok1 := before[name]
		b, ok2 := after[name]
		if !ok1 || !ok2 {
			return nil
		}
		d := b - a
		return &d
	}
	at := func(name string, scale float64) *float64 {
		v, ok := after[name]
		if !ok {
			return nil
		}
		v = round3(v * scale)
		return &v
	}
	e := &Engine{
		SkippedFrames: delta(metricSkipped), Frames: delta(metricFrames), RoomTicks: delta(metricRoomTicks),
		LastLag: at(metricLag, 1000), Rooms: at(metricRooms, 1), AwakeRooms: at(metricAwake, 1),
	}
	if sum, frames := delta(metricLagSum), e.Frames; sum != nil && frames != nil && *frames > 0 {
		mean := round3(*sum / *frames * 1000)
		e.MeanLag = &mean
	}
	if *e == (Engine{}) {
		return nil
	}
	return e
}
