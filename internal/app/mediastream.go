package app

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchboard-dev/switchboard/internal/graph"
	"github.com/switchboard-dev/switchboard/internal/mediastream"
)

// mediaPathPrefix and mediaPathSuffix frame a call's media endpoint,
// /switchboard/v1/calls/{id}/media (docs/media-streams.md).
const (
	mediaPathPrefix = "/switchboard/v1/calls/"
	mediaPathSuffix = "/media"
)

// mediaCallID returns the call id of a media endpoint's path.
func mediaCallID(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, mediaPathPrefix)
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, mediaPathSuffix)
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// serveMedia is a bot's WebSocket connection to its call's app-hosted
// media stream. It is outside the request limits: a stream is one long
// request, and would hold a slot of the in-flight limit for its life.
// On a cluster it is forwarded to the node that owns the call.
func (a *App) serveMedia(w http.ResponseWriter, r *http.Request, id string, fwd *graph.Forwarding) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		graph.WriteError(w, r, a.log, graph.NewError(http.StatusMethodNotAllowed, "MethodNotAllowed", "A call's media stream is a WebSocket: GET with Upgrade: websocket."))
		return
	}
	p, err := a.auth.Authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", a.auth.WWWAuthenticate(err))
		graph.WriteError(w, r, a.log, err)
		return
	}
	if fwd.ToOwner(w, r, id) {
		return
	}
	// A stream outlives the listener's read and write timeouts.
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(time.Time{})
	rc.SetWriteDeadline(time.Time{})
	err = a.streams.ServeMedia(w, r, p, id)
	switch {
	case errors.Is(err, mediastream.ErrNoStream):
		graph.WriteError(w, r, a.log, graph.NewError(http.StatusNotFound, "itemNotFound",
			"The call has no media stream here: it must be your application's, created or answered with appHostedMediaConfig, and established."))
	case errors.Is(err, mediastream.ErrConnectsOut):
		graph.WriteError(w, r, a.log, graph.NewError(http.StatusConflict, "Conflict",
			"This call's media stream connects to the URL in its blob; it takes no connections."))
	case mediastream.IsForbidden(err):
		graph.WriteError(w, r, a.log, graph.NewError(http.StatusForbidden, "Forbidden", "A call's media stream needs the application permission Calls.AccessMedia.All."))
	case err != nil:
		graph.WriteError(w, r, a.log, err)
	}
}

// newStreams is the media stream manager of the app-hosted calls.
func (a *App) newStreams(client *http.Client, checkURL func(u *url.URL) error) *mediastream.Manager {
	cfg := mediastream.Config{Engine: a.engine, Token: a.auth.CallbackToken, Client: client, CheckURL: checkURL,
		Dev: a.cfg.Dev, Clock: a.wallClock, Logger: a.log}
	if a.metrics != nil {
		cfg.Metrics = a.metrics
	}
	return mediastream.New(cfg)
}
