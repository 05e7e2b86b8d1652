package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/auth"
)

// appTests are the contract of auth.AppStore, which every store keeps and
// which RunAppStoreContract also checks on its own.
var appTests = []struct {
	name string
	run  func(t *testing.T, s auth.AppStore)
}{
	{"AppsEmpty", testAppsEmpty},
	{"AppRoundTrip", testAppRoundTrip},
	{"AppClientIDIgnoresCase", testAppCase},
	{"AppCreateTwiceFails", testAppExists},
	{"AppUnknownFails", testAppUnknown},
	{"AppSecretsRotate", testAppSecrets},
	{"AppCertificates", testAppCertificates},
	{"AppDeleteTakesCredentials", testAppDelete},
	{"AppsListOrder", testAppsList},
}

// RunAppStoreContract runs the application part of the contract as
// subtests of t, for an auth.AppStore on its own (such as
// auth.MemoryAppStore). open must return an empty store for each subtest.
func RunAppStoreContract(t *testing.T, open func(t *testing.T) auth.AppStore) {
	for _, tc := range appTests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, open(t)) })
	}
}

// certPEM stands for a certificate's PEM: a store keeps it as bytes and
// never parses it.
const certPEM = "-----BEGIN CERTIFICATE-----\nMIIBstoretest\n-----END CERTIFICATE-----\n"

// App returns an application with two secrets (one expiring) and a
// certificate, every field set, created at at.
func App(clientID string, at time.Time) auth.App {
	return auth.App{
		ClientID:    clientID,
		TenantID:    "tenant-" + clientID,
		DisplayName: "Bot " + clientID,
		Roles:       []string{auth.RoleCallsInitiate, auth.RoleCallsAccessMedia},
		WebhookURL:  "https://bot.example/" + clientID + "/incoming",
		Secrets: []auth.Secret{
			{ID: clientID + "-s1", Hash: hash(clientID + "1"), Hint: "abc", CreatedAt: at},
			{ID: clientID + "-s2", Hash: hash(clientID + "2"), Hint: "def", CreatedAt: at.Add(time.Second), ExpiresAt: at.Add(180 * 24 * time.Hour)},
		},
		Certificates: []auth.Certificate{
			{X5T: "x5t-" + clientID, X5TS256: "s256-" + clientID, PEM: []byte(certPEM), CreatedAt: at},
		},
		CreatedAt: at,
	}
}

func hash(s string) []byte { return auth.HashSecret(s) }

func getApp(t *testing.T, s auth.AppStore, clientID string) auth.App {
	t.Helper()
	a, err := s.GetApp(t.Context(), clientID)
	if err != nil {
		t.Fatalf("GetApp(%s): %v", clientID, err)
	}
	return a
}

func sameApp(t *testing.T, got, want auth.App) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("app %s CreatedAt = %v, want %v", want.ClientID, got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	norm := func(a *auth.App) {
		for i := range a.Secrets {
			if !a.Secrets[i].CreatedAt.IsZero() {
				a.Secrets[i].CreatedAt = a.Secrets[i].CreatedAt.UTC()
			}
			if !a.Secrets[i].ExpiresAt.IsZero() {
				a.Secrets[i].ExpiresAt = a.Secrets[i].ExpiresAt.UTC()
			}
		}
		for i := range a.Certificates {
			a.Certificates[i].CreatedAt = a.Certificates[i].CreatedAt.UTC()
		}
	}
	norm(&got)
	norm(&want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("app differs:\ngot:  %+v\nwant: %+v", got, want)
	}
}

func testAppsEmpty(t *testing.T, s auth.AppStore) {
	apps, err := s.ListApps(t.Context())
	if err != nil || len(apps) != 0 {
		t.Errorf("ListApps on a new store = %v, %v; want none", apps, err)
	}
}

func testAppRoundTrip(t *testing.T, s auth.AppStore) {
	want := App("app-1", base)
	if err := s.CreateApp(t.Context(), want); err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	sameApp(t, getApp(t, s, "app-1"), want)

	// An app with nothing optional: no roles, webhook, secrets or
	// certificates.
	bare := auth.App{ClientID: "bare", TenantID: "t", CreatedAt: base}
	if err := s.CreateApp(t.Context(), bare); err != nil {
		t.Fatalf("CreateApp(bare): %v", err)
	}
	got := getApp(t, s, "bare")
	if got.TenantID != "t" || len(got.Roles) != 0 || got.WebhookURL != "" || len(got.Secrets) != 0 || len(got.Certificates) != 0 {
		t.Errorf("bare app = %+v", got)
	}
}

func testAppCase(t *testing.T, s auth.AppStore) {
	want := App("8D7C6B5A-1111-4222-8333-944455556666", base)
	if err := s.CreateApp(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	got := getApp(t, s, "8d7c6b5a-1111-4222-8333-944455556666")
	if got.ClientID != want.ClientID {
		t.Errorf("ClientID = %q, want it as registered, %q", got.ClientID, want.ClientID)
	}
	if err := s.AddSecret(t.Context(), "8d7c6b5a-1111-4222-8333-944455556666", auth.Secret{ID: "lower", Hash: hash("x"), CreatedAt: base}); err != nil {
		t.Fatalf("AddSecret with the id in lower case: %v", err)
	}
	if got := getApp(t, s, want.ClientID); len(got.Secrets) != 3 {
		t.Errorf("the secret added under the lower-case id is not the app's: %d secrets", len(got.Secrets))
	}
	if err := s.CreateApp(t.Context(), App("8d7c6b5a-1111-4222-8333-944455556666", base)); !errors.Is(err, auth.ErrAppExists) {
		t.Errorf("CreateApp with the id in another case: %v, want ErrAppExists", err)
	}
}

func testAppExists(t *testing.T, s auth.AppStore) {
	if err := s.CreateApp(t.Context(), App("dup", base)); err != nil {
		t.Fatal(err)
	}
	other := App("dup", base.Add(time.Hour))
	other.TenantID = "another"
	if err := s.CreateApp(t.Context(), other); !errors.Is(err, auth.ErrAppExists) {
		t.Fatalf("second CreateApp: %v, want ErrAppExists", err)
	}
	sameApp(t, getApp(t, s, "dup"), App("dup", base))
}

func testAppUnknown(t *testing.T, s auth.AppStore) {
	ctx := t.Context()
	if _, err := s.GetApp(ctx, "nobody"); !errors.Is(err, auth.ErrAppNotFound) {
		t.Errorf("GetApp: %v", err)
	}
	if err := s.DeleteApp(ctx, "nobody"); !errors.Is(err, auth.ErrAppNotFound) {
		t.Errorf("DeleteApp: %v", err)
	}
	if err := s.AddSecret(ctx, "nobody", auth.Secret{ID: "s", Hash: hash("s")}); !errors.Is(err, auth.ErrAppNotFound) {
		t.Errorf("AddSecret: %v", err)
	}
	if _, err := s.RemoveSecrets(ctx, "nobody"); !errors.Is(err, auth.ErrAppNotFound) {
		t.Errorf("RemoveSecrets: %v", err)
	}
	if err := s.AddCertificate(ctx, "nobody", auth.Certificate{X5T: "a", X5TS256: "b", PEM: []byte(certPEM)}); !errors.Is(err, auth.ErrAppNotFound) {
		t.Errorf("AddCertificate: %v", err)
	}
}

func testAppSecrets(t *testing.T, s auth.AppStore) {
	ctx := t.Context()
	a := App("rot", base)
	if err := s.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	fresh := auth.Secret{ID: "rot-s3", Hash: hash("new"), Hint: "new", CreatedAt: base.Add(time.Minute), ExpiresAt: base.Add(time.Hour)}
	if err := s.AddSecret(ctx, "rot", fresh); err != nil {
		t.Fatal(err)
	}
	if got := getApp(t, s, "rot"); len(got.Secrets) != 3 {
		t.Fatalf("after AddSecret: %d secrets, want 3", len(got.Secrets))
	}
	// Keep the new one and the first old one.
	n, err := s.RemoveSecrets(ctx, "rot", "rot-s3", "rot-s1", "not-a-secret")
	if err != nil || n != 1 {
		t.Fatalf("RemoveSecrets(except s3, s1) = %d, %v; want 1", n, err)
	}
	want := a
	want.Secrets = []auth.Secret{a.Secrets[0], fresh}
	sameApp(t, getApp(t, s, "rot"), want)

	n, err = s.RemoveSecrets(ctx, "rot", "rot-s3")
	if err != nil || n != 1 {
		t.Fatalf("RemoveSecrets(except s3) = %d, %v; want 1", n, err)
	}
	want.Secrets = []auth.Secret{fresh}
	sameApp(t, getApp(t, s, "rot"), want)

	n, err = s.RemoveSecrets(ctx, "rot")
	if err != nil || n != 1 {
		t.Fatalf("RemoveSecrets() = %d, %v; want 1", n, err)
	}
	if got := getApp(t, s, "rot"); len(got.Secrets) != 0 {
		t.Errorf("RemoveSecrets with no exception left %v", got.Secrets)
	}
}

func testAppCertificates(t *testing.T, s auth.AppStore) {
	ctx := t.Context()
	a := App("certs", base)
	if err := s.CreateApp(ctx, a); err != nil {
		t.Fatal(err)
	}
	second := auth.Certificate{X5T: "x5t-2", X5TS256: "s256-2", PEM: []byte(certPEM + "\n"), CreatedAt: base.Add(time.Hour)}
	if err := s.AddCertificate(ctx, "certs", second); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCertificate(ctx, "certs", second); !errors.Is(err, auth.ErrCertificateExists) {
		t.Errorf("adding the certificate again: %v, want ErrCertificateExists", err)
	}
	want := a
	want.Certificates = append(want.Certificates, second)
	sameApp(t, getApp(t, s, "certs"), want)

	// The same certificate may serve two applications.
	other := App("other", base)
	other.Certificates = nil
	if err := s.CreateApp(ctx, other); err != nil {
		t.Fatal(err)
	}
	if err := s.AddCertificate(ctx, "other", second); err != nil {
		t.Errorf("the certificate of another app: %v", err)
	}
}

func testAppDelete(t *testing.T, s auth.AppStore) {
	ctx := t.Context()
	for _, id := range []string{"gone", "kept"} {
		if err := s.CreateApp(ctx, App(id, base)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteApp(ctx, "GONE"); err != nil {
		t.Fatalf("DeleteApp: %v", err)
	}
	if _, err := s.GetApp(ctx, "gone"); !errors.Is(err, auth.ErrAppNotFound) {
		t.Errorf("GetApp after DeleteApp: %v", err)
	}
	// Registering the id again starts from nothing: no secret or
	// certificate of the deleted app survives.
	if err := s.CreateApp(ctx, auth.App{ClientID: "gone", TenantID: "t", CreatedAt: base}); err != nil {
		t.Fatalf("CreateApp after DeleteApp: %v", err)
	}
	if got := getApp(t, s, "gone"); len(got.Secrets) != 0 || len(got.Certificates) != 0 {
		t.Errorf("deleted app's credentials survived: %+v", got)
	}
	sameApp(t, getApp(t, s, "kept"), App("kept", base))
}

func testAppsList(t *testing.T, s auth.AppStore) {
	ctx := t.Context()
	want := []auth.App{App("b-first", base), App("a-second", base.Add(time.Minute)), App("c-second", base.Add(time.Minute))}
	for _, i := range []int{2, 0, 1} {
		if err := s.CreateApp(ctx, want[i]); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListApps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("ListApps returned %d apps, want %d", len(got), len(want))
	}
	for i := range want {
		sameApp(t, got[i], want[i])
	}
}

// testAppsReopen checks that applications survive a restart.
func testAppsReopen(t *testing.T, h *harness) {
	s := h.store(t)
	want := App("durable", base)
	if err := s.CreateApp(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	if n, err := s.RemoveSecrets(t.Context(), "durable", "durable-s2"); err != nil || n != 1 {
		t.Fatalf("RemoveSecrets = %d, %v", n, err)
	}
	want.Secrets = want.Secrets[1:]
	s = h.reopen(t)
	sameApp(t, getApp(t, s, "durable"), want)
}

// testDeleteKey checks that DeleteKey removes one key, durably, and that
// deleting a key that is not there is no error.
func testDeleteKey(t *testing.T, h *harness) {
	s := h.store(t)
	k1 := auth.StoredKey{ID: "kid-1", PrivateKeyPEM: []byte("one"), CreatedAt: base}
	k2 := auth.StoredKey{ID: "kid-2", PrivateKeyPEM: []byte("two"), CreatedAt: base.Add(time.Hour)}
	for _, k := range []auth.StoredKey{k1, k2} {
		if err := s.SaveKey(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteKey(t.Context(), "kid-1"); err != nil {
		t.Fatalf("DeleteKey: %v", err)
	}
	if err := s.DeleteKey(t.Context(), "kid-1"); err != nil {
		t.Errorf("DeleteKey of a deleted key: %v", err)
	}
	checkKeys(t, s, k2)
	checkKeys(t, h.reopen(t), k2)
}
