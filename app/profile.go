// Account profiles: one folder per account holding its settings (account.json,
// written atomically) and, when the OS keyring is unavailable, the remembered
// password. A profile also owns the stable per-install resource and the
// certificate fingerprints the user chose to trust.
package app

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"parley/xmppclient"
)

// SettingsFile is the name of the settings file inside a profile folder.
const SettingsFile = "account.json"

// settingsVersion is written into account.json so a later Parley can migrate.
const settingsVersion = 1

// Where a remembered password is kept.
const (
	PasswordInKeyring = "keyring" // the OS keyring (Secret Service, Keychain, Credential Manager)
	PasswordInFile    = "file"    // a 0600 file in the profile folder (no OS keyring)
)

// AccountSettings is what a profile remembers about its account.
type AccountSettings struct {
	Version int `json:"version"`
	// JID is the bare account address (user@server).
	JID string `json:"jid,omitempty"`
	// Host and Port override the DNS SRV lookup; DirectTLS connects with TLS
	// from the first byte (XEP-0368) instead of STARTTLS.
	Host      string `json:"host,omitempty"`
	Port      int    `json:"port,omitempty"`
	DirectTLS bool   `json:"direct_tls,omitempty"`
	// RememberPassword: the password is stored (see PasswordStore) and the
	// account logs in automatically on start.
	RememberPassword bool `json:"remember_password"`
	// PasswordStore says where the remembered password is: PasswordInKeyring
	// or PasswordInFile; empty when nothing is stored.
	PasswordStore string `json:"password_store,omitempty"`
	// LoggedOut: the user logged out; the account does not log in by
	// itself on the next start even with a remembered password.
	LoggedOut bool `json:"logged_out,omitempty"`
	// Resource is the stable per-install resource ("parley-XXXXXXXX"),
	// generated once when the profile is created.
	Resource string `json:"resource"`
	// PinnedFingerprints are lower-case hex SHA-256 fingerprints of server
	// certificates the user chose to trust although they do not verify.
	PinnedFingerprints []string `json:"pinned_fingerprints,omitempty"`
	// CAFile is a PEM file of extra certificate authorities to trust for
	// this account (a private or test server); relative paths are relative
	// to the profile folder.
	CAFile string `json:"ca_file,omitempty"`
	// Files say how files are sent and fetched.
	Files FileSettings `json:"files,omitempty"`
	// Voice says how voice messages are recorded, sent and played.
	Voice VoiceSettings `json:"voice,omitempty"`
	// Window is the main window's size when it was last closed (0: none
	// yet), in Fyne's device-independent units.
	Window WindowSize `json:"window,omitempty"`
	// SeenNotices are advisories (such as NoKeyringNote) already shown
	// once in the window's header; they stay in the settings only.
	SeenNotices []string `json:"seen_notices,omitempty"`
}

// WindowSize is a window's width and height.
type WindowSize struct {
	Width  float32 `json:"width,omitempty"`
	Height float32 `json:"height,omitempty"`
}

// FileSettings say how files are sent and fetched (zero values: the
// defaults). The settings window edits them.
type FileSettings struct {
	// AutoFetchLimit is the largest file from a contact fetched without
	// asking, in bytes (0: DefaultAutoFetchLimit; -1: none is).
	AutoFetchLimit int64 `json:"auto_fetch_limit,omitempty"`
	// CacheSize caps the fetched files kept, in bytes (0: DefaultCacheSize).
	CacheSize int64 `json:"cache_size,omitempty"`
	// KeepMetadata sends photos with their location and camera metadata.
	KeepMetadata bool `json:"keep_metadata,omitempty"`
	// MaxSide is the longest side photos are downscaled to (0: 2560).
	MaxSide int `json:"max_side,omitempty"`
}

// Profile is one account's folder. Its methods are safe for concurrent use.
type Profile struct {
	dir string

	mu       sync.Mutex
	settings AccountSettings
}

// DefaultProfilesRoot is the folder holding one profile per account when no
// --profile is given: os.UserConfigDir()/parley.
func DefaultProfilesRoot() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the configuration folder: %w", err)
	}
	return filepath.Join(base, "parley"), nil
}

// ProfileDirFor returns root/<account> for a bare account JID. The account is
// used as the folder name; characters that are unsafe in file names are
// replaced.
func ProfileDirFor(root, account string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r == '/' || r == '\\' || r == ':' || r == 0 || r < 0x20:
			return '_'
		}
		return r
	}, strings.ToLower(account))
	if name == "" || name == "." || name == ".." {
		name = "_"
	}
	return filepath.Join(root, name)
}

// OpenProfile opens (creating if needed, mode 0700) the profile folder dir
// and loads its settings. A new profile gets its per-install resource and is
// saved at once, so the resource stays the same from then on.
func OpenProfile(dir string) (*Profile, error) {
	if dir == "" {
		return nil, errors.New("open profile: no folder given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("open profile %s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("open profile: %w", err)
	}
	p := &Profile{dir: abs}
	data, err := os.ReadFile(filepath.Join(abs, SettingsFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.settings = AccountSettings{Version: settingsVersion}
	case err != nil:
		return nil, fmt.Errorf("open profile: %w", err)
	default:
		if err := json.Unmarshal(data, &p.settings); err != nil {
			return nil, fmt.Errorf("open profile: %s is damaged: %w", filepath.Join(abs, SettingsFile), err)
		}
	}
	if p.settings.Resource == "" {
		p.settings.Resource = NewResource()
		p.settings.Version = settingsVersion
		if err := p.saveLocked(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// NewResource makes a fresh per-install resource: "parley-" and 8 random hex digits.
func NewResource() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return "parley-" + hex.EncodeToString(b[:])
}

// Dir is the profile folder (absolute).
func (p *Profile) Dir() string { return p.dir }

// Settings returns a copy of the current settings.
func (p *Profile) Settings() AccountSettings {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.settings
	s.PinnedFingerprints = slices.Clone(s.PinnedFingerprints)
	s.SeenNotices = slices.Clone(s.SeenNotices)
	return s
}

// Update changes the settings with fn and saves them atomically. If saving
// fails the in-memory settings are left as they were.
func (p *Profile) Update(fn func(*AccountSettings)) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.settings
	old.PinnedFingerprints = slices.Clone(old.PinnedFingerprints)
	fn(&p.settings)
	p.settings.Version = settingsVersion
	if err := p.saveLocked(); err != nil {
		p.settings = old
		return err
	}
	return nil
}

// PinFingerprint adds a certificate fingerprint (hex, colons optional) to
// the trusted ones and saves. Pinning the same one twice is harmless.
func (p *Profile) PinFingerprint(fp string) error {
	fp = xmppclient.NormalizeFingerprint(fp)
	if fp == "" {
		return errors.New("pin certificate: empty fingerprint")
	}
	return p.Update(func(s *AccountSettings) {
		if !slices.Contains(s.PinnedFingerprints, fp) {
			s.PinnedFingerprints = append(s.PinnedFingerprints, fp)
		}
	})
}

// CAFilePath is the absolute path of the CA file setting, or "".
func (p *Profile) CAFilePath() string {
	s := p.Settings()
	if s.CAFile == "" {
		return ""
	}
	if filepath.IsAbs(s.CAFile) {
		return s.CAFile
	}
	return filepath.Join(p.dir, s.CAFile)
}

func (p *Profile) saveLocked() error {
	data, err := json.MarshalIndent(p.settings, "", "  ")
	if err != nil {
		return fmt.Errorf("save profile: %w", err)
	}
	return writeFileAtomic(filepath.Join(p.dir, SettingsFile), append(data, '\n'), 0o600)
}

// writeFileAtomic writes data to a temporary file in the same folder, syncs
// it and renames it over path, so readers see either the old or the new
// content, never a torn file.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir, base := filepath.Split(path)
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	fail := func(err error) error {
		tmp.Close()
		os.Remove(tmpName)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fail(err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fail(err)
	}
	if err := tmp.Sync(); err != nil {
		return fail(err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		os.Remove(tmpName)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
