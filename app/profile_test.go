// Tests of profiles and remembered passwords, without a server: settings
// round-trip and atomic writes, the stable resource, fingerprint pinning,
// the keyring (go-keyring's mock) and the password-file fallback.
package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zalando/go-keyring"
)

func TestProfileRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "alice@example.org")
	p, err := OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o700 {
		t.Errorf("profile folder mode %v, want 0700", info.Mode().Perm())
	}
	res := p.Settings().Resource
	if !strings.HasPrefix(res, "parley-") || len(res) != len("parley-")+8 {
		t.Fatalf("resource %q, want parley-XXXXXXXX", res)
	}
	want := AccountSettings{
		JID: "alice@example.org", Host: "xmpp.example.org", Port: 5223, DirectTLS: true,
		RememberPassword: true, PasswordStore: PasswordInFile, CAFile: "/etc/ssl/private-ca.pem",
	}
	if err := p.Update(func(s *AccountSettings) {
		resource := s.Resource
		*s = want
		s.Resource = resource
	}); err != nil {
		t.Fatal(err)
	}

	again, err := OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := again.Settings()
	want.Resource = res
	want.Version = settingsVersion
	if got.JID != want.JID || got.Host != want.Host || got.Port != want.Port || got.DirectTLS != want.DirectTLS ||
		got.RememberPassword != want.RememberPassword || got.PasswordStore != want.PasswordStore ||
		got.CAFile != want.CAFile || got.Resource != want.Resource || got.Version != want.Version {
		t.Errorf("reopened settings\n got %+v\nwant %+v", got, want)
	}
	if again.CAFilePath() != want.CAFile {
		t.Errorf("CAFilePath %q", again.CAFilePath())
	}

	// Atomic writes leave only the settings file (no temporary files), 0600.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != SettingsFile {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("profile folder holds %v, want only %s", names, SettingsFile)
	}
	if fi, _ := os.Stat(filepath.Join(dir, SettingsFile)); fi.Mode().Perm() != 0o600 {
		t.Errorf("settings mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestProfileRelativeCAFile(t *testing.T) {
	p, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Update(func(s *AccountSettings) { s.CAFile = "ca.crt" }); err != nil {
		t.Fatal(err)
	}
	if got, want := p.CAFilePath(), filepath.Join(p.Dir(), "ca.crt"); got != want {
		t.Errorf("CAFilePath %q, want %q", got, want)
	}
}

func TestProfileDamagedSettings(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, SettingsFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenProfile(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("OpenProfile on damaged settings: %v", err)
	}
}

func TestPinFingerprintPersisted(t *testing.T) {
	dir := t.TempDir()
	p, err := OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	const fp = "AB:CD:EF:01:23"
	for range 2 { // pinning twice keeps one entry
		if err := p.PinFingerprint(fp); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.PinFingerprint("  "); err == nil {
		t.Error("pinning an empty fingerprint succeeded")
	}
	again, err := OpenProfile(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Settings().PinnedFingerprints; len(got) != 1 || got[0] != "abcdef0123" {
		t.Errorf("pinned %q, want [abcdef0123]", got)
	}
}

func TestProfileDirFor(t *testing.T) {
	for _, tc := range []struct{ account, want string }{
		{"alice@example.org", "alice@example.org"},
		{"Bob@Example.org", "bob@example.org"},
		{"a/b@c", "a_b@c"},
		{"..", "_"},
		{"", "_"},
	} {
		if got := filepath.Base(ProfileDirFor("/root", tc.account)); got != tc.want {
			t.Errorf("ProfileDirFor(%q) = %q, want %q", tc.account, got, tc.want)
		}
	}
}

func TestFileSecretStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), PasswordFile)
	st := FileSecretStore{Path: path}
	if _, err := st.Get("a@b"); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("Get before Set: %v", err)
	}
	if err := st.Set("a@b", "s3cret with spaces"); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v, mode %v", err, fi.Mode().Perm())
	}
	if pw, err := st.Get("a@b"); err != nil || pw != "s3cret with spaces" {
		t.Fatalf("Get = %q, %v", pw, err)
	}
	if _, err := st.Get("other@b"); !errors.Is(err, ErrNoSecret) {
		t.Errorf("the password was handed to another account: %v", err)
	}
	if err := st.Delete("a@b"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete("a@b"); err != nil {
		t.Errorf("second Delete: %v", err)
	}
}

// TestKeyringStoreMock uses go-keyring's in-memory mock: this machine has no
// D-Bus session and no Secret Service, so the real keyring cannot be used
// in tests.
func TestKeyringStoreMock(t *testing.T) {
	keyring.MockInit()
	st := KeyringStore{Service: "parley-test"}
	if _, err := st.Get("a@b"); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("Get before Set: %v", err)
	}
	if err := st.Set("a@b", "pw"); err != nil {
		t.Fatal(err)
	}
	if pw, err := st.Get("a@b"); err != nil || pw != "pw" {
		t.Fatalf("Get = %q, %v", pw, err)
	}
	if err := st.Delete("a@b"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete("a@b"); err != nil {
		t.Errorf("Delete of a missing password: %v", err)
	}
}

// failingStore stands for an OS keyring that is not available.
type failingStore struct{}

func (failingStore) Get(string) (string, error) { return "", errors.New("no keyring") }
func (failingStore) Set(string, string) error   { return errors.New("no keyring") }
func (failingStore) Delete(string) error        { return errors.New("no keyring") }

func TestVaultFallsBackToFile(t *testing.T) {
	p, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	v := passwordVault{keyring: failingStore{}, profile: p}
	where, keyErr, err := v.save("a@b", "pw")
	if err != nil || where != PasswordInFile || keyErr == nil {
		t.Fatalf("save = %q, %v, %v; want file fallback", where, keyErr, err)
	}
	if p.Settings().PasswordStore != PasswordInFile {
		t.Errorf("PasswordStore %q", p.Settings().PasswordStore)
	}
	if fi, err := os.Stat(filepath.Join(p.Dir(), PasswordFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v", err)
	}
	if pw, err := v.load("a@b"); err != nil || pw != "pw" {
		t.Fatalf("load = %q, %v", pw, err)
	}
	if err := v.forget("a@b"); err != nil {
		t.Fatalf("forget: %v", err)
	}
	if _, err := os.Stat(filepath.Join(p.Dir(), PasswordFile)); !os.IsNotExist(err) {
		t.Errorf("password file still there after forget: %v", err)
	}
}

// TestVaultPrefersKeyring uses go-keyring's mock (no D-Bus here).
func TestVaultPrefersKeyring(t *testing.T) {
	keyring.MockInit()
	p, err := OpenProfile(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// An older fallback copy is removed once the keyring works.
	if err := (FileSecretStore{Path: filepath.Join(p.Dir(), PasswordFile)}).Set("a@b", "old"); err != nil {
		t.Fatal(err)
	}
	v := passwordVault{keyring: KeyringStore{Service: "parley-test"}, profile: p}
	where, _, err := v.save("a@b", "new")
	if err != nil || where != PasswordInKeyring {
		t.Fatalf("save = %q, %v", where, err)
	}
	if _, err := os.Stat(filepath.Join(p.Dir(), PasswordFile)); !os.IsNotExist(err) {
		t.Errorf("fallback file kept: %v", err)
	}
	if pw, err := v.load("a@b"); err != nil || pw != "new" {
		t.Fatalf("load = %q, %v", pw, err)
	}
}

func TestValidateJID(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"Alice@Example.org", "alice@example.org", true},
		{" bob@localhost/desk ", "bob@localhost", true},
		{"example.org", "", false},
		{"@example.org", "", false},
		{"alice@", "", false},
		{"", "", false},
		{"al ice@exa mple.org", "", false},
	} {
		got, err := ValidateJID(tc.in)
		if tc.ok {
			if err != nil || got != tc.want {
				t.Errorf("ValidateJID(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		var je *InvalidJIDError
		if !errors.As(err, &je) {
			t.Errorf("ValidateJID(%q) = %q, %v; want *InvalidJIDError", tc.in, got, err)
		}
	}
}
