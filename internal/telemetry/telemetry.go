package telemetry

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config configures New.
type Config struct {
	// Version is reported as switchboard_build_info's version label.
	Version string
	// Sources are read at each scrape.
	Sources Sources
}

// Sources are the functions the gauges read at scrape time. Each is called
// at most once per scrape, from the scraping goroutine; a nil one leaves
// its families out.
type Sources struct {
	// CallsByState returns the number of calls not yet ended in each state,
	// keyed by Graph's spelling of the state. Every state the server knows
	// should be present, with 0 when no call is in it, so that its series
	// does not vanish.
	CallsByState func() map[string]int
	// OutboxDepth returns the number of notifications neither delivered
	// nor given up.
	OutboxDepth func() int
	// Media returns the media engine's figures.
	Media func() MediaStats
	// SIP returns the SIP server's figures; nil when SIP is off.
	SIP func() SIPStats
}

// SIPStats is what the SIP server reports at a scrape.
type SIPStats struct {
	Dialogs int // calls with a phone in progress: ringing or connected
	// RTP packets received from and sent to phones, packets lost on the
	// way in (concealed with silence), and RFC 4733 key presses received,
	// since the server started.
	RTPReceived, RTPSent, RTPLost, RTPKeys uint64
}

// MediaStats is what the media engine reports at a scrape.
type MediaStats struct {
	Rooms      int // rooms open in the engine
	AwakeRooms int // rooms computed every frame; the others sleep
	Legs       int // members of those rooms
	// Frames counts the 20 ms media frames elapsed since the engine
	// started, RoomTicks the frames computed summed over the awake rooms
	// (the engine's work), and SkippedFrames the frames it skipped because
	// it fell too far behind real time.
	Frames, RoomTicks, SkippedFrames uint64
	// Lag is how late the last frame was computed after its due time;
	// LagSum is Lag summed over every frame computed.
	Lag, LagSum time.Duration
}

// Metrics holds every metric family. Create it with New; its methods are
// safe for concurrent use, and a nil *Metrics records nothing.
type Metrics struct {
	reg *prometheus.Registry

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	callsCreated  *prometheus.CounterVec
	callsAnswered *prometheus.CounterVec
	callsEnded    *prometheus.CounterVec

	delivered, retried, givenUp prometheus.Counter
	deliveryLatency             prometheus.Histogram

	commitLatency, batchSize prometheus.Histogram

	streamDropped   *prometheus.CounterVec
	streamConnected prometheus.Gauge
}

// Label values shared by several families.
const (
	// OtherRoute is the route label of a request that no route serves, so
	// that scanning random paths adds no series.
	OtherRoute = "other"
	// OtherMethod is the method label of a method no route uses.
	OtherMethod = "other"
)

// New registers every family, the Go runtime and the process collectors
// on a registry of its own (never the global one).
func New(cfg Config) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_http_requests_total",
			Help: "HTTP requests served, by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_http_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its handler, by route template and method.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		callsCreated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_calls_created_total",
			Help: "Calls committed for the first time, by direction (outgoing: created by an application; incoming: offered to one).",
		}, []string{"direction"}),
		callsAnswered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_calls_answered_total",
			Help: "Calls that reached established for the first time, by direction.",
		}, []string{"direction"}),
		callsEnded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_calls_ended_total",
			Help: "Calls that reached terminated, by the code and subcode of their resultInfo (docs/result-codes.md).",
		}, []string{"code", "subcode"}),
		delivered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_notifications_delivered_total",
			Help: "Notification deliveries a bot acknowledged with a 2xx (replays included).",
		}),
		retried: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_notifications_retried_total",
			Help: "Failed notification attempts that will be retried.",
		}),
		givenUp: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "switchboard_notifications_given_up_total",
			Help: "Notifications given up after their last attempt, or refused by the callback URL policy.",
		}),
		deliveryLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_notifications_delivery_seconds",
			Help:    "Time from a notification's commit to the bot's acknowledgement, retries included (replays are not observed).",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
		commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_store_commit_seconds",
			Help:    "Duration of one store write transaction (a batch of write requests, fsync included), from BEGIN to COMMIT.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "switchboard_store_batch_size",
			Help:    "Write requests (commits, delivery results, ...) carried by one store transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		streamDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_media_stream_dropped_frames_total",
			Help: "App-hosted media stream audio frames dropped: toward a bot too slow to take them (toBot), or from a bot beyond the 60 s its voice may queue (fromBot).",
		}, []string{"direction"}),
		streamConnected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_media_stream_connections",
			Help: "Bots connected to their calls' app-hosted media streams.",
		}),
	}
	build := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "switchboard_build_info",
		Help: "Always 1; the version label is the server's version.",
	}, []string{"version"})
	build.WithLabelValues(cfg.Version).Set(1)
	reg.MustRegister(
		m.httpRequests, m.httpDuration,
		m.callsCreated, m.callsAnswered, m.callsEnded,
		m.delivered, m.retried, m.givenUp, m.deliveryLatency,
		m.commitLatency, m.batchSize,
		m.streamDropped, m.streamConnected,
		build,
		newSourceCollector(cfg.Sources),
		// The scheduler's latencies show a starved process (late media
		// ticks) before anything else does.
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(collectors.MetricsGC, collectors.MetricsScheduler)),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Handler serves the metrics in the Prometheus text format (or OpenMetrics
// when the scraper asks for it).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

// Dropped counts app-hosted media stream frames dropped in a direction
// (mediastream.Metrics).
func (m *Metrics) Dropped(direction string, frames int) {
	if m == nil {
		return
	}
	m.streamDropped.WithLabelValues(direction).Add(float64(frames))
}

// Connected moves the number of bots connected to media streams.
func (m *Metrics) Connected(delta int) {
	if m == nil {
		return
	}
	m.streamConnected.Add(float64(delta))
}

// CallCreated counts a call committed for the first time.
func (m *Metrics) CallCreated(direction string) {
	if m == nil {
		return
	}
	m.callsCreated.WithLabelValues(direction).Inc()
}

// CallAnswered counts a call that reached established for the first time.
func (m *Metrics) CallAnswered(direction string) {
	if m == nil {
		return
	}
	m.callsAnswered.WithLabelValues(direction).Inc()
}

// CallEnded counts a call that reached terminated with this resultInfo.
func (m *Metrics) CallEnded(code, subcode int) {
	if m == nil {
		return
	}
	m.callsEnded.WithLabelValues(strconv.Itoa(code), strconv.Itoa(subcode)).Inc()
}

// DeliveryResult counts one attempt to deliver a notification: delivered,
// given up, or failed and to be retried. For a delivered one, latency is
// the time from its commit to the acknowledgement; a negative latency
// (a replay's, whose commit is long past) is not observed.
func (m *Metrics) DeliveryResult(delivered, gaveUp bool, latency time.Duration) {
	if m == nil {
		return
	}
	switch {
	case delivered:
		m.delivered.Inc()
		if latency >= 0 {
			m.deliveryLatency.Observe(latency.Seconds())
		}
	case gaveUp:
		m.givenUp.Inc()
	default:
		m.retried.Inc()
	}
}

// StoreBatch records one store write transaction: how many requests it
// carried and how long it took.
func (m *Metrics) StoreBatch(requests int, took time.Duration) {
	if m == nil {
		return
	}
	m.batchSize.Observe(float64(requests))
	m.commitLatency.Observe(took.Seconds())
}

// sourceCollector turns Sources into gauges and counters at scrape time.
type sourceCollector struct {
	src Sources

	calls, outbox                                  *prometheus.Desc
	rooms, awake, legs, frames, roomTicks, skipped *prometheus.Desc
	lag, lagSum                                    *prometheus.Desc
	dialogs, rtpIn, rtpOut, rtpLost, rtpKeys       *prometheus.Desc
}

func newSourceCollector(src Sources) *sourceCollector {
	desc := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &sourceCollector{
		src:       src,
		calls:     desc("switchboard_calls", "Calls not yet ended, by state.", "state"),
		outbox:    desc("switchboard_notifications_outbox_depth", "Notifications committed and neither delivered nor given up."),
		rooms:     desc("switchboard_media_rooms", "Rooms open in the media engine (one per conversation with service-hosted media)."),
		awake:     desc("switchboard_media_awake_rooms", "Rooms the media engine computes every frame; the others sleep until something plays, records or speaks."),
		legs:      desc("switchboard_media_legs", "Members of the media engine's rooms (applications' legs and the people they hear)."),
		frames:    desc("switchboard_media_frames_total", "20 ms media frames elapsed since the engine started."),
		roomTicks: desc("switchboard_media_room_ticks_total", "Frames computed, summed over the awake rooms: the engine's work."),
		skipped:   desc("switchboard_media_skipped_frames_total", "20 ms frames the media engine skipped because it fell too far behind real time."),
		lag:       desc("switchboard_media_tick_lag_seconds", "How late the media engine computed its last frame, after the frame's due time."),
		lagSum:    desc("switchboard_media_tick_lag_seconds_total", "Tick lag summed over every frame computed; divided by the rate of frames it gives the mean lag."),
		dialogs:   desc("switchboard_sip_dialogs", "Calls with a SIP phone in progress, ringing or connected."),
		rtpIn:     desc("switchboard_sip_rtp_packets_received_total", "RTP packets received from phones."),
		rtpOut:    desc("switchboard_sip_rtp_packets_sent_total", "RTP packets sent to phones."),
		rtpLost:   desc("switchboard_sip_rtp_packets_lost_total", "RTP packets from phones that never came, concealed with silence."),
		rtpKeys:   desc("switchboard_sip_rtp_keys_total", "RFC 4733 key presses received from phones."),
	}
}

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	if c.src.CallsByState != nil {
		ch <- c.calls
	}
	if c.src.OutboxDepth != nil {
		ch <- c.outbox
	}
	if c.src.Media != nil {
		for _, d := range []*prometheus.Desc{c.rooms, c.awake, c.legs, c.frames, c.roomTicks, c.skipped, c.lag, c.lagSum} {
			ch <- d
		}
	}
	if c.src.SIP != nil {
		for _, d := range []*prometheus.Desc{c.dialogs, c.rtpIn, c.rtpOut, c.rtpLost, c.rtpKeys} {
			ch <- d
		}
	}
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src.CallsByState != nil {
		for state, n := range c.src.CallsByState() {
			ch <- prometheus.MustNewConstMetric(c.calls, prometheus.GaugeValue, float64(n), state)
		}
	}
	if c.src.OutboxDepth != nil {
		ch <- prometheus.MustNewConstMetric(c.outbox, prometheus.GaugeValue, float64(c.src.OutboxDepth()))
	}
	if c.src.Media != nil {
		s := c.src.Media()
		gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
		counter := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
		}
		gauge(c.rooms, float64(s.Rooms))
		gauge(c.awake, float64(s.AwakeRooms))
		gauge(c.legs, float64(s.Legs))
		counter(c.frames, float64(s.Frames))
		counter(c.roomTicks, float64(s.RoomTicks))
		counter(c.skipped, float64(s.SkippedFrames))
		gauge(c.lag, s.Lag.Seconds())
		counter(c.lagSum, s.LagSum.Seconds())
	}
	if c.src.SIP != nil {
		s := c.src.SIP()
		ch <- prometheus.MustNewConstMetric(c.dialogs, prometheus.GaugeValue, float64(s.Dialogs))
		for d, v := range map[*prometheus.Desc]uint64{c.rtpIn: s.RTPReceived, c.rtpOut: s.RTPSent, c.rtpLost: s.RTPLost, c.rtpKeys: s.RTPKeys} {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
		}
	}
}
