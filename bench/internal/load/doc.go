// Package load is the engine of the sbload load generator: closed-loop and
// fixed-rate HTTP load against a Switchboard server (or the bare baseline),
// a callback receiver for the create→established measurement, runs that
// hold calls open and measure what they cost the server when nothing
// happens (idle) or while each plays a prompt and records (media), calls
// placed at a fixed rate to a SIP peer and held with media (sip-out),
// latency statistics, and the one-line JSON results that bench/run.sh
// tabulates.
//
// It talks to the server only over HTTP, as a bot would, and reads only
// /proc (the processes' CPU and memory, the kernel's UDP counters) and the
// server's Prometheus /metrics besides (bench/run.sh starts the SIP peer);
// it must not import any of Switchboard's internal packages: a benchmark
// that shared code with the server could not notice when that code gets
// slower. Apart from the Prometheus text parser, it uses the standard
// library only.
package load
