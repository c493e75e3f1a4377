// Remembered passwords: the OS keyring through github.com/zalando/go-keyring,
// behind a small interface, with a fallback to a 0600 file in the profile
// folder when no keyring is available (no D-Bus session, no Secret Service).
package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// ErrNoSecret: no password is stored for the account.
var ErrNoSecret = errors.New("no stored password")

// KeyringService is the service name Parley's passwords are filed under in
// the OS keyring; the user name is the bare account JID.
const KeyringService = "parley"

// PasswordFile is the fallback password file inside a profile folder.
const PasswordFile = "password"

// NoKeyringNote is shown to the user when the password had to be stored in
// the profile folder.
const NoKeyringNote = "no system keyring: password stored in the profile folder"

// SecretStore keeps passwords by account (a bare JID).
type SecretStore interface {
	// Get returns the password, or an error wrapping ErrNoSecret.
	Get(account string) (string, error)
	Set(account, password string) error
	// Delete removes the password; deleting a missing one is not an error.
	Delete(account string) error
}

// KeyringStore is the OS keyring (go-keyring). Each call is bounded by
// Timeout (default 5 s) because a Secret Service that is registered but
// stuck would otherwise hang the caller.
type KeyringStore struct {
	Service string
	Timeout time.Duration
}

// OSKeyring returns the OS keyring store with Parley's service name.
func OSKeyring() KeyringStore { return KeyringStore{Service: KeyringService} }

func (k KeyringStore) service() string {
	if k.Service == "" {
		return KeyringService
	}
	return k.Service
}

// bounded runs fn with the store's timeout.
func (k KeyringStore) bounded(fn func() error) error {
	d := k.Timeout
	if d <= 0 {
		d = 5 * time.Second
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("the system keyring did not answer within %v", d)
	}
}

// Get implements SecretStore.
func (k KeyringStore) Get(account string) (string, error) {
	var pw string
	err := k.bounded(func() error {
		var err error
		pw, err = keyring.Get(k.service(), account)
		return err
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return "", fmt.Errorf("keyring: %w", ErrNoSecret)
	}
	if err != nil {
		return "", fmt.Errorf("keyring: %w", err)
	}
	return pw, nil
}

// Set implements SecretStore.
func (k KeyringStore) Set(account, password string) error {
	if err := k.bounded(func() error { return keyring.Set(k.service(), account, password) }); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	return nil
}

// Delete implements SecretStore.
func (k KeyringStore) Delete(account string) error {
	err := k.bounded(func() error { return keyring.Delete(k.service(), account) })
	if err != nil && !errors.Is(err, keyring.ErrNotFound) {
		return fmt.Errorf("keyring: %w", err)
	}
	return nil
}

// FileSecretStore keeps one password in a 0600 file (the fallback when no
// OS keyring is available). The account name is stored with it, so a
// password is never handed to another account.
type FileSecretStore struct {
	Path string
}

// Get implements SecretStore.
func (f FileSecretStore) Get(account string) (string, error) {
	data, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", ErrNoSecret
	}
	if err != nil {
		return "", fmt.Errorf("read password file: %w", err)
	}
	acct, pw, ok := strings.Cut(string(data), "\n")
	if !ok || acct != account {
		return "", ErrNoSecret
	}
	return strings.TrimSuffix(pw, "\n"), nil
}

// Set implements SecretStore.
func (f FileSecretStore) Set(account, password string) error {
	if strings.ContainsAny(account, "\n") {
		return errors.New("password file: account name contains a line break")
	}
	return writeFileAtomic(f.Path, []byte(account+"\n"+password+"\n"), 0o600)
}

// Delete implements SecretStore.
func (f FileSecretStore) Delete(string) error {
	err := os.Remove(f.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove password file: %w", err)
	}
	return nil
}

// passwordVault decides where a profile's remembered password goes: the
// keyring when it works, else the profile's password file.
type passwordVault struct {
	keyring SecretStore
	profile *Profile
}

func (v passwordVault) file() FileSecretStore {
	return FileSecretStore{Path: filepath.Join(v.profile.Dir(), PasswordFile)}
}

// save stores the password and records where. It returns the store used
// (PasswordInKeyring or PasswordInFile) and, when the keyring failed, the
// keyring's error (informational: the password was still saved).
func (v passwordVault) save(account, password string) (where string, keyringErr error, err error) {
	if v.keyring != nil {
		if keyringErr = v.keyring.Set(account, password); keyringErr == nil {
			_ = v.file().Delete(account) // an older fallback copy is no longer needed
			return PasswordInKeyring, nil, v.profile.Update(func(s *AccountSettings) { s.PasswordStore = PasswordInKeyring })
		}
	} else {
		keyringErr = errors.New("no keyring configured")
	}
	if err := v.file().Set(account, password); err != nil {
		return "", keyringErr, err
	}
	return PasswordInFile, keyringErr, v.profile.Update(func(s *AccountSettings) { s.PasswordStore = PasswordInFile })
}

// load returns the remembered password for account from where the profile
// says it is (trying the other place too, in case the setting is stale).
func (v passwordVault) load(account string) (string, error) {
	order := []SecretStore{v.keyring, v.file()}
	if v.profile.Settings().PasswordStore == PasswordInFile {
		order = []SecretStore{v.file(), v.keyring}
	}
	var firstErr error
	for _, st := range order {
		if st == nil {
			continue
		}
		pw, err := st.Get(account)
		if err == nil {
			return pw, nil
		}
		if firstErr == nil || errors.Is(firstErr, ErrNoSecret) && !errors.Is(err, ErrNoSecret) {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = ErrNoSecret
	}
	return "", firstErr
}

// forget removes the password from both places.
func (v passwordVault) forget(account string) error {
	var errs []error
	if v.keyring != nil {
		// A keyring that is not there cannot hold the password: its error
		// only matters when the profile says the password went there.
		err := v.keyring.Delete(account)
		if err != nil && v.profile.Settings().PasswordStore == PasswordInKeyring {
			errs = append(errs, err)
		}
	}
	if err := v.file().Delete(account); err != nil {
		errs = append(errs, err)
	}
	if err := v.profile.Update(func(s *AccountSettings) { s.PasswordStore = "" }); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
