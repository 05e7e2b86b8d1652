// Package devcert creates and keeps the development TLS material that lets
// Switchboard serve HTTPS on loopback with no setup: a private certificate
// authority and a server certificate for localhost, 127.0.0.1 and ::1 signed
// by it. azidentity and MSAL refuse an http:// authority, so a bot on a laptop
// needs an HTTPS token endpoint whose CA it can trust; this package makes one
// and keeps reusing it so that a CA a developer trusted once stays valid.
//
// It owns only the four files it names in its directory and imports only the
// standard library; it must not import other Switchboard packages. It is for
// development only: the CA key sits unencrypted on disk.
package devcert
