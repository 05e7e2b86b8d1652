package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard-dev/switchboard/internal/phones"
	"github.com/switchboard-dev/switchboard/internal/store"
)

const sipAccountsUsage = `Usage: switchboard sip-accounts <command> [arguments] [flags]

Manages the SIP accounts of phones that register with Switchboard (REGISTER
with digest authentication), in the server's store (the SQLite database of
a data directory, or the PostgreSQL database --store names). Each account is
bound to a Graph identity: a user (calls to that user ring the phone, and the
phone calls as that user) or a phone number. A running server sees every
change at once.

Commands:
  create   create an account; prints its password once unless given one
  list     list the accounts
  delete   remove an account (its phones can no longer register or call)

Run 'switchboard sip-accounts <command> --help' for a command's flags. Every
command takes --data (env SWITCHBOARD_DATA), the server's data directory,
and --store (env SWITCHBOARD_STORE), the server's --store.

Accounts of the --config file (sip.accounts) are not listed or changed here,
and win over a stored account of the same username. See docs/sip.md.
`

// sipAccountsCmd runs `switchboard sip-accounts ...`.
func sipAccountsCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, sipAccountsUsage)
		return errors.New("sip-accounts: no command given")
	}
	cmds := map[string]func([]string, io.Reader, io.Writer, io.Writer) error{
		"create": sipAccountsCreate,
		"list":   sipAccountsList,
		"delete": sipAccountsDelete,
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			return sipAccountsCmd([]string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stderr, sipAccountsUsage)
		return flag.ErrHelp
	default:
		run, ok := cmds[cmd]
		if !ok {
			fmt.Fprint(stderr, sipAccountsUsage)
			return fmt.Errorf("sip-accounts: unknown command %q", cmd)
		}
		return run(rest, stdin, stdout, stderr)
	}
}

// stdin is where --password-stdin reads; tests replace it.
var stdin io.Reader = os.Stdin

const sipCreateHelp = `Usage: switchboard sip-accounts create --username U (--user ID | --phone +E164) [flags]

Creates a SIP account bound to a Graph user (--user, with --display-name)
or to a phone number (--phone, E.164). The password comes from the first
line of standard input with --password-stdin; otherwise a random one is
generated and printed, once. Switchboard keeps only its digest hashes (HA1:
MD5 and SHA-256 of username:realm:password), so it cannot be shown again.

--realm must be the server's sip.realm (default switchboard): the hashes
are made for it.

The phone then registers as sip:<username>@<server's SIP address> with the
username and password, and reaches bots by calling their client id.

Examples:
  switchboard sip-accounts create --username bob --user 8f0e...a1 --display-name "Bob"
  printf 'secret\n' | switchboard sip-accounts create --username desk --phone +15551234567 --password-stdin
`

func sipAccountsCreate(args []string, in io.Reader, stdout, stderr io.Writer) error {
	var data storeFlags
	var a phones.StoredAccount
	var fromStdin bool
	fs := appsFlags("create", sipCreateHelp, &data, stderr)
	fs.Init("sip-accounts create", flag.ContinueOnError)
	fs.StringVar(&a.Username, "username", "", "SIP username the phone registers with (required)")
	fs.StringVar(&a.User, "user", "", "Graph user id the account is bound to")
	fs.StringVar(&a.DisplayName, "display-name", "", "display name of the user, shown to bots as the caller")
	fs.StringVar(&a.Phone, "phone", "", "E.164 phone number the account is bound to, such as +15551234567")
	fs.StringVar(&a.Tenant, "tenant", "", "tenant of the identity (default: any)")
	fs.StringVar(&a.Realm, "realm", phones.DefaultRealm, "digest realm: the server's sip.realm")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of standard input")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	password, generated := "", false
	if fromStdin {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("sip-accounts create: read the password: %w", err)
		}
		if password = strings.TrimRight(line, "\r\n"); password == "" {
			return errors.New("sip-accounts create: --password-stdin: standard input has no password")
		}
	} else {
		b := make([]byte, 20)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		password, generated = strings.ToLower(base32.StdEncoding.EncodeToString(b)), true
	}
	// The same checks as a configured account, in development mode so that
	// the password is hashed.
	cfg := phones.Config{Realm: a.Realm, Accounts: []phones.Account{a.Account}}
	cfg.Accounts[0].Password = password
	if err := cfg.Validate(true); err != nil {
		fs.Usage()
		return fmt.Errorf("sip-accounts create: %s", strings.ReplaceAll(err.Error(), "sip.accounts[0].", "--"))
	}
	a.Account = cfg.Accounts[0]
	a.CreatedAt = time.Now().UTC()
	return withStore(data, true, stderr, func(ctx context.Context, s store.Store) error {
		if err := s.CreateSIPAccount(ctx, a); err != nil {
			return fmt.Errorf("sip-accounts create: %w", err)
		}
		fmt.Fprintf(stdout, "Created SIP account %q.\n\n", a.Username)
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(w, "  Username\t%s\n", a.Username)
		fmt.Fprintf(w, "  Bound to\t%s\n", describeIdentity(a.Account))
		fmt.Fprintf(w, "  Realm\t%s\n", a.Realm)
		if generated {
			fmt.Fprintf(w, "  Password\t%s\n", password)
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if generated {
			fmt.Fprint(stderr, "\nThe password is shown this once: Switchboard keeps only its hashes. Put it in\nthe phone now; if it is lost, delete the account and create it again.\n")
		}
		return nil
	})
}

const sipListHelp = `Usage: switchboard sip-accounts list [flags]

Lists the stored SIP accounts: username, the identity each is bound to,
tenant, realm and creation time. Passwords cannot be shown.
`

func sipAccountsList(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	var data storeFlags
	var asJSON bool
	fs := appsFlags("list", sipListHelp, &data, stderr)
	fs.Init("sip-accounts list", flag.ContinueOnError)
	fs.BoolVar(&asJSON, "json", false, "print the accounts as a JSON array")
	if _, err := parseInterspersed(fs, args); err != nil {
		return err
	}
	return withStore(data, false, stderr, func(ctx context.Context, s store.Store) error {
		as, err := s.ListSIPAccounts(ctx)
		if err != nil {
			return fmt.Errorf("sip-accounts list: %w", err)
		}
		if asJSON {
			type accountOut struct {
				Username    string    `json:"username"`
				User        string    `json:"user,omitempty"`
				DisplayName string    `json:"displayName,omitempty"`
				Phone       string    `json:"phone,omitempty"`
				Tenant      string    `json:"tenant,omitempty"`
				Realm       string    `json:"realm"`
				CreatedAt   time.Time `json:"createdAt"`
			}
			out := make([]accountOut, 0, len(as))
			for _, a := range as {
				out = append(out, accountOut{a.Username, a.User, a.DisplayName, a.Phone, a.Tenant, a.Realm, a.CreatedAt})
			}
			return writeJSONOut(stdout, out)
		}
		if len(as) == 0 {
			fmt.Fprintln(stderr, "No SIP accounts; add one with 'switchboard sip-accounts create'.")
			return nil
		}
		w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(w, "USERNAME\tBOUND TO\tTENANT\tREALM\tCREATED")
		for _, a := range as {
			tenant := a.Tenant
			if tenant == "" {
				tenant = "(any)"
			}
			fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.Username, describeIdentity(a.Account), tenant, a.Realm, a.CreatedAt.Format(time.RFC3339))
		}
		return w.Flush()
	})
}

const sipDeleteHelp = `Usage: switchboard sip-accounts delete USERNAME [flags]

Removes the SIP account. Its phones can no longer register or be
authenticated from the next request on; a registration they made already
routes calls until it expires (an hour at most).
`

func sipAccountsDelete(args []string, _ io.Reader, stdout, stderr io.Writer) error {
	var data storeFlags
	fs := appsFlags("delete", sipDeleteHelp, &data, stderr)
	fs.Init("sip-accounts delete", flag.ContinueOnError)
	pos, err := parseInterspersed(fs, args, "USERNAME")
	if err != nil {
		return err
	}
	return withStore(data, false, stderr, func(ctx context.Context, s store.Store) error {
		if err := s.DeleteSIPAccount(ctx, pos[0]); err != nil {
			return fmt.Errorf("sip-accounts delete: %w", err)
		}
		fmt.Fprintf(stdout, "Deleted SIP account %s.\n", pos[0])
		return nil
	})
}

// describeIdentity names the identity an account is bound to.
func describeIdentity(a phones.Account) string {
	if a.Phone != "" {
		return "phone " + a.Phone
	}
	if a.DisplayName != "" {
		return fmt.Sprintf("user %s (%s)", a.User, oneLine(a.DisplayName))
	}
	return "user " + a.User
}
