// The contacts service's files in the profile folder: roster.json (the last
// known roster with its XEP-0237 version, nicknames and avatar hashes, so the
// list shows at once on start), contacts.json (inbound subscription requests
// until answered, the own presence, pre-approvals) and avatars/<hash> (the
// image cache). JSON files are written atomically; the service batches the
// writes (see ContactsService.persistLoop).
package app

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Files of the contacts service inside a profile folder.
const (
	RosterCacheFile   = "roster.json"
	ContactsStateFile = "contacts.json"
	AvatarsDir        = "avatars"
)

const contactsFileVersion = 1

// rosterFile is roster.json.
type rosterFile struct {
	Version int    `json:"version"`
	Account string `json:"account"` // the roster belongs to this bare JID
	// Ver is the XEP-0237 roster version the items correspond to.
	Ver     string            `json:"ver"`
	Items   []rosterFileItem  `json:"items"`
	Nicks   map[string]string `json:"nicks,omitempty"`   // bare JID -> XEP-0172 nickname
	Avatars map[string]string `json:"avatars,omitempty"` // bare JID -> avatar hash
}

type rosterFileItem struct {
	JID          string   `json:"jid"`
	Name         string   `json:"name,omitempty"`
	Groups       []string `json:"groups,omitempty"`
	Subscription string   `json:"subscription"`
	Ask          bool     `json:"ask,omitempty"`
	Approved     bool     `json:"approved,omitempty"`
}

// stateFile is contacts.json.
type stateFile struct {
	Version  int            `json:"version"`
	Account  string         `json:"account"`
	Requests []stateRequest `json:"requests,omitempty"`
	Own      stateOwn       `json:"own"`
	Avatar   string         `json:"own_avatar,omitempty"`
	Approve  []string       `json:"pre_approved,omitempty"` // bare JIDs allowed to see us when they ask
}

type stateRequest struct {
	JID      string    `json:"jid"`
	Nick     string    `json:"nick,omitempty"`
	Message  string    `json:"message,omitempty"`
	Received time.Time `json:"received"`
}

type stateOwn struct {
	Show   Show   `json:"show"`
	Status string `json:"status,omitempty"`
}

// contactsStore reads and writes the files of one profile folder.
type contactsStore struct {
	dir string
}

func (s *contactsStore) path(name string) string { return filepath.Join(s.dir, name) }

// loadRoster reads roster.json; a missing file is an empty roster.
func (s *contactsStore) loadRoster() (rosterFile, error) {
	var f rosterFile
	err := readJSON(s.path(RosterCacheFile), &f)
	return f, err
}

func (s *contactsStore) saveRoster(f rosterFile) error {
	f.Version = contactsFileVersion
	return writeJSON(s.path(RosterCacheFile), f)
}

// loadState reads contacts.json; a missing file is the empty state.
func (s *contactsStore) loadState() (stateFile, error) {
	var f stateFile
	err := readJSON(s.path(ContactsStateFile), &f)
	return f, err
}

func (s *contactsStore) saveState(f stateFile) error {
	f.Version = contactsFileVersion
	return writeJSON(s.path(ContactsStateFile), f)
}

// validHash accepts only a hex SHA-1 (40 digits), so a hash from the
// network can never name a path outside the cache folder.
func validHash(hash string) bool {
	if len(hash) != 40 {
		return false
	}
	_, err := hex.DecodeString(hash)
	return err == nil
}

func (s *contactsStore) avatarPath(hash string) string {
	return filepath.Join(s.dir, AvatarsDir, hash)
}

// hasAvatar reports whether the image with this hash is cached.
func (s *contactsStore) hasAvatar(hash string) bool {
	if !validHash(hash) {
		return false
	}
	st, err := os.Stat(s.avatarPath(hash))
	return err == nil && st.Mode().IsRegular()
}

// readAvatar returns a cached image.
func (s *contactsStore) readAvatar(hash string) ([]byte, bool) {
	if !validHash(hash) {
		return nil, false
	}
	data, err := os.ReadFile(s.avatarPath(hash))
	if err != nil {
		return nil, false
	}
	return data, true
}

// writeAvatar caches an image under its hash.
func (s *contactsStore) writeAvatar(hash string, data []byte) error {
	if !validHash(hash) {
		return fmt.Errorf("cache avatar: bad hash %q", hash)
	}
	if err := os.MkdirAll(filepath.Join(s.dir, AvatarsDir), 0o700); err != nil {
		return fmt.Errorf("cache avatar: %w", err)
	}
	return writeFileAtomic(s.avatarPath(hash), data, 0o600)
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s is damaged: %w", path, err)
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return writeFileAtomic(path, append(data, '\n'), 0o600)
}

// persist asks for the files to be written soon (never blocks).
func (c *ContactsService) persist() {
	select {
	case c.persistKick <- struct{}{}:
	default:
	}
}

// persistLoop writes the files at most every persistDelay.
func (c *ContactsService) persistLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.persistKick:
		case <-c.ctx.Done():
			return
		}
		t := time.NewTimer(persistDelay)
		select {
		case <-t.C:
		case <-c.ctx.Done():
			t.Stop()
			return
		}
		c.flush()
	}
}

// flush writes the files that changed.
func (c *ContactsService) flush() {
	c.fmu.Lock()
	defer c.fmu.Unlock()
	c.mu.Lock()
	s := &c.st
	store := s.store
	if store == nil || s.account == "" {
		c.mu.Unlock()
		return
	}
	var rf *rosterFile
	var sf *stateFile
	if s.rosterDirty {
		f := rosterFile{Account: s.account, Ver: s.rosterVer, Items: make([]rosterFileItem, 0, len(s.roster)),
			Nicks: cloneNonEmpty(s.nicks), Avatars: cloneNonEmpty(s.avatarOf)}
		for bare, e := range s.roster {
			f.Items = append(f.Items, rosterFileItem{JID: bare, Name: e.Name, Groups: e.Groups,
				Subscription: e.Subscription, Ask: e.Ask, Approved: e.Approved})
		}
		rf = &f
		s.rosterDirty = false
	}
	if s.stateDirty {
		f := stateFile{Account: s.account, Own: stateOwn{Show: s.own.Show, Status: s.own.Status}, Avatar: s.ownAvatar}
		for _, r := range s.requests {
			f.Requests = append(f.Requests, stateRequest(r))
		}
		for jid := range s.preApproved {
			f.Approve = append(f.Approve, jid)
		}
		sf = &f
		s.stateDirty = false
	}
	c.mu.Unlock()
	if rf != nil {
		slices.SortFunc(rf.Items, func(a, b rosterFileItem) int { return strings.Compare(a.JID, b.JID) })
		if err := store.saveRoster(*rf); err != nil {
			c.log.Warn("saving the local copy of the roster", "err", err)
		}
	}
	if sf != nil {
		slices.SortFunc(sf.Requests, func(a, b stateRequest) int { return strings.Compare(a.JID, b.JID) })
		slices.Sort(sf.Approve)
		if err := store.saveState(*sf); err != nil {
			c.log.Warn("saving the contact requests", "err", err)
		}
	}
}

// cloneNonEmpty copies a string map (nil when empty).
func cloneNonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}
