package e2e

import (
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	khttp "github.com/microsoft/kiota-http-go"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go-core/authentication"

	"github.com/switchboard-dev/switchboard/internal/app"
)

var _ = []any{azcore.ClientOptions{}, azidentity.ClientSecretCredentialOptions{}, khttp.NewCustomTransport, jsonserialization.NewJsonParseNode, msgraph.NewGraphServiceClient, models.NewCall, odataerrors.NewODataError, msgraphcore.GetDefaultClient, authentication.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts, app.New}

func TestWarm(t *testing.T) {}
