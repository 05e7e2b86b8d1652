package model

// Identity is Graph identity flattened with its calls subtypes
// (communicationsUserIdentity, communicationsApplicationIdentity,
// communicationsApplicationInstanceIdentity, communicationsPhoneIdentity,
// communicationsGuestIdentity, communicationsEncryptedIdentity,
// azureCommunicationServicesUserIdentity). A field that the type named by
// ODataType does not define is still kept: the docs put tenantId and
// identityProvider on plain "#microsoft.graph.identity" objects.
type Identity struct {
	ODataType   string  `json:"@odata.type,omitempty"`
	ID          string  `json:"id,omitempty"`
	DisplayName *string `json:"displayName,omitempty"`
	// TenantID belongs to the user and application-instance subtypes.
	TenantID *string `json:"tenantId,omitempty"`
	// ApplicationType belongs to the application subtype.
	ApplicationType *string `json:"applicationType,omitempty"`
	// Hidden belongs to the application and application-instance subtypes.
	Hidden *bool `json:"hidden,omitempty"`
	// Email belongs to the guest subtype.
	Email *string `json:"email,omitempty"`
	// AzureCommunicationServicesResourceID belongs to the ACS user subtype.
	AzureCommunicationServicesResourceID *string `json:"azureCommunicationServicesResourceId,omitempty"`
	// IdentityProvider is a legacy property ("AAD") seen in the docs' examples.
	IdentityProvider *string `json:"identityProvider,omitempty"`
}

// EffectiveType returns ODataType, or TypeIdentity when it is empty.
func (id Identity) EffectiveType() string {
	if id.ODataType != "" {
		return id.ODataType
	}
	return TypeIdentity
}

// MarshalJSON encodes the identity with its EffectiveType as "@odata.type".
func (id Identity) MarshalJSON() ([]byte, error) {
	type alias Identity
	a := alias(id)
	a.ODataType = id.EffectiveType()
	return marshal(a)
}

// IdentitySet is Graph identitySet flattened with communicationsIdentitySet,
// the form every calls payload uses whatever its "@odata.type" says. Each
// member is optional; usually exactly one of them is set.
type IdentitySet struct {
	ODataType   string    `json:"@odata.type,omitempty"`
	User        *Identity `json:"user,omitempty"`
	Application *Identity `json:"application,omitempty"`
	Device      *Identity `json:"device,omitempty"`
	// The members below belong to communicationsIdentitySet.
	Phone                          *Identity    `json:"phone,omitempty"`
	ApplicationInstance            *Identity    `json:"applicationInstance,omitempty"`
	Guest                          *Identity    `json:"guest,omitempty"`
	Encrypted                      *Identity    `json:"encrypted,omitempty"`
	OnPremises                     *Identity    `json:"onPremises,omitempty"`
	AzureCommunicationServicesUser *Identity    `json:"azureCommunicationServicesUser,omitempty"`
	AssertedIdentity               *Identity    `json:"assertedIdentity,omitempty"`
	EndpointType                   EndpointType `json:"endpointType,omitempty"`
}

// EffectiveType returns ODataType, or TypeIdentitySet when it is empty: the
// label Graph itself puts on calls identity sets.
func (s IdentitySet) EffectiveType() string {
	if s.ODataType != "" {
		return s.ODataType
	}
	return TypeIdentitySet
}

// MarshalJSON encodes the set with its EffectiveType as "@odata.type".
func (s IdentitySet) MarshalJSON() ([]byte, error) {
	type alias IdentitySet
	a := alias(s)
	a.ODataType = s.EffectiveType()
	return marshal(a)
}
