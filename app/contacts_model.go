// The contacts model the views bind to: contacts with aggregated presence,
// groups and avatars, inbound subscription requests, the block list and the
// own presence. The ContactsService (contacts.go) keeps it; views read
// snapshots and call its methods, and never see XMPP types.
package app

import (
	"image/color"
	"time"
)

// Show is a presence state as the UI shows it.
type Show string

// Presence states, from most to least available.
const (
	ShowChat    Show = "chat"    // free for chat
	ShowOnline  Show = "online"  // available
	ShowAway    Show = "away"    // away
	ShowXA      Show = "xa"      // extended away
	ShowDND     Show = "dnd"     // do not disturb (busy)
	ShowOffline Show = "offline" // no available resource
)

// Label is the human name of a presence state.
func (s Show) Label() string {
	switch s {
	case ShowChat:
		return "Free to chat"
	case ShowOnline:
		return "Online"
	case ShowAway:
		return "Away"
	case ShowXA:
		return "Not available"
	case ShowDND:
		return "Busy"
	}
	return "Offline"
}

// Resource is one connected client of a contact.
type Resource struct {
	Name     string // the resource part
	Show     Show
	Status   string
	Priority int
	Client   string // client software, from caps/disco when known ("Conversations", "Gajim" ...)
}

// Contact is one roster entry with everything the UI shows about it.
type Contact struct {
	JID          string   // bare JID
	Name         string   // display name: roster name, else nickname, else the JID's local part
	RosterName   string   // the name stored on the roster ("" if none)
	Groups       []string // roster groups; none means the "Contacts" group in the UI
	Subscription string   // none, to, from, both
	Pending      bool     // our subscription request awaits their answer
	Show         Show     // of the best resource (highest priority, then most available)
	Status       string   // status text of the best resource
	Resources    []Resource
	AvatarHash   string     // "" when no avatar is known
	Color        color.RGBA // XEP-0392 consistent colour of the JID
	Initials     string     // for the avatar placeholder
	Blocked      bool
	// PreApproved: they will be allowed to see our presence as soon as
	// they ask (set by Add, or by Accept when nobody had asked yet).
	PreApproved bool
}

// SeesPresence reports whether we receive the contact's presence.
func (c Contact) SeesPresence() bool { return c.Subscription == "to" || c.Subscription == "both" }

// Request is an inbound subscription request waiting for an answer. It is
// kept (also across restarts) until the user accepts or denies it.
type Request struct {
	JID      string
	Nick     string // XEP-0172 nickname they gave, if any
	Message  string // the status text of their request, if any
	Received time.Time
}

// ContactsSnapshot is the whole contacts state at one moment. Contacts are
// sorted by display name (case-insensitive), then JID.
type ContactsSnapshot struct {
	Contacts []Contact
	Requests []Request
	Blocked  []string // blocked JIDs (also those not on the roster)
	Own      OwnPresence
	// Loaded: the list reflects the server (false while only the local
	// copy is shown, before the server answered).
	Loaded bool
	// Version increases with every change.
	Version uint64
	// PreApproval: the server offers subscription pre-approval (RFC 6121
	// §3.4), so Accept for someone who has not asked yet is kept by the
	// server. Without it Parley remembers the approval itself and answers
	// their request automatically while it is online.
	PreApproval bool
	// OwnAvatar is the hash of the account's own avatar ("" if none known);
	// Avatar(OwnAvatar) gives the image once it is cached.
	OwnAvatar string
}

// OwnPresence is the user's own presence, kept across restarts.
type OwnPresence struct {
	Show   Show
	Status string
}
