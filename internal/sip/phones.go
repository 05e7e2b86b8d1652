package sip

import (
	"context"
	"net/netip"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/switchboard-dev/switchboard/internal/calls"
	"github.com/switchboard-dev/switchboard/internal/graph/model"
	"github.com/switchboard-dev/switchboard/internal/phones"
)

// route is where an identity is dialled.
type route struct {
	URI       sip.Uri
	Transport string // "udp" or "tcp"
	// Username and Password answer a digest challenge (a trunk's).
	Username, Password string
}

// phoneIdentity is the phones directory's name for a Graph identity: a
// user or a phone number, in the tenant.
func phoneIdentity(tenantID string, id model.IdentitySet) (phones.Identity, bool) {
	switch {
	case id.User != nil && id.User.ID != "":
		i := phones.User(id.User.ID)
		i.Tenant = tenantID
		return i, true
	case id.Phone != nil && id.Phone.ID != "":
		i := phones.Phone(id.Phone.ID)
		i.Tenant = tenantID
		return i, true
	}
	return phones.Identity{}, false
}

// Bind says whether the tenant's identity is reached over SIP: it has a
// static contact, an account (registered now or not) or a trunk.
func (s *Server) Bind(tenantID string, id model.IdentitySet) string {
	pid, ok := phoneIdentity(tenantID, id)
	if !ok {
		return calls.EndpointSimulated
	}
	bound, err := s.cfg.Phones.Bound(context.Background(), pid)
	if err != nil {
		s.log.Error("sip: looking up a SIP identity failed; it is simulated for this call", "identity", pid.ID, "err", err)
		return calls.EndpointSimulated
	}
	if bound {
		return calls.EndpointSIP
	}
	return calls.EndpointSimulated
}

// routeTo returns where to dial the identity; ok is false when it is bound
// but cannot be reached now (a phone that is not registered).
func (s *Server) routeTo(tenantID string, id model.IdentitySet) (route, bool) {
	pid, ok := phoneIdentity(tenantID, id)
	if !ok {
		return route{}, false
	}
	r, ok := s.cfg.Phones.Route(pid)
	if !ok {
		return route{}, false
	}
	var uri sip.Uri
	if err := sip.ParseUri(r.URI, &uri); err != nil {
		s.log.Error("sip: unusable route", "uri", r.URI, "err", err)
		return route{}, false
	}
	return route{URI: uri, Transport: r.Transport, Username: r.Username, Password: r.Password}, true
}

// callerOf is the Graph identity of an authenticated account.
func callerOf(a phones.Account) model.IdentitySet {
	id := a.Identity()
	ident := &model.Identity{ID: id.ID}
	if a.DisplayName != "" {
		name := a.DisplayName
		ident.DisplayName = &name
	}
	if id.Kind == phones.IdentityPhone {
		return model.IdentitySet{Phone: ident}
	}
	return model.IdentitySet{User: ident}
}

// numberCaller is the phone identity of an INVITE's From user: a trunk's
// caller, or an anonymous phone in development mode.
func numberCaller(from *sip.FromHeader) model.IdentitySet {
	user := "anonymous"
	var name *string
	if from != nil {
		if n := phones.NormalizeNumber(from.Address.User); n != "" {
			user = n
		}
		if from.DisplayName != "" {
			dn := from.DisplayName
			name = &dn
		}
	}
	return model.IdentitySet{Phone: &model.Identity{ID: user, DisplayName: name}}
}

// sourceOf is where a request came from.
func sourceOf(req *sip.Request) netip.AddrPort {
	ap, _ := netip.ParseAddrPort(req.Source())
	return ap
}

// sendResponse sends the phones directory's response to req.
func sendResponse(tx sip.ServerTransaction, req *sip.Request, r phones.Response) {
	hs := make([]sip.Header, len(r.Headers))
	for i, h := range r.Headers {
		hs[i] = sip.NewHeader(h.Name, h.Value)
	}
	respond(tx, req, r.Status, r.Reason, hs...)
}

// admit decides who an INVITE is from, or answers it: 503 when its source
// sends too many, 407 or 403 when it must authenticate. release frees a
// trunk's call slot when the call ends.
func (s *Server) admit(req *sip.Request, tx sip.ServerTransaction) (from model.IdentitySet, release func(), ok bool) {
	src := sourceOf(req)
	adm := s.cfg.Phones.Admit(src)
	if !adm.Allowed {
		secs := int(adm.RetryAfter.Seconds()) + 1
		respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable", sip.NewHeader("Retry-After", strconv.Itoa(secs)))
		return model.IdentitySet{}, nil, false
	}
	if adm.Origin == phones.OriginTrunk {
		release, ok := s.cfg.Phones.Acquire(adm.Trunk)
		if !ok {
			respond(tx, req, sip.StatusServiceUnavailable, "Service Unavailable", sip.NewHeader("Retry-After", "5"),
				sip.NewHeader("Warning", `399 switchboard "the trunk's concurrent call limit is reached"`))
			return model.IdentitySet{}, nil, false
		}
		return numberCaller(req.From()), release, true
	}
	authz := req.GetHeader("Proxy-Authorization")
	if authz == nil && s.cfg.AllowAnonymous && adm.Origin != phones.OriginPhone {
		return numberCaller(req.From()), func() {}, true
	}
	value := ""
	if authz != nil {
		value = authz.Value()
	}
	acct, res, ok := s.cfg.Phones.Authenticate(s.ctx, phones.ProxyAuthenticate, phones.AuthRequest{
		Method: string(req.Method), URI: req.Recipient.String(), Authorization: value, Source: src,
	})
	if !ok {
		sendResponse(tx, req, res)
		return model.IdentitySet{}, nil, false
	}
	return callerOf(acct), func() {}, true
}

// onRegister is the registrar: phones bind their account to where they
// are.
func (s *Server) onRegister(req *sip.Request, tx sip.ServerTransaction) {
	to := req.To()
	if to == nil {
		respond(tx, req, sip.StatusBadRequest, "Bad Request")
		return
	}
	rr := phones.RegisterRequest{
		AuthRequest: phones.AuthRequest{Method: string(req.Method), URI: req.Recipient.String(), Username: to.Address.User, Source: sourceOf(req)},
		Transport:   strings.ToLower(req.Transport()),
	}
	if h := req.GetHeader("Authorization"); h != nil {
		rr.Authorization = h.Value()
	}
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			respond(tx, req, sip.StatusBadRequest, "Bad Request", sip.NewHeader("Warning", `399 switchboard "Expires is not a number of seconds"`))
			return
		}
		rr.Expires, rr.HasExpires = n, true
	}
	for _, h := range req.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok {
			continue
		}
		if c.Address.Wildcard {
			rr.Wildcard = true
			continue
		}
		rc := phones.RequestContact{URI: c.Address.String()}
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				respond(tx, req, sip.StatusBadRequest, "Bad Request", sip.NewHeader("Warning", `399 switchboard "a contact's expires is not a number of seconds"`))
				return
			}
			rc.Expires, rc.HasExpires = n, true
		}
		rr.Contacts = append(rr.Contacts, rc)
	}
	res := s.cfg.Phones.Register(s.ctx, rr)
	sendResponse(tx, req, res.Response)
	if res.Status == sip.StatusOK {
		s.log.Info("sip: registered", "account", res.Account.Username, "bindings", len(res.Bindings))
	}
}

// Kind is the endpoint kind the server serves.
func (s *Server) Kind() string { return calls.EndpointSIP }
