package model

// Collection is the OData collection response Graph returns for lists
// (participants, audioRoutingGroups, contentSharingSessions, operations).
type Collection[T any] struct {
	ODataContext  string `json:"@odata.context,omitempty"`
	ODataCount    *int64 `json:"@odata.count,omitempty"`
	ODataNextLink string `json:"@odata.nextLink,omitempty"`
	Value         []T    `json:"value"`
}

// MarshalJSON encodes the collection; a nil Value encodes as [], since OData
// clients expect "value" to be an array.
func (c Collection[T]) MarshalJSON() ([]byte, error) {
	value := c.Value
	if value == nil {
		value = []T{}
	}
	return marshal(struct {
		ODataContext  string `json:"@odata.context,omitempty"`
		ODataCount    *int64 `json:"@odata.count,omitempty"`
		ODataNextLink string `json:"@odata.nextLink,omitempty"`
		Value         []T    `json:"value"`
	}{c.ODataContext, c.ODataCount, c.ODataNextLink, value})
}
