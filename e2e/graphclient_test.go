package e2e

import (
	"net/http"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	khttp "github.com/microsoft/kiota-http-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go-core/authentication"
)

// graphScopes is what a bot asks for with the client credentials grant.
var graphScopes = []string{"https://graph.microsoft.com/.default"}

// newCredential returns the client-secret credential a bot already uses
// against Entra ID, pointed at Switchboard's token service instead.
//
// authority is Switchboard's HTTPS base URL, such as
// "https://127.0.0.1:8443/": azidentity refuses http:// authorities, and the
// URL must have no path (MSAL reads the first path segment as the tenant).
// httpClient must trust Switchboard's certificate: in development mode,
// the development CA (see devHTTPClient).
func newCredential(t testing.TB, authority string, httpClient *http.Client) *azidentity.ClientSecretCredential {
	t.Helper()
	return newAppCredential(t, authority, httpClient, devTenant, devClientID, devSecret)
}

// newAppCredential is newCredential for any registered application.
func newAppCredential(t testing.TB, authority string, httpClient *http.Client, tenant, clientID, secret string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenant, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: authority},
			Transport: httpClient,
		},
		// Otherwise MSAL first asks Microsoft's servers whether the
		// authority is a known one.
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("azidentity.NewClientSecretCredential: %v", err)
	}
	return cred
}

// newGraphClient returns the SDK's GraphServiceClient talking to
// Switchboard's Graph API at graphBase, such as
// "https://127.0.0.1:8443/v1.0" (no trailing slash), with tokens from cred.
// caPEM is the CA that Switchboard's HTTPS certificate chains to (app.DevCA,
// or the ca.pem the server writes to its data directory in development
// mode).
//
// Everything except two settings is the SDK's default set-up:
//   - The hosts that get the bearer token: the SDK attaches it only for
//     Microsoft's Graph hosts unless told otherwise, and for any other host it
//     silently sends no Authorization header at all.
//   - The HTTP transport under the SDK's middleware (retries, redirects,
//     gzip of request bodies, telemetry headers), which must trust caPEM.
//     msgraph.NewGraphServiceClientWithCredentialsAndHosts cannot take an
//     HTTP client, so the adapter is built by hand; that constructor is
//     enough when Graph is reached over Switchboard's plain-HTTP listener on
//     127.0.0.1 (see TestSDKQuickStartPlainHTTP).
func newGraphClient(t testing.TB, cred azcore.TokenCredential, graphBase string, caPEM []byte) *msgraph.GraphServiceClient {
	t.Helper()
	return newGraphClientOver(t, cred, graphBase, devTransport(t, caPEM))
}

// newGraphClientOver is newGraphClient with transport under the SDK's
// middleware: a test can wrap devTransport to see the HTTP status codes
// that the SDK does not return.
func newGraphClientOver(t testing.TB, cred azcore.TokenCredential, graphBase string, transport http.RoundTripper) *msgraph.GraphServiceClient {
	t.Helper()
	authProvider, err := authentication.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(
		cred, graphScopes, []string{"127.0.0.1"}) // the host without the port
	if err != nil {
		t.Fatalf("authentication provider: %v", err)
	}

	opts := msgraph.GetDefaultClientOptions()
	httpClient := msgraphcore.GetDefaultClient(&opts) // the SDK's timeouts and redirect policy
	httpClient.Transport = khttp.NewCustomTransportWithParentTransport(
		transport, msgraphcore.GetDefaultMiddlewaresWithOptions(&opts)...)

	adapter, err := msgraph.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
		authProvider, nil, nil, httpClient) // nil: the default JSON (de)serializers
	if err != nil {
		t.Fatalf("request adapter: %v", err)
	}
	adapter.SetBaseUrl(graphBase)
	return msgraph.NewGraphServiceClient(adapter)
}

// sdkClient is the usual set-up of these tests: a new credential and Graph
// client for the server's HTTPS listener.
func sdkClient(t testing.TB, s *server) (*msgraph.GraphServiceClient, *azidentity.ClientSecretCredential) {
	t.Helper()
	cred := newCredential(t, s.HTTPS+"/", devHTTPClient(t, s.DevCA()))
	return newGraphClient(t, cred, s.HTTPS+"/v1.0", s.DevCA()), cred
}
