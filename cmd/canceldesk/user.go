package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// stdin is where "user add" reads the password; tests replace it.
var stdin io.Reader = os.Stdin

const userUsage = `usage:
  canceldesk user add -email E -name N -role owner|manager|staff [flags]
      reads the password from the terminal (asked twice), or the first line of stdin
  canceldesk user disable -email E [flags]
  canceldesk user enable -email E [flags]
  canceldesk user role -email E -role owner|manager|staff [flags]
  canceldesk user list [flags]`

// userCommand manages staff accounts from the shell; it is how the first
// owner is made on a fresh install.
func userCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return plainError(userCommandErr(ctx, args, stdout, stderr))
}

func userCommandErr(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		fmt.Fprintln(stderr, userUsage)
		return errUsage
	}
	action, args := args[0], args[1:]
	var (
		cfg               config
		email, name, role string
	)
	fs := flag.NewFlagSet("user "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.flags(fs)
	switch action {
	case "add":
		fs.StringVar(&email, "email", "", "the member's email, used to sign in")
		fs.StringVar(&name, "name", "", "the member's name")
		fs.StringVar(&role, "role", string(canceldesk.RoleStaff), "owner, manager or staff")
	case "disable", "enable":
		fs.StringVar(&email, "email", "", "the member's email")
	case "role":
		fs.StringVar(&email, "email", "", "the member's email")
		fs.StringVar(&role, "role", "", "owner, manager or staff")
	case "list":
	case "help":
		fmt.Fprintln(stdout, userUsage)
		return nil
	default:
		fmt.Fprintln(stderr, userUsage)
		return fmt.Errorf("unknown user command %q (try: add, disable, enable, role, list)", action)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, userUsage)
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if action != "list" && strings.TrimSpace(email) == "" {
		fmt.Fprintln(stderr, userUsage)
		return errors.New("-email is required")
	}

	// Everything that can be checked without the database is checked
	// before the password is asked for.
	var acct *canceldesk.Account
	switch action {
	case "add":
		acct = &canceldesk.Account{Name: name, Email: email, Role: canceldesk.Role(role)}
		if err := canceldesk.ValidateAccount(acct); err != nil {
			return err
		}
		password, err := readPassword(stderr)
		if err != nil {
			return err
		}
		if err := canceldesk.ValidatePassword(password); err != nil {
			return err
		}
		if acct.PasswordHash, err = canceldesk.HashPassword(password); err != nil {
			return err
		}
	case "role":
		if !canceldesk.Role(role).Valid() {
			return fmt.Errorf("-role must be owner, manager or staff, not %q", role)
		}
	}

	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch action {
	case "add":
		if err := db.CreateAccount(ctx, acct); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added %s %s\n", acct.Role, acct.Email)
	case "disable", "enable":
		a, err := updateUser(ctx, db, email, func(a *canceldesk.Account) (canceldesk.Role, bool) {
			return a.Role, action == "disable"
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%sd %s\n", action, a.Email)
	case "role":
		a, err := updateUser(ctx, db, email, func(a *canceldesk.Account) (canceldesk.Role, bool) {
			return canceldesk.Role(role), a.DisabledAt != nil
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s is now %s\n", a.Email, a.Role)
	case "list":
		return listUsers(ctx, db, stdout)
	}
	return nil
}

// plainError shows a domain error as its message alone ("Use at least 12
// characters.") rather than with its code; errors.As still finds it.
func plainError(err error) error {
	var de *canceldesk.Error
	if errors.As(err, &de) {
		return messageError{de}
	}
	return err
}

type messageError struct{ err *canceldesk.Error }

func (e messageError) Error() string {
	if e.err.Field == "password" {
		return "password: " + e.err.Message
	}
	if e.err.Field != "" {
		return "-" + e.err.Field + ": " + e.err.Message
	}
	return e.err.Message
}

func (e messageError) Unwrap() error { return e.err }

// updateUser looks the account up by email and applies the role and
// disabled state that change computes from it.
func updateUser(ctx context.Context, db *store.DB, email string, change func(*canceldesk.Account) (canceldesk.Role, bool)) (*canceldesk.Account, error) {
	a, err := db.AccountByEmail(ctx, email)
	if canceldesk.ErrorCode(err) == canceldesk.ENOTFOUND {
		return nil, fmt.Errorf("no account with email %s", canceldesk.NormalizeEmail(email))
	} else if err != nil {
		return nil, err
	}
	role, disabled := change(a)
	return db.UpdateAccount(ctx, a.ID, role, disabled)
}

func listUsers(ctx context.Context, db *store.DB, stdout io.Writer) error {
	accts, err := db.Accounts(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSTATUS")
	for _, a := range accts {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.Email, a.Name, a.Role, accountStatus(&a))
	}
	return tw.Flush()
}

// accountStatus is the list's word for the state of a.
func accountStatus(a *canceldesk.Account) string {
	switch {
	case a.DisabledAt != nil:
		return "disabled"
	case a.PasswordHash == "":
		return "invited"
	default:
		return "active"
	}
}

// readPassword asks for the password twice without echo when stdin is a
// terminal; otherwise it reads the first line of stdin. A password is
// never a flag: flags end up in shell history and process listings.
func readPassword(prompt io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fd := int(f.Fd())
		fmt.Fprint(prompt, "Password (at least 12 characters): ")
		first, err := term.ReadPassword(fd)
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		fmt.Fprint(prompt, "Repeat the password: ")
		second, err := term.ReadPassword(fd)
		fmt.Fprintln(prompt)
		if err != nil {
			return "", fmt.Errorf("reading the password: %w", err)
		}
		if string(first) != string(second) {
			return "", errors.New("the two passwords are not the same")
		}
		return string(first), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading the password from stdin: %w", err)
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return "", errors.New("no password: type it at the prompt or give it as the first line of stdin")
	}
	return line, nil
}
