package app

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/switchboard-dev/switchboard/internal/auth"
)

// apps is the application registry the token service looks clients up in:
// the well-known development app (in development mode), then the apps of
// the configuration file, then the apps registered in the store with
// `switchboard apps`. An earlier source shadows a later one with the same
// client id. Only the first two may grant Switchboard.Operator. The store
// is read on every token request, so an app the CLI registers or deletes
// counts at once, without a restart.
func (a *App) apps() (auth.Apps, error) {
	var list []auth.App
	if a.cfg.Dev {
		// Development mode is one person's server: its application may act
		// in every tenant, as the operator would.
		dev := auth.DevApp()
		dev.Roles = append(dev.Roles, auth.RoleOperator)
		list = append(list, dev)
	}
	for i, c := range a.cfg.Apps {
		// The configuration file is the one place that grants
		// Switchboard.Operator.
		roles := slices.DeleteFunc(slices.Clone(c.Roles), func(r string) bool { return r == auth.RoleOperator })
		if err := auth.ValidateRoles(roles); err != nil {
			return nil, fmt.Errorf("config: apps[%d] (%s): %w", i, c.ClientID, err)
		}
		if c.Webhook != "" {
			if err := auth.ValidateWebhook(c.Webhook); err != nil {
				return nil, fmt.Errorf("config: apps[%d] (%s): webhook: %w", i, c.ClientID, err)
			}
		}
		app := auth.App{ClientID: c.ClientID, TenantID: c.TenantID, DisplayName: c.DisplayName, Roles: c.Roles, WebhookURL: c.Webhook}
		switch {
		case c.SecretSHA256 != "":
			h, err := hex.DecodeString(c.SecretSHA256)
			if err != nil || len(h) != 32 {
				return nil, fmt.Errorf("config: apps[%d]: secretSha256 must be 64 hex digits", i)
			}
			app.Secrets = append(app.Secrets, auth.StaticSecret(h))
		default:
			app.Secrets = append(app.Secrets, auth.StaticSecret(auth.HashSecret(c.Secret)))
		}
		list = append(list, app)
	}
	return auth.ChainApps(auth.NewStaticApps(list...), noOperator{auth.StoredApps(a.store)}), nil
}

// noOperator drops Switchboard.Operator from the applications of a source
// that must not grant it (the store, which `switchboard apps` writes and
// which refuses the role anyway).
type noOperator struct{ auth.Apps }

func (n noOperator) App(ctx context.Context, clientID string) (auth.App, error) {
	app, err := n.Apps.App(ctx, clientID)
	app.Roles = slices.DeleteFunc(app.Roles, func(r string) bool { return r == auth.RoleOperator })
	return app, err
}

// DatabaseFile is the name of the SQLite database in the data directory.
// The server and the `switchboard apps` command both open it there.
const DatabaseFile = "switchboard.db"

// webhook returns the incoming-call webhook of an application of a tenant.
func (a *App) webhook(ctx context.Context, tenantID, appID string) (string, error) {
	app, err := a.auth.App(ctx, appID)
	if err != nil {
		return "", err
	}
	if !strings.EqualFold(app.TenantID, tenantID) {
		return "", auth.ErrAppNotFound
	}
	return app.WebhookURL, nil
}
