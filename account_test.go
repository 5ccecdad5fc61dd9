package canceldesk_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/canceldesk/canceldesk"
)

func TestPasswordHash(t *testing.T) {
	const password = "correct horse battery staple"
	hash, err := canceldesk.HashPassword(password)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("IsArgon2idPHCWithOWASPParameters", func(t *testing.T) {
		parts := strings.Split(hash, "$")
		if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=19456,t=2,p=1" {
			t.Fatalf("hash = %q, want $argon2id$v=19$m=19456,t=2,p=1$salt$key", hash)
		}
		salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
		key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
		if err1 != nil || err2 != nil || len(salt) != 16 || len(key) != 32 {
			t.Errorf("salt %d bytes (%v), key %d bytes (%v); want 16 and 32 in unpadded base64", len(salt), err1, len(key), err2)
		}
	})

	t.Run("RightPasswordMatches", func(t *testing.T) {
		if !canceldesk.CheckPassword(hash, password) {
			t.Error("CheckPassword(hash, right password) = false")
		}
	})

	t.Run("WrongPasswordDoesNotMatch", func(t *testing.T) {
		for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", password + " "} {
			if canceldesk.CheckPassword(hash, wrong) {
				t.Errorf("CheckPassword(hash, %q) = true", wrong)
			}
		}
	})

	t.Run("TwoHashesOfOnePasswordDiffer", func(t *testing.T) {
		again, err := canceldesk.HashPassword(password)
		if err != nil {
			t.Fatal(err)
		}
		if again == hash {
			t.Errorf("two hashes are both %q: the salt is not random", hash)
		}
		if !canceldesk.CheckPassword(again, password) {
			t.Error("the second hash does not match")
		}
	})

	t.Run("TamperedHashDoesNotMatch", func(t *testing.T) {
		parts := strings.Split(hash, "$")
		flip := func(s string) string {
			b := []byte(s)
			if b[3] == 'A' {
				b[3] = 'B'
			} else {
				b[3] = 'A'
			}
			return string(b)
		}
		for name, tampered := range map[string]string{
			"key":    strings.Join(append(parts[:5:5], flip(parts[5])), "$"),
			"salt":   strings.Join([]string{"", parts[1], parts[2], parts[3], flip(parts[4]), parts[5]}, "$"),
			"memory": strings.Replace(hash, "m=19456", "m=19457", 1),
			"passes": strings.Replace(hash, "t=2", "t=3", 1),
		} {
			if tampered == hash {
				t.Fatalf("%s: tampering changed nothing", name)
			}
			if canceldesk.CheckPassword(tampered, password) {
				t.Errorf("tampered %s: CheckPassword = true for %q", name, tampered)
			}
		}
	})

	t.Run("MalformedHashNeverMatches", func(t *testing.T) {
		salt := base64.RawStdEncoding.EncodeToString([]byte("0123456789abcdef"))
		key := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
		for _, bad := range []string{
			"",
			password,
			"$argon2id$",
			"$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
			"$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
			"$argon2id$v=19$m=19456,t=2$" + salt + "$" + key,
			"$argon2id$v=19$m=19456,t=2,p=1,x=1$" + salt + "$" + key,
			"$argon2id$v=19$m=19456,m=19456,t=2$" + salt + "$" + key,
			"$argon2id$v=19$m=x,t=2,p=1$" + salt + "$" + key,
			"$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key, // would allocate 4 TiB
			"$argon2id$v=19$m=19456,t=100000,p=1$" + salt + "$" + key,
			"$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
			"$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
			"$argon2id$v=19$m=19456,t=2,p=1$$" + key,
			"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$",
			"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "==",
			"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$!!!!",
			"x$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
			"$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key + "$",
		} {
			start := time.Now()
			if canceldesk.CheckPassword(bad, password) {
				t.Errorf("CheckPassword(%q) = true", bad)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("CheckPassword(%q) took %v", bad, d)
			}
		}
	})
}

func TestValidatePassword(t *testing.T) {
	for _, tc := range []struct {
		name, password, key string
	}{
		{"ElevenCharactersAreShort", "abcdefghijk", "validation.password_short"},
		{"EmptyIsShort", "", "validation.password_short"},
		{"TwelveCharactersAreEnough", "abcdefghijkl", ""},
		{"CharactersNotBytesCount", "密碼密碼密碼密碼密碼密", "validation.password_short"}, // 11 runes, 33 bytes
		{"TwelveWideCharactersAreEnough", "密碼密碼密碼密碼密碼密碼", ""},
		{"SpacesCount", "            ", ""},
		{"256BytesAreFine", strings.Repeat("x", 256), ""},
		{"257BytesAreLong", strings.Repeat("x", 257), "validation.password_long"},
		{"LongInBytesNotCharacters", strings.Repeat("密", 86), "validation.password_long"}, // 86 runes, 258 bytes
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := canceldesk.ValidatePassword(tc.password)
			if tc.key == "" {
				if err != nil {
					t.Fatalf("ValidatePassword = %v, want nil", err)
				}
				return
			}
			var de *canceldesk.Error
			if !errors.As(err, &de) || de.Code != canceldesk.EINVALID || de.Field != "password" || de.Key != tc.key || de.Message == "" {
				t.Fatalf("ValidatePassword = %#v, want EINVALID on password with key %s", err, tc.key)
			}
		})
	}
}

func TestValidateAccount(t *testing.T) {
	valid := func() canceldesk.Account {
		return canceldesk.Account{Name: "Ann Lee", Email: "ann@example.com", Role: canceldesk.RoleStaff}
	}
	for _, tc := range []struct {
		name       string
		mod        func(*canceldesk.Account)
		field, key string
	}{
		{"ValidPasses", func(a *canceldesk.Account) {}, "", ""},
		{"EveryRolePasses", func(a *canceldesk.Account) { a.Role = canceldesk.RoleOwner }, "", ""},
		{"HundredCharacterNamePasses", func(a *canceldesk.Account) { a.Name = strings.Repeat("名", 100) }, "", ""},
		{"SubdomainEmailPasses", func(a *canceldesk.Account) { a.Email = "a.b+c@mail.example.co.uk" }, "", ""},
		{"EmptyNameIsRequired", func(a *canceldesk.Account) { a.Name = "" }, "name", "validation.name_required"},
		{"BlankNameIsRequired", func(a *canceldesk.Account) { a.Name = " \t " }, "name", "validation.name_required"},
		{"LongNameIsRefused", func(a *canceldesk.Account) { a.Name = strings.Repeat("名", 101) }, "name", "validation.name_long"},
		{"EmptyEmail", func(a *canceldesk.Account) { a.Email = "" }, "email", "validation.email"},
		{"EmailWithoutAt", func(a *canceldesk.Account) { a.Email = "ann.example.com" }, "email", "validation.email"},
		{"EmailWithTwoAts", func(a *canceldesk.Account) { a.Email = "ann@lee@example.com" }, "email", "validation.email"},
		{"EmailWithoutLocalPart", func(a *canceldesk.Account) { a.Email = "@example.com" }, "email", "validation.email"},
		{"EmailWithoutDomain", func(a *canceldesk.Account) { a.Email = "ann@" }, "email", "validation.email"},
		{"EmailDomainWithoutDot", func(a *canceldesk.Account) { a.Email = "ann@localhost" }, "email", "validation.email"},
		{"EmailDomainEndingInDot", func(a *canceldesk.Account) { a.Email = "ann@example." }, "email", "validation.email"},
		{"EmailWithSpace", func(a *canceldesk.Account) { a.Email = "ann lee@example.com" }, "email", "validation.email"},
		{"EmailOver254Bytes", func(a *canceldesk.Account) { a.Email = strings.Repeat("a", 243) + "@example.com" }, "email", "validation.email"},
		{"UnknownRole", func(a *canceldesk.Account) { a.Role = "admin" }, "role", "validation.role"},
		{"EmptyRole", func(a *canceldesk.Account) { a.Role = "" }, "role", "validation.role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := valid()
			tc.mod(&a)
			err := canceldesk.ValidateAccount(&a)
			if tc.key == "" {
				if err != nil {
					t.Fatalf("ValidateAccount(%+v) = %v, want nil", a, err)
				}
				return
			}
			var de *canceldesk.Error
			if !errors.As(err, &de) || de.Code != canceldesk.EINVALID || de.Field != tc.field || de.Key != tc.key || de.Message == "" {
				t.Fatalf("ValidateAccount = %#v, want EINVALID on %s with key %s", err, tc.field, tc.key)
			}
		})
	}

	t.Run("NormalizesInPlace", func(t *testing.T) {
		a := canceldesk.Account{Name: "  Ann Lee ", Email: " Ann@Example.COM\n", Role: canceldesk.RoleManager}
		if err := canceldesk.ValidateAccount(&a); err != nil {
			t.Fatal(err)
		}
		if a.Name != "Ann Lee" || a.Email != "ann@example.com" {
			t.Errorf("after ValidateAccount: name %q, email %q", a.Name, a.Email)
		}
	})

	t.Run("EmailAt254BytesPasses", func(t *testing.T) {
		a := valid()
		a.Email = strings.Repeat("a", 242) + "@example.com"
		if len(a.Email) != 254 {
			t.Fatalf("test email is %d bytes", len(a.Email))
		}
		if err := canceldesk.ValidateAccount(&a); err != nil {
			t.Fatal(err)
		}
	})
}

func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"ann@example.com":        "ann@example.com",
		"  Ann@Example.COM \t\n": "ann@example.com",
		"":                       "",
	} {
		if got := canceldesk.NormalizeEmail(in); got != want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRole(t *testing.T) {
	staff, manager, owner := canceldesk.RoleStaff, canceldesk.RoleManager, canceldesk.RoleOwner
	for _, tc := range []struct {
		role, min canceldesk.Role
		want      bool
	}{
		{staff, staff, true},
		{staff, manager, false},
		{staff, owner, false},
		{manager, staff, true},
		{manager, manager, true},
		{manager, owner, false},
		{owner, staff, true},
		{owner, manager, true},
		{owner, owner, true},
		{"", staff, false},
		{"admin", staff, false},
		{"Owner", staff, false},
		{owner, "", false},
		{owner, "admin", false},
	} {
		if got := tc.role.AtLeast(tc.min); got != tc.want {
			t.Errorf("Role(%q).AtLeast(%q) = %v, want %v", tc.role, tc.min, got, tc.want)
		}
	}
	for _, r := range canceldesk.Roles {
		if !r.Valid() {
			t.Errorf("%q is not Valid", r)
		}
	}
	for _, r := range []canceldesk.Role{"", "admin", "OWNER"} {
		if r.Valid() {
			t.Errorf("%q is Valid", r)
		}
	}
}

func TestAccountActive(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name string
		a    canceldesk.Account
		want bool
	}{
		{"WithPassword", canceldesk.Account{PasswordHash: "h"}, true},
		{"InvitationPending", canceldesk.Account{}, false},
		{"Disabled", canceldesk.Account{PasswordHash: "h", DisabledAt: &now}, false},
	} {
		if got := tc.a.Active(); got != tc.want {
			t.Errorf("%s: Active() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestToken(t *testing.T) {
	token, hash, err := canceldesk.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 32 {
		t.Errorf("token %q decodes to %d bytes (%v), want 32 bytes of unpadded URL base64", token, len(raw), err)
	}
	if string(hash) != string(canceldesk.HashToken(token)) || len(hash) != 32 {
		t.Errorf("hash = %x, want HashToken(token) = %x", hash, canceldesk.HashToken(token))
	}
	if string(canceldesk.HashToken(token+"x")) == string(hash) {
		t.Error("different tokens hash alike")
	}
	other, _, _ := canceldesk.NewToken()
	if other == token {
		t.Error("two tokens are equal")
	}
}
