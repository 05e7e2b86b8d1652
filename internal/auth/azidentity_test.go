package auth

import (
	"crypto/x509"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// TestAzidentityCertificateCredential has azidentity's
// ClientCertificateCredential, as a bot uses it against Entra ID, get a
// token from the token service with only the authority host changed. MSAL
// signs its assertion with the wall clock, so the service's clock starts
// at the wall clock's time.
func TestAzidentityCertificateCredential(t *testing.T) {
	for _, chain := range []bool{false, true} {
		name := "thumbprint only"
		if chain {
			name = "with x5c chain"
		}
		t.Run(name, func(t *testing.T) {
			cf := newCertFixture(t, time.Now())
			srv := httptest.NewTLSServer(cf.svc.Handler())
			t.Cleanup(srv.Close)
			cred, err := azidentity.NewClientCertificateCredential(certTenant, cf.clientID, []*x509.Certificate{cf.cert}, cf.key, &azidentity.ClientCertificateCredentialOptions{
				ClientOptions: azcore.ClientOptions{
					Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: srv.URL + "/"},
					Transport: srv.Client(),
				},
				DisableInstanceDiscovery: true,
				SendCertificateChain:     chain,
			})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{GraphResource + "/.default"}})
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			p, err := cf.authenticate("Bearer " + tok.Token)
			if err != nil || !strings.EqualFold(p.AppID, cf.clientID) || p.TenantID != certTenant {
				t.Errorf("Authenticate = %+v, %v", p, err)
			}
		})
	}
}
