// Package load is the engine of the sbload load generator: closed-loop and
// fixed-rate HTTP load against a Switchboard server (or the bare baseline),
// a callback receiver for the create→established measurement, runs that
// hold calls open and measure what they cost the server when nothing
// happens (idle) or while each plays a prompt and records (media), calls
// placed at a fixed rate to a SIP peer and held with media (sip-out),
// app-hosted calls with a bot on each call's media stream echoing its
// audio, against the same calls service-hosted (stream), the time a
// cluster takes to bring a killed node's calls back (failover),
// latency statistics, and the one-line JSON results that bench/run.sh
// tabulates. Requests may be spread over several servers (the nodes of a
// cluster), round-robin.
//
// It talks to the server only over HTTP and WebSocket, as a bot would, and
// reads only /proc (the processes' CPU and memory, the kernel's UDP
// counters) and the server's Prometheus /metrics besides (bench/run.sh
// starts the SIP peer and the database). It runs no program but the one its caller names for
// counters at the ends of the window, and kills no process but the one
// failover mode is given. It must not import any of Switchboard's internal
// packages: a benchmark that shared code with the server could not notice
// when that code gets slower. Apart from the Prometheus text parser and
// the WebSocket client (github.com/coder/websocket, as the server's), it
// uses the standard library only.
package load
