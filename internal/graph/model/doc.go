// Package model holds the wire shapes of the Microsoft Graph cloud-communications
// calls API: calls, participants, operations, notifications, their nested complex
// types and enums, and the request bodies of every call and participant action.
//
// The package owns JSON encoding and decoding of those shapes and nothing else: it
// has no behaviour (no state machine, no validation beyond what decoding needs),
// performs no I/O and imports only the standard library, so every other package
// may depend on it and it depends on none of them.
//
// Polymorphic Graph types (mediaConfig, meetingInfo, callOptions, identity,
// identitySet, prompt, commsOperation, participantJoiningResponse,
// teleconferenceDeviceMediaQuality) are flattened: one Go struct carries the
// fields of the base type and of every subtype, plus ODataType, the
// "@odata.type" discriminator. Go has no sum types, the subtypes differ by one
// or two optional fields, and Graph payloads often omit or mislabel the
// discriminator (the docs label communicationsIdentitySet objects
// "#microsoft.graph.identitySet"), so a flattened struct decodes whatever
// arrives without losing a field and lets callers switch on ODataType when it
// matters. On encode, an empty ODataType of a discriminated type is replaced by
// its default (see each type's EffectiveType), because the official SDKs pick
// the model class from "@odata.type" and fall back to the bare base type
// without it.
//
// Decoding is tolerant where Graph clients are: unknown properties are ignored,
// enum values match in any letter case, and resultInfo codes may be numeric
// strings. A property of the wrong JSON type fails with the standard
// *json.UnmarshalTypeError, whose Field names the path; an unknown enum value
// fails with *EnumError.
//
// Values of this package are plain data: safe to read concurrently, not to
// mutate concurrently.
package model
