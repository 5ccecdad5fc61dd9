package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/canceldesk/canceldesk"
	"github.com/canceldesk/canceldesk/store"
)

// userRun runs "canceldesk user ARGS -db DB" with input on stdin and
// returns stdout, stderr and the error.
func userRun(t *testing.T, db, input string, args ...string) (string, string, error) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(input)
	defer func() { stdin = old }()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append(append([]string{"user"}, args...), "-db", db), &out, &errOut)
	return out.String(), errOut.String(), err
}

// userOK is userRun that fails the test on an error and returns stdout.
func userOK(t *testing.T, db, input string, args ...string) string {
	t.Helper()
	out, errOut, err := userRun(t, db, input, args...)
	if err != nil {
		t.Fatalf("user %s: %v (stderr %q)", strings.Join(args, " "), err, errOut)
	}
	return out
}

// listRows returns "user list" as rows of fields, without the header.
func listRows(t *testing.T, db string) [][]string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(userOK(t, db, "", "list")), "\n")
	if got := strings.Fields(lines[0]); strings.Join(got, " ") != "EMAIL NAME ROLE STATUS" {
		t.Fatalf("list header = %q", lines[0])
	}
	var rows [][]string
	for _, l := range lines[1:] {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

func openDB(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

const ownerPassword = "tea and biscuits at four"

func TestUserCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cd.db")

	t.Run("AddOwnerReadsThePasswordFromStdin", func(t *testing.T) {
		out := userOK(t, db, ownerPassword+"\nignored second line\n", "add", "-email", " Ann@Example.com ", "-name", "Ann", "-role", "owner")
		if want := "added owner ann@example.com\n"; out != want {
			t.Errorf("stdout = %q, want %q", out, want)
		}
		a, err := openDB(t, db).AccountByEmail(context.Background(), "ann@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if a.Role != canceldesk.RoleOwner || !a.Active() || !canceldesk.CheckPassword(a.PasswordHash, ownerPassword) {
			t.Errorf("stored account %+v: want an active owner whose password is the first stdin line", a)
		}
	})

	t.Run("CRLFAndNoFinalNewlineAreFine", func(t *testing.T) {
		userOK(t, db, "windows password 123\r\n", "add", "-email", "win@example.com", "-name", "Win", "-role", "staff")
		userOK(t, db, "no newline password", "add", "-email", "nonl@example.com", "-name", "Nonl", "-role", "staff")
		st := openDB(t, db)
		for email, pw := range map[string]string{"win@example.com": "windows password 123", "nonl@example.com": "no newline password"} {
			a, err := st.AccountByEmail(context.Background(), email)
			if err != nil || !canceldesk.CheckPassword(a.PasswordHash, pw) {
				t.Errorf("%s: %v; password %q does not match", email, err, pw)
			}
		}
	})

	t.Run("ListShowsEveryAccount", func(t *testing.T) {
		rows := listRows(t, db)
		want := [][]string{
			{"ann@example.com", "Ann", "owner", "active"},
			{"nonl@example.com", "Nonl", "staff", "active"},
			{"win@example.com", "Win", "staff", "active"},
		}
		if len(rows) != len(want) {
			t.Fatalf("list rows = %q, want %q", rows, want)
		}
		for i := range want {
			if strings.Join(rows[i], " ") != strings.Join(want[i], " ") {
				t.Errorf("row %d = %q, want %q", i, rows[i], want[i])
			}
		}
	})

	t.Run("ShortPasswordAddsNothing", func(t *testing.T) {
		_, _, err := userRun(t, db, "short\n", "add", "-email", "bob@example.com", "-name", "Bob", "-role", "staff")
		if err == nil || !strings.Contains(err.Error(), "12 characters") || canceldesk.ErrorCode(err) != canceldesk.EINVALID {
			t.Errorf("err = %v, want the password-length error", err)
		}
		if len(listRows(t, db)) != 3 {
			t.Errorf("an account was added with a short password")
		}
	})

	t.Run("NoPasswordAddsNothing", func(t *testing.T) {
		_, _, err := userRun(t, db, "", "add", "-email", "bob@example.com", "-name", "Bob", "-role", "staff")
		if err == nil || !strings.Contains(err.Error(), "no password") {
			t.Errorf("err = %v, want a missing-password error", err)
		}
	})

	t.Run("InvalidAccountAddsNothing", func(t *testing.T) {
		for _, args := range [][]string{
			{"-email", "bob@example.com", "-name", "Bob", "-role", "admin"},
			{"-email", "bob", "-name", "Bob", "-role", "staff"},
			{"-email", "bob@example.com", "-name", " ", "-role", "staff"},
			{"-name", "Bob", "-role", "staff"},
		} {
			if _, _, err := userRun(t, db, ownerPassword+"\n", append([]string{"add"}, args...)...); err == nil {
				t.Errorf("user add %q succeeded", args)
			}
		}
		if len(listRows(t, db)) != 3 {
			t.Errorf("an invalid account was added")
		}
	})

	t.Run("DuplicateEmailIsRefused", func(t *testing.T) {
		_, _, err := userRun(t, db, ownerPassword+"\n", "add", "-email", "ANN@example.com", "-name", "Ann Two", "-role", "staff")
		if canceldesk.ErrorCode(err) != canceldesk.ECONFLICT || !strings.Contains(err.Error(), "exists already") {
			t.Errorf("err = %v, want the email-taken conflict", err)
		}
	})

	t.Run("LastOwnerCannotBeDisabledOrDemoted", func(t *testing.T) {
		for _, args := range [][]string{{"disable", "-email", "ann@example.com"}, {"role", "-email", "ann@example.com", "-role", "manager"}} {
			_, _, err := userRun(t, db, "", args...)
			if canceldesk.ErrorCode(err) != canceldesk.ECONFLICT || !strings.Contains(err.Error(), "active owner") {
				t.Errorf("user %q: err = %v, want the last-owner refusal", args, err)
			}
		}
		if rows := listRows(t, db); strings.Join(rows[0], " ") != "ann@example.com Ann owner active" {
			t.Errorf("the refused changes changed the owner: %q", rows[0])
		}
	})

	t.Run("DisableEnableAndRole", func(t *testing.T) {
		if out := userOK(t, db, "", "disable", "-email", "WIN@example.com"); out != "disabled win@example.com\n" {
			t.Errorf("disable: stdout = %q", out)
		}
		if out := userOK(t, db, "", "role", "-email", "win@example.com", "-role", "manager"); out != "win@example.com is now manager\n" {
			t.Errorf("role: stdout = %q", out)
		}
		if row := listRows(t, db)[2]; strings.Join(row, " ") != "win@example.com Win manager disabled" {
			t.Errorf("after disable and role: %q", row)
		}
		if out := userOK(t, db, "", "enable", "-email", "win@example.com"); out != "enabled win@example.com\n" {
			t.Errorf("enable: stdout = %q", out)
		}
		if row := listRows(t, db)[2]; strings.Join(row, " ") != "win@example.com Win manager active" {
			t.Errorf("after enable: %q", row)
		}
	})

	t.Run("SecondOwnerLetsTheFirstStepDown", func(t *testing.T) {
		userOK(t, db, "", "role", "-email", "win@example.com", "-role", "owner")
		userOK(t, db, "", "role", "-email", "ann@example.com", "-role", "manager")
		if row := listRows(t, db)[0]; strings.Join(row, " ") != "ann@example.com Ann manager active" {
			t.Errorf("after stepping down: %q", row)
		}
	})

	t.Run("UnknownEmailAndBadInput", func(t *testing.T) {
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"disable", "-email", "nobody@example.com"}, "no account"},
			{[]string{"role", "-email", "win@example.com", "-role", "admin"}, "-role"},
			{[]string{"enable"}, "-email"},
			{[]string{"frobnicate"}, "unknown user command"},
			{[]string{"list", "extra"}, "unexpected"},
		} {
			_, _, err := userRun(t, db, "", tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("user %q: err = %v, want one mentioning %q", tc.args, err, tc.want)
			}
		}
	})

	t.Run("NoSubcommandPrintsUsage", func(t *testing.T) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), []string{"user"}, &out, &errOut)
		if err == nil || !strings.Contains(errOut.String(), "canceldesk user add") {
			t.Errorf("err = %v, stderr = %q; want usage", err, errOut.String())
		}
	})
}
