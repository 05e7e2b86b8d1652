package main

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard-dev/switchboard/internal/app"
	"github.com/switchboard-dev/switchboard/internal/auth"
	"github.com/switchboard-dev/switchboard/internal/store"
)

const appsUsage = `Usage: switchboard apps <command> [arguments] [flags]

Registers the applications (bots) that may get tokens from Switchboard's
token service, in the server's store: the SQLite database of a data
directory, or the PostgreSQL database that --store names. A running server
sees every change at once: it looks the application up on each token
request.

Commands:
  create           register an application; prints its client id and secret
  list             list the registered applications
  rotate-secret    issue a new client secret and, by default, revoke the others
  revoke-secrets   revoke an application's secrets but the newest (after --keep-old)
  add-certificate  register a certificate for client assertions
  delete           remove an application with its secrets and certificates

Run 'switchboard apps <command> --help' for a command's flags. Every command
takes --data (env SWITCHBOARD_DATA), the server's data directory, and
--store (env SWITCHBOARD_STORE), the server's --store: a postgres:// URL
selects its PostgreSQL database instead of the data directory's SQLite one.

Applications of the --config file are not listed or changed here: they live
in the file. In development mode the server also has the well-known
development application.
`

// appsCmd runs `switchboard apps ...`.
func appsCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, appsUsage)
		return errors.New("apps: no command given")
	}
	cmds := map[string]func([]string, io.Writer, io.Writer) error{
		"create":          appsCreate,
		"list":            appsList,
		"rotate-secret":   appsRotateSecret,
		"revoke-secrets":  appsRevokeSecrets,
		"add-certificate": appsAddCertificate,
		"delete":          appsDelete,
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			return appsCmd([]string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stderr, appsUsage)
		return flag.ErrHelp
	default:
		run, ok := cmds[cmd]
		if !ok {
			fmt.Fprint(stderr, appsUsage)
			return fmt.Errorf("apps: unknown command %q", cmd)
		}
		return run(rest, stdout, stderr)
	}
}

// storeFlags locate the database of an apps or sip-accounts command:
// --data, the server's data directory, whose SQLite database is used unless
// --store names a PostgreSQL database.
type storeFlags struct {
	data, store string
}

// appsFlags returns the flag set of an apps command, with --data and
// --store bound to *loc and a usage made of help and the flags.
func appsFlags(name, help string, loc *storeFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("apps "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&loc.data, "data", envOr("data", app.Defaults().DataDir), "data directory of the server (env SWITCHBOARD_DATA)")
	fs.StringVar(&loc.store, "store", envOr("store", ""), "the server's store: empty for SQLite in --data, or the postgres:// URL of its PostgreSQL database (env SWITCHBOARD_STORE)")
	fs.Usage = func() {
		fmt.Fprint(stderr, help)
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parseInterspersed parses fs from args, where flags may also follow the
// positional arguments (`rotate-secret ID --keep-old`), and checks that
// exactly want positional arguments were given.
func parseInterspersed(fs *flag.FlagSet, args []string, want ...string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(pos) != len(want) {
		fs.Usage()
		if len(want) == 0 {
			return nil, fmt.Errorf("%s: unexpected argument %q", fs.Name(), pos[0])
		}
		return nil, fmt.Errorf("%s: want %s, got %d argument(s)", fs.Name(), strings.Join(want, " and "), len(pos))
	}
	return pos, nil
}

// openAppStore opens the server's store: the PostgreSQL database that
// loc.store names, or else the SQLite database in loc.data, refusing a
// directory that group or others may write to. Unless create, the SQLite
// database must exist already, so that a mistyped --data is reported rather
// than answered with an empty new database.
func openAppStore(ctx context.Context, loc storeFlags, create bool, stderr io.Writer) (store.Store, error) {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if loc.store != "" {
		if err := store.CheckPostgresURL(loc.store); err != nil {
			return nil, fmt.Errorf("--store: %w", err)
		}
		return store.Open(ctx, loc.store, store.Options{Logger: log})
	}
	cfg := app.Config{DataDir: loc.data}
	path := cfg.StoreSpec()
	if _, err := os.Stat(path); !create && errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no Switchboard database at %s; check --data (or SWITCHBOARD_DATA), or give --store", path)
	}
	// The server's own rules: a new directory is 0700, and one that others
	// may write to is refused.
	if err := app.PrepareDataDir(loc.data); err != nil {
		return nil, err
	}
	return store.Open(ctx, path, store.Options{Logger: log})
}

// withStore runs f with the server's store open, and closes it.
func withStore(loc storeFlags, create bool, stderr io.Writer, f func(context.Context, store.Store) error) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	s, err := openAppStore(ctx, loc, create, stderr)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, s.Close()) }()
	return f(ctx, s)
}

// lifetime is a flag value for a secret lifetime: a Go duration, or a
// whole number of days such as 180d; 0 means never expires.
type lifetime time.Duration

func (l *lifetime) String() string {
	if *l == 0 {
		return "0"
	}
	return time.Duration(*l).String()
}

func (l *lifetime) Set(s string) error {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return errors.New("want a duration such as 180d or 4320h")
		}
		*l = lifetime(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return errors.New("want a duration such as 180d or 4320h")
	}
	*l = lifetime(d)
	return nil
}

const secretWarning = `
The client secret is shown this once and cannot be shown again: Switchboard
stores only its SHA-256. Put it in the bot's configuration or secret store
now. If it is lost, issue a new one with 'switchboard apps rotate-secret'.
`

const createHelp = `Usage: switchboard apps create --tenant T --name N --roles R1,R2 [flags]

Registers an application and prints its client id, its tenant and a new
client secret. The secret is shown once only: Switchboard keeps its SHA-256
and nothing else.

The bot then gets tokens as it would from Entra ID, with the authority host
changed to Switchboard's: POST /<tenant>/oauth2/v2.0/token with the client
id and the secret (or, with --certificate, a client assertion signed by the
certificate's key, which azidentity's ClientCertificateCredential sends).

Roles are application permissions: ` + "Calls.Initiate.All, Calls.InitiateGroupCall.All,\nCalls.JoinGroupCall.All, Calls.JoinGroupCallAsGuest.All, Calls.AccessMedia.All,\nSwitchboard.Admin (in its own tenant). Switchboard.Operator, which spans\ntenants, is granted only in the configuration file." + `

Example:
  switchboard apps create --tenant contoso.onmicrosoft.com --name "Reception bot" \
    --roles Calls.Initiate.All,Calls.AccessMedia.All --webhook https://bot.example/calls
`

func appsCreate(args []string, stdout, stderr io.Writer) error {
	var data storeFlags
	var roles, certFile string
	var reg auth.Registration
	var expires lifetime
	var asJSON bool
	fs := appsFlags("create", createHelp, &data, stderr)
	fs.StringVar(&reg.TenantID, "tenant", "", "tenant id (a GUID) or domain the application lives in (required)")
	fs.StringVar(&reg.DisplayName, "name", "", "display name of the application (required)")
	fs.StringVar(&roles, "roles", "", "comma-separated application permissions to grant (required)")
	fs.StringVar(&reg.WebhookURL, "webhook", "", "URL that receives the notifications of the application's incoming calls")
	fs.StringVar(&certFile, "certificate", "", "PEM file of a certificate whose key may sign client assertions")
	fs.StringVar(&reg.ClientID, "client-id", "", "client id to register, a GUID (default: a new random one)")
	fs.Var(&expires, "secret-expires", "`lifetime` of the client secret, such as 180d or 4320h (default: never expires)")
	fs.BoolVar(&reg.NoSecret, "no-secret", false, "register no client secret (needs --certificate)")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	var missing []string
	for _, f := range []struct{ name, v string }{{"--tenant", reg.TenantID}, {"--name", reg.DisplayName}, {"--roles", roles}} {
		if strings.TrimSpace(f.v) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		fs.Usage()
		return fmt.Errorf("apps create: %s required", strings.Join(missing, ", "))
	}
	reg.Roles = splitList(roles)
	reg.SecretLifetime = time.Duration(expires)
	if certFile != "" {
		b, err := os.ReadFile(certFile)
		if err != nil {
			return fmt.Errorf("apps create: %w", err)
		}
		reg.CertificatePEM = b
	}
	// Check what can be checked before creating a database.
	if err := auth.ValidateRoles(reg.Roles); err != nil {
		return fmt.Errorf("apps create: %w", err)
	}
	return withStore(data, true, stderr, func(ctx context.Context, s store.Store) error {
		a, secret, err := auth.RegisterApp(ctx, s, reg, time.Now())
		if err != nil {
			return fmt.Errorf("apps create: %w", err)
		}
		if asJSON {
			out := appJSON(a)
			out.ClientSecret = secret
			if err := writeJSONOut(stdout, out); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(stdout, "Registered application %q.\n\n", a.DisplayName)
			w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintf(w, "  Client id\t%s\n", a.ClientID)
			fmt.Fprintf(w, "  Tenant\t%s\n", a.TenantID)
			fmt.Fprintf(w, "  Roles\t%s\n", strings.Join(a.Roles, ", "))
			if a.WebhookURL != "" {
				fmt.Fprintf(w, "  Webhook\t%s\n", a.WebhookURL)
			}
			for _, c := range a.Certificates {
				fmt.Fprintf(w, "  Certificate\tx5t#S256 %s\n", c.X5TS256)
			}
			if secret != "" {
				fmt.Fprintf(w, "  Client secret\t%s\n", secret)
				if exp := a.Secrets[0].ExpiresAt; !exp.IsZero() {
					fmt.Fprintf(w, "  Secret expires\t%s\n", exp.Format(time.RFC3339))
				}
			}
			if err := w.Flush(); err != nil {
				return err
			}
		}
		if secret != "" {
			fmt.Fprint(stderr, secretWarning)
		}
		return nil
	})
}

const listHelp = `Usage: switchboard apps list [flags]

Lists the registered applications: client id, tenant, name, roles, and how
many secrets and certificates each has. Secrets themselves cannot be shown;
--json gives each secret's id, hint (first characters) and expiry, and each
certificate's thumbprints.
`

func appsList(args []string, stdout, stderr io.Writer) error {
	var data storeFlags
	var asJSON bool
	fs := appsFlags("list", listHelp, &data, stderr)
	fs.BoolVar(&asJSON, "json", false, "print the applications as a JSON array")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	return withStore(data, false, stderr, func(ctx context.Context, s store.Store) error {
		apps, err := s.ListApps(ctx)
		if err != nil {
			return fmt.Errorf("apps list: %w", err)
		}
		if asJSON {
			out := make([]appOut, 0, len(apps))
			for _, a := range apps {
				out = append(out, appJSON(a))
			}
			return writeJSONOut(stdout, out)
		}
		if len(apps) == 0 {
			fmt.Fprintln(stderr, "No applications registered; add one with 'switchboard apps create'.")
			return nil
		}
		now := time.Now()
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "CLIENT ID\tTENANT\tNAME\tROLES\tSECRETS\tCERTS")
		for _, a := range apps {
			secrets := strconv.Itoa(len(a.Secrets))
			if n := expiredSecrets(a, now); n > 0 {
				secrets += fmt.Sprintf(" (%d expired)", n)
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\n", a.ClientID, a.TenantID, oneLine(a.DisplayName), strings.Join(a.Roles, ","), secrets, len(a.Certificates))
		}
		return w.Flush()
	})
}

const rotateHelp = `Usage: switchboard apps rotate-secret CLIENT_ID [flags]

Issues a new client secret for the application and prints it, once. By
default every other secret of the application stops working at once; with
--keep-old they keep working, so that bots can move to the new secret before
the old ones are revoked with 'switchboard apps revoke-secrets CLIENT_ID'.
`

func appsRotateSecret(args []string, stdout, stderr io.Writer) error {
	var data storeFlags
	var keepOld, asJSON bool
	var expires lifetime
	fs := appsFlags("rotate-secret", rotateHelp, &data, stderr)
	fs.BoolVar(&keepOld, "keep-old", false, "keep the application's other secrets working")
	fs.Var(&expires, "secret-expires", "`lifetime` of the new secret, such as 180d or 4320h (default: never expires)")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	pos, err := parseInterspersed(fs, args, "CLIENT_ID")
	if err != nil {
		return err
	}
	return withStore(data, false, stderr, func(ctx context.Context, s store.Store) error {
		before, err := s.GetApp(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("apps rotate-secret: %w", err)
		}
		secret, sec, err := auth.RotateSecret(ctx, s, before.ClientID, keepOld, time.Duration(expires), time.Now())
		if err != nil {
			return fmt.Errorf("apps rotate-secret: %w", err)
		}
		if asJSON {
			if err := writeJSONOut(stdout, struct {
				ClientID     string    `json:"clientId"`
				TenantID     string    `json:"tenantId"`
				ClientSecret string    `json:"clientSecret"`
				Secret       secretOut `json:"secret"`
			}{before.ClientID, before.TenantID, secret, secretJSON(sec)}); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(stdout, "New client secret for application %q.\n\n", before.DisplayName)
			w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintf(w, "  Client id\t%s\n", before.ClientID)
			fmt.Fprintf(w, "  Tenant\t%s\n", before.TenantID)
			fmt.Fprintf(w, "  Client secret\t%s\n", secret)
			if !sec.ExpiresAt.IsZero() {
				fmt.Fprintf(w, "  Secret expires\t%s\n", sec.ExpiresAt.Format(time.RFC3339))
			}
			if err := w.Flush(); err != nil {
				return err
			}
		}
		if keepOld {
			fmt.Fprintf(stderr, "\nThe application's %d other secret(s) still work; once the bots use the new one, revoke them with\n'switchboard apps revoke-secrets %s'.\n", len(before.Secrets), before.ClientID)
		} else {
			fmt.Fprintf(stderr, "\nThe application's %d other secret(s) no longer work.\n", len(before.Secrets))
		}
		fmt.Fprint(stderr, secretWarning)
		return nil
	})
}

const revokeHelp = `Usage: switchboard apps revoke-secrets CLIENT_ID [flags]

Revokes client secrets of the application: by default every secret but the
newest, which completes a 'rotate-secret --keep-old' once the bots use the
new secret. --except names the secrets to keep instead (ids as 'apps list
--json' shows them); --except none revokes them all.
`

func appsRevokeSecrets(args []string, stdout, stderr io.Writer) error {
	var data storeFlags
	var except string
	fs := appsFlags("revoke-secrets", revokeHelp, &data, stderr)
	fs.StringVar(&except, "except", "", "comma-separated `ids` of the secrets to keep, or none (default: the newest secret)")
	pos, err := parseInterspersed(fs, args, "CLIENT_ID")
	if err != nil {
		return err
	}
	return withStore(data, false, stderr, func(ctx context.Context, s store.Store) error {
		a, err := s.GetApp(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("apps revoke-secrets: %w", err)
		}
		var keep []string
		switch except {
		case "":
			if len(a.Secrets) > 0 {
				newest := slices.MaxFunc(a.Secrets, func(x, y auth.Secret) int { return x.CreatedAt.Compare(y.CreatedAt) })
				keep = []string{newest.ID}
			}
		case "none":
		default:
			keep = splitList(except)
			for _, id := range keep {
				if !slices.ContainsFunc(a.Secrets, func(s auth.Secret) bool { return s.ID == id }) {
					return fmt.Errorf("apps revoke-secrets: the application has no secret %q", id)
				}
			}
		}
		n, err := s.RemoveSecrets(ctx, a.ClientID, keep...)
		if err != nil {
			return fmt.Errorf("apps revoke-secrets: %w", err)
		}
		fmt.Fprintf(stdout, "Revoked %d secret(s) of %s; %d left.\n", n, a.ClientID, len(a.Secrets)-n)
		return nil
	})
}

const addCertHelp = `Usage: switchboard apps add-certificate CLIENT_ID CERT.pem [flags]

Registers a certificate for the application, so that the bot can
authenticate with a client assertion signed by the certificate's private key
(azidentity's ClientCertificateCredential, MSAL's certificate credential)
instead of a secret. The file must hold the certificate (PEM), not the
private key; the key must be RSA of at least 2048 bits. Assertions name the
certificate by its SHA-1 (x5t) or SHA-256 (x5t#S256) thumbprint.
`

func appsAddCertificate(args []string, stdout, stderr io.Writer) error {
	var data storeFlags
	fs := appsFlags("add-certificate", addCertHelp, &data, stderr)
	pos, err := parseInterspersed(fs, args, "CLIENT_ID", "CERT.pem")
	if err != nil {
		return err
	}
	b, err := os.ReadFile(pos[1])
	if err != nil {
		return fmt.Errorf("apps add-certificate: %w", err)
	}
	return withStore(data, false, stderr, func(ctx context.Context, s store.Store) error {
		c, err := auth.RegisterCertificate(ctx, s, pos[0], b, time.Now())
		if err != nil {
			return fmt.Errorf("apps add-certificate: %w", err)
		}
		out := certJSON(c)
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(w, "Registered the certificate for %s.\n\n", pos[0])
		fmt.Fprintf(w, "  Subject\t%s\n", out.Subject)
		fmt.Fprintf(w, "  Expires\t%s\n", out.NotAfter)
		fmt.Fprintf(w, "  x5t\t%s\n", c.X5T)
		fmt.Fprintf(w, "  x5t#S256\t%s\n", c.X5TS256)
		return w.Flush()
	})
}

const deleteHelp = `Usage: switchboard apps delete CLIENT_ID [flags]

Removes the application with its secrets and certificates. It can get no
new token from the next request on; tokens it already has stay valid until
they expire (an hour at most by default).
`

func appsDelete(args []string, stdout, stderr io.Writer) error {
	var data storeFlags
	fs := appsFlags("delete", deleteHelp, &data, stderr)
	pos, err := parseInterspersed(fs, args, "CLIENT_ID")
	if err != nil {
		return err
	}
	return withStore(data, false, stderr, func(ctx context.Context, s store.Store) error {
		if err := s.DeleteApp(ctx, pos[0]); err != nil {
			return fmt.Errorf("apps delete: %w", err)
		}
		fmt.Fprintf(stdout, "Deleted application %s.\n", pos[0])
		return nil
	})
}

// appOut is an application as the JSON output shows it: never a secret's
// hash.
type appOut struct {
	ClientID     string      `json:"clientId"`
	TenantID     string      `json:"tenantId"`
	DisplayName  string      `json:"displayName"`
	Roles        []string    `json:"roles"`
	WebhookURL   string      `json:"webhookUrl,omitempty"`
	CreatedAt    time.Time   `json:"createdAt"`
	ClientSecret string      `json:"clientSecret,omitempty"`
	Secrets      []secretOut `json:"secrets"`
	Certificates []certOut   `json:"certificates"`
}

type secretOut struct {
	ID        string     `json:"id"`
	Hint      string     `json:"hint"`
	CreatedAt time.Time  `json:"createdAt"`
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

type certOut struct {
	X5T       string    `json:"x5t"`
	X5TS256   string    `json:"x5t#S256"`
	Subject   string    `json:"subject,omitempty"`
	NotAfter  string    `json:"notAfter,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

func appJSON(a auth.App) appOut {
	out := appOut{
		ClientID: a.ClientID, TenantID: a.TenantID, DisplayName: a.DisplayName, Roles: a.Roles,
		WebhookURL: a.WebhookURL, CreatedAt: a.CreatedAt,
		Secrets: []secretOut{}, Certificates: []certOut{},
	}
	if out.Roles == nil {
		out.Roles = []string{}
	}
	for _, s := range a.Secrets {
		out.Secrets = append(out.Secrets, secretJSON(s))
	}
	for _, c := range a.Certificates {
		out.Certificates = append(out.Certificates, certJSON(c))
	}
	return out
}

func secretJSON(s auth.Secret) secretOut {
	out := secretOut{ID: s.ID, Hint: s.Hint, CreatedAt: s.CreatedAt}
	if !s.ExpiresAt.IsZero() {
		out.ExpiresAt = &s.ExpiresAt
	}
	return out
}

func certJSON(c auth.Certificate) certOut {
	out := certOut{X5T: c.X5T, X5TS256: c.X5TS256, CreatedAt: c.CreatedAt}
	if b, _ := pem.Decode(c.PEM); b != nil {
		if cert, err := x509.ParseCertificate(b.Bytes); err == nil {
			out.Subject = cert.Subject.String()
			out.NotAfter = cert.NotAfter.UTC().Format(time.RFC3339)
		}
	}
	return out
}

func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func expiredSecrets(a auth.App, now time.Time) int {
	n := 0
	for _, s := range a.Secrets {
		if s.Expired(now) {
			n++
		}
	}
	return n
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// oneLine keeps a display name on one table row.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
