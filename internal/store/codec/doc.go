// Package codec is the stored form of the calls domain that every store
// shares: how a conversation becomes the bytes of its conversations row and
// back, how a leg becomes its calls row, and which calls rows a commit may
// leave as they are. It speaks no SQL: store/sqlite and store/postgres write
// what it produces, each in its own dialect, so that a conversation written
// by one reads back the same through the other.
//
// # Conversations
//
// A conversation is stored as the JSON of *calls.Conversation without its
// legs' specs (EncodeConversation). A leg's spec — what the application
// asked for when it created the call — never changes, so a store writes it
// once, beside the leg's calls row (EncodeSpec), and DecodeConversation puts
// it back, by call id. Data written before specs moved out still holds them
// inline; DecodeConversation reads those too.
//
// # Calls rows
//
// Each leg also has a calls row (LegRow): its ids, owner, state and times
// in unix nanoseconds, for listing and queries. A commit usually changes one
// leg of a conversation, or none; Legs remembers the rows last written, so
// that a store rewrites only those that changed and writes each spec once.
package codec
