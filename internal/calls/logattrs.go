package calls

import "strings"

// Log lines about a call carry call_id, tenant and app, so that one call's
// story can be followed across the domain, delivery and the HTTP layer.

// legAttrs are the log attributes of the leg legID of conv.
func legAttrs(conv *Conversation, legID string) []any {
	if l := conv.Leg(strings.ToLower(legID)); l != nil {
		return []any{"call_id", l.ID, "tenant", l.TenantID, "app", l.AppID}
	}
	return []any{"call_id", legID}
}

// convAttrs are the log attributes of a whole conversation: its id and the
// call_id, tenant and app of its legs, comma-separated when there are
// several (a meeting joined by more than one application).
func convAttrs(conv *Conversation) []any {
	var ids, tenants, apps []string
	for _, l := range conv.Legs {
		ids = appendNew(ids, l.ID)
		tenants = appendNew(tenants, l.TenantID)
		apps = appendNew(apps, l.AppID)
	}
	return []any{"conversation", conv.ID, "call_id", strings.Join(ids, ","), "tenant", strings.Join(tenants, ","), "app", strings.Join(apps, ",")}
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}
