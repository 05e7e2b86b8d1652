package graph

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

// callActions are the bound actions of a call. Each decodes its body (an
// empty body is allowed where Graph allows one) and answers with the
// documented status.
var callActions = map[string]func(a *api, w http.ResponseWriter, r *request) error{
	"keepalive": func(a *api, w http.ResponseWriter, r *request) error {
		if err := a.calls.KeepAlive(r.Context(), r.caller, r.PathValue("id")); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK) // no body: JSON clients treat an empty JSON 200 as an error
		return nil
	},
	"answer": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.AnswerRequest
		if err := a.decode(w, r, &req, true); err != nil {
			return err
		}
		return accepted(w, a.calls.Answer(r.Context(), r.caller, r.PathValue("id"), req))
	},
	"reject": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.RejectRequest
		if err := a.decode(w, r, &req, false); err != nil {
			return err
		}
		return accepted(w, a.calls.Reject(r.Context(), r.caller, r.PathValue("id"), req))
	},
	"redirect": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.RedirectRequest
		if err := a.decode(w, r, &req, true); err != nil {
			return err
		}
		return accepted(w, a.calls.Redirect(r.Context(), r.caller, r.PathValue("id"), req))
	},
	"transfer": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.TransferRequest
		if err := a.decode(w, r, &req, true); err != nil {
			return err
		}
		return accepted(w, a.calls.Transfer(r.Context(), r.caller, r.PathValue("id"), req))
	},
	"mute": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.MuteRequest
		if err := a.decode(w, r, &req, false); err != nil {
			return err
		}
		op, err := a.calls.SetSelfMute(r.Context(), r.caller, r.PathValue("id"), true, req.ClientContext)
		return writeOperation(w, r, http.StatusOK, op, err)
	},
	"unmute": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.UnmuteRequest
		if err := a.decode(w, r, &req, false); err != nil {
			return err
		}
		op, err := a.calls.SetSelfMute(r.Context(), r.caller, r.PathValue("id"), false, req.ClientContext)
		return writeOperation(w, r, http.StatusOK, op, err)
	},
	"changescreensharingrole": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.ChangeScreenSharingRoleRequest
		if err := a.decode(w, r, &req, true); err != nil {
			return err
		}
		return accepted(w, a.calls.ChangeScreenSharingRole(r.Context(), r.caller, r.PathValue("id"), req.Role))
	},
	"updaterecordingstatus": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.UpdateRecordingStatusRequest
		if err := a.decode(w, r, &req, true); err != nil {
			return err
		}
		op, err := a.calls.UpdateRecordingStatus(r.Context(), r.caller, r.PathValue("id"), req)
		return writeOperation(w, r, http.StatusOK, op, err)
	},
	"addlargegalleryview": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.AddLargeGalleryViewRequest
		if err := a.decode(w, r, &req, false); err != nil {
			return err
		}
		op, err := a.calls.AddLargeGalleryView(r.Context(), r.caller, r.PathValue("id"), req)
		return writeOperation(w, r, http.StatusAccepted, op, err)
	},
}

// mediaActions are the service-hosted media actions; each answers 200 with
// its operation.
var mediaActions = map[string]func(a *api, w http.ResponseWriter, r *request) error{
	"playprompt": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.PlayPromptRequest
		if err := a.decode(w, r, &req, true); err != nil {
			return err
		}
		op, err := a.calls.PlayPrompt(r.Context(), r.caller, r.PathValue("id"), req)
		return writeOperation(w, r, http.StatusOK, op, err)
	},
	"recordresponse": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.RecordResponseRequest
		if err := a.decode(w, r, &req, false); err != nil {
			return err
		}
		op, err := a.calls.RecordResponse(r.Context(), r.caller, r.PathValue("id"), req)
		return writeOperation(w, r, http.StatusOK, op, err)
	},
	"cancelmediaprocessing": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.CancelMediaProcessingRequest
		if err := a.decode(w, r, &req, false); err != nil {
			return err
		}
		op, err := a.calls.CancelMediaProcessing(r.Context(), r.caller, r.PathValue("id"), req)
		return writeOperation(w, r, http.StatusOK, op, err)
	},
	"subscribetotone": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.SubscribeToToneRequest
		if err := a.decode(w, r, &req, false); err != nil {
			return err
		}
		op, err := a.calls.SubscribeToTone(r.Context(), r.caller, r.PathValue("id"), req)
		return writeOperation(w, r, http.StatusOK, op, err)
	},
	"senddtmftones": func(a *api, w http.ResponseWriter, r *request) error {
		var req model.SendDtmfTonesRequest
		if err := a.decode(w, r, &req, true); err != nil {
			return err
		}
		op, err := a.calls.SendDtmfTones(r.Context(), r.caller, r.PathValue("id"), req)
		return writeOperation(w, r, http.StatusOK, op, err)
	},
}

// POST /communications/calls/{id}/{action}
func (a *api) callAction(w http.ResponseWriter, r *request) error {
	action := r.PathValue("action")
	if h, ok := callActions[action]; ok {
		return h(a, w, r)
	}
	if h, ok := mediaActions[action]; ok {
		return h(a, w, r)
	}
	return badRequest("", "Resource not found for the segment '%s'.", action)
}

// POST /communications/calls/{id}/participants/invite
func (a *api) invite(w http.ResponseWriter, r *request) error {
	var req model.InviteParticipantsRequest
	if err := a.decode(w, r, &req, true); err != nil {
		return err
	}
	op, err := a.calls.Invite(r.Context(), r.caller, r.PathValue("id"), req)
	return writeOperation(w, r, http.StatusOK, op, err)
}

// POST /communications/calls/{id}/participants/{pid}/{action}
func (a *api) participantAction(w http.ResponseWriter, r *request) error {
	id, pid := r.PathValue("id"), r.PathValue("pid")
	switch action := r.PathValue("action"); action {
	case "mute":
		var req model.MuteRequest
		if err := a.decode(w, r, &req, false); err != nil {
			return err
		}
		op, err := a.calls.MuteParticipant(r.Context(), r.caller, id, pid, req)
		return writeOperation(w, r, http.StatusOK, op, err)
	case "startholdmusic":
		var req model.StartHoldMusicRequest
		if err := a.decode(w, r, &req, false); err != nil {
			return err
		}
		op, err := a.calls.StartHoldMusic(r.Context(), r.caller, id, pid, req)
		return writeOperation(w, r, http.StatusAccepted, op, err)
	case "stopholdmusic":
		var req model.StopHoldMusicRequest
		if err := a.decode(w, r, &req, false); err != nil {
			return err
		}
		op, err := a.calls.StopHoldMusic(r.Context(), r.caller, id, pid, req)
		return writeOperation(w, r, http.StatusAccepted, op, err)
	default:
		return badRequest("", "Resource not found for the segment '%s'.", action)
	}
}

// DELETE /communications/calls/{id}/participants/{pid}
func (a *api) deleteParticipant(w http.ResponseWriter, r *request) error {
	if err := a.calls.RemoveParticipant(r.Context(), r.caller, r.PathValue("id"), r.PathValue("pid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// POST /communications/calls/logTeleconferenceDeviceQuality
func (a *api) logQuality(w http.ResponseWriter, r *request) error {
	if ua := r.Header.Get("User-Agent"); !strings.Contains(ua, "/") {
		return badRequest("User-Agent", "A User-Agent header of the form ApplicationName/Version is required.")
	}
	var req model.LogTeleconferenceDeviceQualityRequest
	if err := a.decode(w, r, &req, true); err != nil {
		return err
	}
	if err := a.calls.LogTeleconferenceDeviceQuality(r.Context(), r.caller, req.Quality); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// GET /communications/calls/{id}/audioRoutingGroups
func (a *api) listRoutingGroups(w http.ResponseWriter, r *request) error {
	q, err := parseQuery(r.URL.RawQuery, queryRules{selectable: routingGroupProps, paging: true})
	if err != nil {
		return err
	}
	groups, err := a.calls.AudioRoutingGroups(r.caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	items := make([]any, len(groups))
	for i := range groups {
		items[i] = groups[i]
	}
	return writeCollection(w, r, q, r.base+"/$metadata#communications/calls('"+r.PathValue("id")+"')/audioRoutingGroups", items)
}

// GET /communications/calls/{id}/audioRoutingGroups/{gid}
func (a *api) getRoutingGroup(w http.ResponseWriter, r *request) error {
	q, err := parseQuery(r.URL.RawQuery, entityRules(routingGroupProps))
	if err != nil {
		return err
	}
	g, err := a.calls.AudioRoutingGroup(r.caller, r.PathValue("id"), r.PathValue("gid"))
	if err != nil {
		return err
	}
	return writeEntity(w, http.StatusOK, r.base+"/$metadata#communications/calls('"+r.PathValue("id")+"')/audioRoutingGroups/$entity", g, q.selects)
}

// POST /communications/calls/{id}/audioRoutingGroups (200, as documented)
func (a *api) createRoutingGroup(w http.ResponseWriter, r *request) error {
	var g model.AudioRoutingGroup
	if err := a.decode(w, r, &g, true); err != nil {
		return err
	}
	g, err := a.calls.CreateAudioRoutingGroup(r.Context(), r.caller, r.PathValue("id"), g)
	if err != nil {
		return err
	}
	return writeEntity(w, http.StatusOK, r.base+"/$metadata#communications/calls('"+r.PathValue("id")+"')/audioRoutingGroups/$entity", g, nil)
}

// PATCH /communications/calls/{id}/audioRoutingGroups/{gid}
func (a *api) updateRoutingGroup(w http.ResponseWriter, r *request) error {
	body, err := readBody(w, r.Request, a.maxBody)
	if err != nil {
		return err
	}
	var patch model.AudioRoutingGroup
	if err := decodeJSON(body, &patch, true); err != nil {
		return err
	}
	var present map[string]json.RawMessage
	json.Unmarshal(body, &present)
	has := func(k string) bool {
		for p := range present {
			if strings.EqualFold(p, k) {
				return true
			}
		}
		return false
	}
	g, err := a.calls.UpdateAudioRoutingGroup(r.Context(), r.caller, r.PathValue("id"), r.PathValue("gid"), patch, has)
	if err != nil {
		return err
	}
	return writeEntity(w, http.StatusOK, r.base+"/$metadata#communications/calls('"+r.PathValue("id")+"')/audioRoutingGroups/$entity", g, nil)
}

// DELETE /communications/calls/{id}/audioRoutingGroups/{gid}
func (a *api) deleteRoutingGroup(w http.ResponseWriter, r *request) error {
	if err := a.calls.DeleteAudioRoutingGroup(r.Context(), r.caller, r.PathValue("id"), r.PathValue("gid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// GET /communications/calls/{id}/contentSharingSessions
func (a *api) listShares(w http.ResponseWriter, r *request) error {
	q, err := parseQuery(r.URL.RawQuery, queryRules{selectable: shareProps, paging: true})
	if err != nil {
		return err
	}
	shares, err := a.calls.ContentSharingSessions(r.caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	items := make([]any, len(shares))
	for i := range shares {
		items[i] = shares[i]
	}
	return writeCollection(w, r, q, r.base+"/$metadata#communications/calls('"+r.PathValue("id")+"')/contentSharingSessions", items)
}

// GET /communications/calls/{id}/contentSharingSessions/{sid}
func (a *api) getShare(w http.ResponseWriter, r *request) error {
	q, err := parseQuery(r.URL.RawQuery, entityRules(shareProps))
	if err != nil {
		return err
	}
	shares, err := a.calls.ContentSharingSessions(r.caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	for _, s := range shares {
		if strings.EqualFold(s.ID, r.PathValue("sid")) {
			return writeEntity(w, http.StatusOK, r.base+"/$metadata#communications/calls('"+r.PathValue("id")+"')/contentSharingSessions/$entity", s, q.selects)
		}
	}
	return calls.ErrNoSuchItem
}

// decode reads and decodes a request body into v.
func (a *api) decode(w http.ResponseWriter, r *request, v any, required bool) error {
	body, err := readBody(w, r.Request, a.maxBody)
	if err != nil {
		return err
	}
	return decodeJSON(body, v, required)
}

// accepted answers 202 with no body when err is nil.
func accepted(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// writeOperation answers with an operation, its @odata.context and the
// Location of its resource, when err is nil.
func writeOperation(w http.ResponseWriter, r *request, status int, op model.CommsOperation, err error) error {
	if err != nil {
		return err
	}
	w.Header().Set("Location", r.base+"/communications/calls/"+r.PathValue("id")+"/operations/"+op.ID)
	typ := strings.TrimPrefix(op.ODataType, "#microsoft.graph.")
	return writeEntity(w, status, r.base+"/$metadata#"+typ, op, nil)
}
