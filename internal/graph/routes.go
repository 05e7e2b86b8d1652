package graph

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// routes is the Graph route table, in net/http.ServeMux syntax over paths
// in NormalizePath's form. NewHandler serves it; RouteLabel reads its
// patterns only, from a zero api whose handlers it never calls.
func (a *api) routes() []route {
	const c = "/{version}/communications/calls"
	return []route{
		{"POST", c, a.createCall},
		{"GET", c, a.listCalls},
		{"POST", c + "/logteleconferencedevicequality", a.logQuality},
		{"GET", c + "/{id}", a.getCall},
		{"DELETE", c + "/{id}", a.deleteCall},
		{"POST", c + "/{id}/{action}", a.callAction},
		{"GET", c + "/{id}/participants", a.listParticipants},
		{"GET", c + "/{id}/participants/{pid}", a.getParticipant},
		{"DELETE", c + "/{id}/participants/{pid}", a.deleteParticipant},
		{"POST", c + "/{id}/participants/invite", a.invite},
		{"POST", c + "/{id}/participants/{pid}/{action}", a.participantAction},
		{"GET", c + "/{id}/operations", a.listOperations},
		{"GET", c + "/{id}/operations/{oid}", a.getOperation},
		{"GET", c + "/{id}/audioroutinggroups", a.listRoutingGroups},
		{"POST", c + "/{id}/audioroutinggroups", a.createRoutingGroup},
		{"GET", c + "/{id}/audioroutinggroups/{gid}", a.getRoutingGroup},
		{"PATCH", c + "/{id}/audioroutinggroups/{gid}", a.updateRoutingGroup},
		{"DELETE", c + "/{id}/audioroutinggroups/{gid}", a.deleteRoutingGroup},
		{"GET", c + "/{id}/contentsharingsessions", a.listShares},
		{"GET", c + "/{id}/contentsharingsessions/{sid}", a.getShare},
	}
}

// spelled maps the lower-case literal segments of the routes, and the
// actions, to Graph's spelling, for labels.
var spelled = func() map[string]string {
	m := make(map[string]string)
	for _, s := range []string{
		"logTeleconferenceDeviceQuality", "audioRoutingGroups", "contentSharingSessions",
		// call actions (callActions, mediaActions)
		"keepAlive", "answer", "reject", "redirect", "transfer", "mute", "unmute",
		"changeScreenSharingRole", "updateRecordingStatus", "addLargeGalleryView",
		"playPrompt", "recordResponse", "cancelMediaProcessing", "subscribeToTone", "sendDtmfTones",
		// participant actions (participantAction)
		"startHoldMusic", "stopHoldMusic",
	} {
		m[strings.ToLower(s)] = s
	}
	return m
}()

const actionSegment = "/{action}"

// routeLabels is the route table's patterns on a mux of their own, with
// the label of each.
var routeLabels = sync.OnceValues(func() (*http.ServeMux, map[string]string) {
	mux := http.NewServeMux()
	labels := make(map[string]string)
	noop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	for _, rt := range (&api{}).routes() {
		p := rt.method + " " + rt.pattern
		mux.Handle(p, noop)
		segs := strings.Split(strings.TrimPrefix(rt.pattern, "/{version}"), "/")
		for i, s := range segs {
			if sp, ok := spelled[s]; ok {
				segs[i] = sp
			}
		}
		labels[p] = strings.Join(segs, "/")
	}
	return mux, labels
})

// RouteLabel returns the template of the Graph route that serves method
// and path, for the route label of the HTTP metrics, such as
// "/communications/calls/{id}/playPrompt": without the version, with the
// legacy /app/calls alias folded into /communications/calls, literal
// segments in Graph's spelling whatever the request's case, and each known
// action of a call or participant as its own template (an unknown one
// stays "{action}"). It returns "" when no route serves the request, a
// known path with another method included, so that the label has no more
// values than the routes.
func RouteLabel(method, path string) string {
	p := NormalizePath(path)
	mux, labels := routeLabels()
	_, pattern := mux.Handler(&http.Request{Method: method, URL: &url.URL{Path: p}})
	label, ok := labels[pattern]
	if !ok {
		return ""
	}
	if strings.HasSuffix(label, actionSegment) {
		if sp, ok := spelled[lastSegment(p)]; ok {
			label = label[:len(label)-len(actionSegment)+1] + sp
		}
	}
	return label
}
