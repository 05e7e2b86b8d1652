package phones

import (
	"fmt"
	"strings"
)

// IdentityKind is what an Identity names. The zero value is unknown.
type IdentityKind uint8

// Identity kinds.
const (
	IdentityUnknown IdentityKind = iota
	IdentityUser                 // a Graph user, by id
	IdentityPhone                // a phone number, E.164
)

// String returns "user", "phone" or "unknown"; ParseIdentityKind reverses it.
func (k IdentityKind) String() string {
	switch k {
	case IdentityUser:
		return "user"
	case IdentityPhone:
		return "phone"
	}
	return "unknown"
}

// ParseIdentityKind parses the names String returns, except "unknown".
func ParseIdentityKind(s string) (IdentityKind, error) {
	switch s {
	case "user":
		return IdentityUser, nil
	case "phone":
		return IdentityPhone, nil
	}
	return IdentityUnknown, fmt.Errorf("phones: identity kind %q: want user or phone", s)
}

// Identity is a Graph identity that SIP may reach: a user by id, or a phone
// number. User ids compare case-insensitively; phone numbers compare after
// NormalizeNumber. Tenant, when set, restricts the match to accounts of
// that tenant and to accounts of no tenant; contacts and trunks serve every
// tenant.
type Identity struct {
	Kind   IdentityKind
	ID     string
	Tenant string
}

// User returns the identity of the Graph user with the id.
func User(id string) Identity { return Identity{Kind: IdentityUser, ID: id} }

// Phone returns the identity of the phone number.
func Phone(number string) Identity { return Identity{Kind: IdentityPhone, ID: number} }

// String returns "user:<id>" or "phone:<number>".
func (id Identity) String() string { return id.Kind.String() + ":" + id.ID }

// key is the identity's comparison form ("" for an unknown kind).
func (id Identity) key() string {
	switch id.Kind {
	case IdentityUser:
		return "u:" + strings.ToLower(strings.TrimSpace(id.ID))
	case IdentityPhone:
		return "p:" + NormalizeNumber(id.ID)
	}
	return ""
}

// NormalizeNumber returns the phone number without the spaces, dashes,
// dots and parentheses people write into numbers, keeping a leading "+":
// "+1 (555) 123-4567" becomes "+15551234567".
func NormalizeNumber(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '\t':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isE164 reports whether s, normalised, is "+" and 1 to 15 digits.
func isE164(s string) bool {
	if len(s) < 2 || len(s) > 16 || s[0] != '+' {
		return false
	}
	return allDigits(s[1:])
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
