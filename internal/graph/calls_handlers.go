package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
)

var (
	callProps        = jsonProps(reflect.TypeOf(model.Call{}))
	participantProps = jsonProps(reflect.TypeOf(model.Participant{}))
	operationProps   = jsonProps(reflect.TypeOf(model.CommsOperation{}))

	callEntityRules = queryRules{selectable: callProps, expandable: map[string]bool{"participants": true, "operations": true}}
	callListRules   = queryRules{
		selectable: callProps, paging: true,
		filterable: map[string]filterProp{
			"state":     {canon: func(s string) (string, error) { v, err := model.ParseCallState(s); return string(v), err }},
			"direction": {canon: func(s string) (string, error) { v, err := model.ParseCallDirection(s); return string(v), err }},
		},
	}
	participantListRules = queryRules{selectable: participantProps, paging: true, filterable: map[string]filterProp{
		"id": {}, "ismuted": {boolean: true}, "isinlobby": {boolean: true},
	}}
	routingGroupProps = jsonProps(reflect.TypeOf(model.AudioRoutingGroup{}))
	shareProps        = jsonProps(reflect.TypeOf(model.ContentSharingSession{}))
	entityRules       = func(props map[string]string) queryRules { return queryRules{selectable: props} }
)

// jsonProps maps the lower-case JSON names of a struct's properties to
// their spelling, for $select.
func jsonProps(t reflect.Type) map[string]string {
	m := make(map[string]string)
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" && !strings.HasPrefix(name, "@") {
			m[strings.ToLower(name)] = name
		}
	}
	return m
}

// POST /communications/calls
func (a *api) createCall(w http.ResponseWriter, r *request) error {
	body, err := readBody(w, r.Request, a.maxBody)
	if err != nil {
		return err
	}
	var spec model.Call
	if err := decodeJSON(body, &spec, true); err != nil {
		return err
	}
	leg, err := a.calls.Create(r.Context(), r.caller, spec)
	var elsewhere *calls.ElsewhereError
	if errors.As(err, &elsewhere) && a.fwd.WithBody(w, r.Request, body, elsewhere.Node, "meeting") {
		return nil // a meeting another node holds: joined there
	}
	if err != nil {
		return err
	}
	res := r.callResource(leg)
	w.Header().Set("Location", r.base+"/communications/calls/"+leg.ID)
	return writeEntity(w, http.StatusCreated, r.base+"/$metadata#communications/calls/$entity", res, nil)
}

// GET /communications/calls/{id}
func (a *api) getCall(w http.ResponseWriter, r *request) error {
	q, err := parseQuery(r.URL.RawQuery, callEntityRules)
	if err != nil {
		return err
	}
	leg, err := a.calls.Get(r.Context(), r.caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	plain := len(q.selects) == 0 && len(q.expand) == 0
	key := bodyKey{leg: leg, base: r.base}
	if plain {
		if b, ok := a.bodies.get(key); ok {
			return writeBody(w, http.StatusOK, b)
		}
	}
	res := r.callResource(leg)
	if plain {
		b, err := entityBody(r.base+"/$metadata#communications/calls/$entity", res, nil)
		if err != nil {
			return err
		}
		a.bodies.put(key, b)
		return writeBody(w, http.StatusOK, b)
	}
	var expanded []string // navigation properties present even when empty
	if q.expands("participants") {
		if res.Participants, err = a.calls.Participants(r.Context(), r.caller, leg.ID); err != nil {
			return err
		}
		expanded = append(expanded, "participants")
	}
	if q.expands("operations") {
		res.Operations = leg.Operations
		expanded = append(expanded, "operations")
	}
	return writeEntity(w, http.StatusOK, r.base+"/$metadata#communications/calls/$entity", res, q.selects, expanded...)
}

// GET /communications/calls: the application's calls that have not ended.
func (a *api) listCalls(w http.ResponseWriter, r *request) error {
	q, err := parseQuery(r.URL.RawQuery, callListRules)
	if err != nil {
		return err
	}
	const odataContext = "/$metadata#communications/calls"
	if q.filter == nil {
		// Without a filter the page is known before any call is rendered:
		// only its calls are, and the cost is the page's.
		limit := MaxPageSize
		if q.top >= 0 {
			limit = min(q.top, MaxPageSize)
		}
		legs, total := a.calls.ListPage(r.Context(), r.caller, q.skip, limit)
		items := make([][]byte, 0, len(legs))
		for _, leg := range legs {
			b, err := a.callItem(r, leg, q.selects)
			if err != nil {
				return err
			}
			items = append(items, b)
		}
		_, _, next := q.page(total)
		return writePage(w, r, q, r.base+odataContext, items, total, next)
	}
	var items []any
	for _, leg := range a.calls.List(r.Context(), r.caller) {
		res := r.callResource(leg)
		if !q.filter(func(p string) string {
			switch p {
			case "state":
				return string(res.State)
			case "direction":
				return string(res.Direction)
			}
			return ""
		}) {
			continue
		}
		items = append(items, res)
	}
	return writeCollection(w, r, q, r.base+odataContext, items)
}

// callItem encodes a call as an entry of a collection. Without $select it
// is the plain GET's body without its @odata.context, shared with GET
// through the body cache.
func (a *api) callItem(r *request, leg *calls.Call, selects []string) ([]byte, error) {
	if len(selects) > 0 {
		return encodeEntity(r.callResource(leg), selects)
	}
	ikey := bodyKey{leg: leg, base: r.base, item: true}
	if b, ok := a.bodies.get(ikey); ok {
		return b, nil
	}
	odataContext := r.base + "/$metadata#communications/calls/$entity"
	key := bodyKey{leg: leg, base: r.base}
	b, ok := a.bodies.get(key)
	if !ok {
		var err error
		if b, err = entityBody(odataContext, r.callResource(leg), nil); err != nil {
			return nil, err
		}
		a.bodies.put(key, b)
	}
	item := entityItem(b, odataContext)
	a.bodies.put(ikey, item)
	return item, nil
}

// DELETE /communications/calls/{id}
func (a *api) deleteCall(w http.ResponseWriter, r *request) error {
	if err := a.calls.HangUp(r.Context(), r.caller, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// GET /communications/calls/{id}/participants
func (a *api) listParticipants(w http.ResponseWriter, r *request) error {
	q, err := parseQuery(r.URL.RawQuery, participantListRules)
	if err != nil {
		return err
	}
	roster, err := a.calls.Participants(r.Context(), r.caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	items := make([]any, 0, len(roster))
	for _, p := range roster {
		if q.filter != nil && !q.filter(func(prop string) string {
			switch prop {
			case "id":
				return p.ID
			case "ismuted":
				return boolString(p.IsMuted)
			case "isinlobby":
				return boolString(p.IsInLobby)
			}
			return ""
		}) {
			continue
		}
		items = append(items, p)
	}
	return writeCollection(w, r, q, r.base+"/$metadata#communications/calls('"+r.PathValue("id")+"')/participants", items)
}

// GET /communications/calls/{id}/participants/{pid}
func (a *api) getParticipant(w http.ResponseWriter, r *request) error {
	q, err := parseQuery(r.URL.RawQuery, entityRules(participantProps))
	if err != nil {
		return err
	}
	p, err := a.findParticipant(r)
	if err != nil {
		return err
	}
	return writeEntity(w, http.StatusOK, r.base+"/$metadata#communications/calls('"+r.PathValue("id")+"')/participants/$entity", p, q.selects)
}

func (a *api) findParticipant(r *request) (model.Participant, error) {
	roster, err := a.calls.Participants(r.Context(), r.caller, r.PathValue("id"))
	if err != nil {
		return model.Participant{}, err
	}
	for _, p := range roster {
		if strings.EqualFold(p.ID, r.PathValue("pid")) {
			return p, nil
		}
	}
	return model.Participant{}, calls.ErrNoSuchItem
}

func boolString(b *bool) string {
	if b != nil && *b {
		return "true"
	}
	return "false"
}

// GET /communications/calls/{id}/operations
func (a *api) listOperations(w http.ResponseWriter, r *request) error {
	q, err := parseQuery(r.URL.RawQuery, queryRules{selectable: operationProps, paging: true})
	if err != nil {
		return err
	}
	leg, err := a.calls.Get(r.Context(), r.caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	items := make([]any, len(leg.Operations))
	for i := range leg.Operations {
		items[i] = leg.Operations[i]
	}
	return writeCollection(w, r, q, r.base+"/$metadata#communications/calls('"+leg.ID+"')/operations", items)
}

// GET /communications/calls/{id}/operations/{oid}
func (a *api) getOperation(w http.ResponseWriter, r *request) error {
	q, err := parseQuery(r.URL.RawQuery, entityRules(operationProps))
	if err != nil {
		return err
	}
	op, err := a.calls.Operation(r.caller, r.PathValue("id"), r.PathValue("oid"))
	if err != nil {
		return err
	}
	return writeEntity(w, http.StatusOK, r.base+"/$metadata#communications/calls('"+r.PathValue("id")+"')/operations/$entity", op, q.selects)
}

// callResource renders a leg for this request's API version.
func (r *request) callResource(leg *calls.Call) model.Call {
	res := leg.Resource()
	if r.version == "v1.0" {
		res.StripBeta()
	}
	return res
}

// writeEntity writes v as a JSON object with @odata.context first, keeping
// only the selected properties when selects is set.
// Each property named in empty is written as [] when v leaves it out.
func writeEntity(w http.ResponseWriter, status int, odataContext string, v any, selects []string, empty ...string) error {
	b, err := entityBody(odataContext, v, selects, empty...)
	if err != nil {
		return err
	}
	return writeBody(w, status, b)
}

// entityBody encodes v as writeEntity writes it.
func entityBody(odataContext string, v any, selects []string, empty ...string) ([]byte, error) {
	b, err := encodeEntity(v, selects, empty...)
	if err != nil {
		return nil, err
	}
	ctx, _ := json.Marshal(odataContext)
	var out bytes.Buffer
	out.Grow(len(b) + len(ctx) + 20)
	out.WriteString(`{"@odata.context":`)
	out.Write(ctx)
	if len(b) > 2 {
		out.WriteByte(',')
		out.Write(b[1:])
	} else {
		out.WriteByte('}')
	}
	return out.Bytes(), nil
}

func writeBody(w http.ResponseWriter, status int, b []byte) error {
	w.Header()["Content-Type"] = contentTypeValue
	w.WriteHeader(status)
	_, err := w.Write(b)
	return err
}

// bodyKey names an encoded call: a committed leg never changes (a new
// state is a new *calls.Call), so its encoding for one base URL can be
// reused until the leg is replaced.
type bodyKey struct {
	leg  *calls.Call
	base string
	item bool // as an entry of a collection, without @odata.context
}

// bodyCache keeps recent encodings of calls for plain GETs and lists,
// which would otherwise spend most of their time in encoding/json. It is bounded: it
// starts over when full. Safe for concurrent use.
type bodyCache struct {
	mu sync.Mutex
	m  map[bodyKey][]byte
}

const maxCachedBodies = 4096

func (c *bodyCache) get(k bodyKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[k]
	return b, ok
}

func (c *bodyCache) put(k bodyKey, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedBodies {
		c.m = make(map[bodyKey][]byte)
	}
	c.m[k] = b
}

// encodeEntity marshals v, projected to the selected properties (plus its
// @odata annotations and id) when selects is set.
// Each property named in empty is written as [] when v leaves it out.
func encodeEntity(v any, selects []string, empty ...string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || (len(selects) == 0 && len(empty) == 0) {
		return b, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, err
	}
	for _, k := range empty {
		if _, ok := all[k]; !ok {
			all[k] = json.RawMessage("[]")
		}
	}
	if len(selects) == 0 {
		return json.Marshal(all)
	}
	keep := make(map[string]json.RawMessage, len(selects)+2)
	for k, v := range all {
		if strings.HasPrefix(k, "@odata.") || k == "id" {
			keep[k] = v
		}
	}
	for _, s := range append(selects, empty...) {
		if v, ok := all[s]; ok {
			keep[s] = v
		} else {
			keep[s] = json.RawMessage("null")
		}
	}
	return json.Marshal(keep)
}

// entityItem turns a body written by entityBody for odataContext into the
// entity alone, as a collection lists it.
func entityItem(body []byte, odataContext string) []byte {
	ctx, _ := json.Marshal(odataContext)
	n := len(`{"@odata.context":`) + len(ctx)
	if len(body) <= n+1 {
		return []byte("{}")
	}
	// body[n] is the comma after the context: make it the object's brace.
	item := body[n:]
	if item[0] != ',' {
		return []byte("{}")
	}
	return append([]byte{'{'}, item[1:]...)
}

// writeCollection writes one page of items with the OData collection
// envelope: $count, $skip/$top, @odata.nextLink and $select applied.
func writeCollection(w http.ResponseWriter, r *request, q *query, odataContext string, items []any) error {
	lo, hi, next := q.page(len(items))
	page := make([][]byte, 0, hi-lo)
	for _, it := range items[lo:hi] {
		b, err := encodeEntity(it, q.selects)
		if err != nil {
			return err
		}
		page = append(page, b)
	}
	return writePage(w, r, q, odataContext, page, len(items), next)
}

// writePage writes the OData collection envelope around encoded entities:
// @odata.context, @odata.count when asked for, value, and @odata.nextLink
// when next (a query string) is set. The entities are copied as they are,
// not decoded and encoded again.
func writePage(w http.ResponseWriter, r *request, q *query, odataContext string, page [][]byte, total int, next string) error {
	ctx, _ := json.Marshal(odataContext)
	var link []byte
	if next != "" {
		u := *r.URL
		u.RawQuery = next
		link, _ = json.Marshal(strings.TrimSuffix(r.base, "/"+r.version) + u.RequestURI())
	}
	size := 64 + len(ctx) + len(link)
	for _, b := range page {
		size += len(b) + 1
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	buf.WriteString(`{"@odata.context":`)
	buf.Write(ctx)
	if q.count {
		buf.WriteString(`,"@odata.count":`)
		buf.WriteString(strconv.Itoa(total))
	}
	buf.WriteString(`,"value":[`)
	for i, b := range page {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(b)
	}
	buf.WriteByte(']')
	if link != nil {
		buf.WriteString(`,"@odata.nextLink":`)
		buf.Write(link)
	}
	buf.WriteByte('}')
	return writeBody(w, http.StatusOK, buf.Bytes())
}
