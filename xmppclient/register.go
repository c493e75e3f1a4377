// XEP-0077 In-Band Registration: creating an account on the server before
// logging in, and changing the password of the logged-in account.
package xmppclient

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"

	"gosrc.io/xmpp/stanza"
)

const nsRegister = "jabber:iq:register"

// registerQuery is the jabber:iq:register payload as the server sends it.
type registerQuery struct {
	XMLName      xml.Name  `xml:"jabber:iq:register query"`
	Instructions string    `xml:"instructions"`
	Registered   *struct{} `xml:"registered"`
	Username     *string   `xml:"username"`
	Password     *string   `xml:"password"`
	Email        *string   `xml:"email"`
	Name         *string   `xml:"name"`
	Form         *DataForm `xml:"jabber:x:data x"`
	Other        []struct {
		XMLName xml.Name
	} `xml:",any"`
}

// fieldsBeyondCredentials lists what the server asks for besides user name
// and password (legacy fields and required form fields).
func (q *registerQuery) fieldsBeyondCredentials() []string {
	var extra []string
	if q.Email != nil {
		extra = append(extra, "email")
	}
	if q.Name != nil {
		extra = append(extra, "name")
	}
	for _, o := range q.Other {
		if o.XMLName.Space == nsRegister && !slices.Contains([]string{"instructions", "registered", "remove"}, o.XMLName.Local) {
			extra = append(extra, o.XMLName.Local)
		}
	}
	if q.Form != nil {
		for _, f := range q.Form.Fields {
			if f.Required != nil && f.Var != "username" && f.Var != "password" && f.Var != "FORM_TYPE" && f.Type != "hidden" && f.Type != "fixed" {
				extra = append(extra, f.Var)
			}
		}
	}
	return extra
}

// Register creates the account cfg.JID (its local part is the user name)
// with password on cfg.JID's server. The stream is encrypted first, exactly
// as for a login. A refusal is a *RegistrationError, or
// ErrRegistrationUnsupported when the server has no in-band registration.
func Register(ctx context.Context, cfg Config, password string) error {
	if password != "" {
		cfg.Password = password
	}
	full, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	if full.Password == "" {
		return &RegistrationError{Condition: "not-acceptable", Text: "the password is empty"}
	}
	hctx, cancel := context.WithTimeout(ctx, full.HandshakeTimeout)
	defer cancel()
	cn, err := openForRegistration(hctx, &full)
	if err != nil {
		return err
	}
	defer func() {
		_ = cn.writeString("</stream:stream>")
		cn.close()
	}()

	getID := newID()
	if err := cn.writeString(iqOpen("get", getID, "") + "<query xmlns='" + nsRegister + "'/></iq>"); err != nil {
		return err
	}
	el, err := cn.awaitIQ(hctx, getID)
	if err != nil {
		return err
	}
	if el.attr("type") == "error" {
		se := iqErrorOf(el)
		if se.Condition == "service-unavailable" || se.Condition == "feature-not-implemented" || se.Condition == "not-allowed" {
			return ErrRegistrationUnsupported
		}
		return &RegistrationError{Condition: se.Condition, Text: se.Text}
	}
	var q registerQuery
	if err := DecodeIQPayload(el.Raw, &q); err != nil {
		return &ProtocolError{Step: "registration form", Err: err}
	}
	if extra := q.fieldsBeyondCredentials(); len(extra) > 0 {
		instr := q.Instructions
		if q.Form != nil && q.Form.Instructions != "" {
			instr = q.Form.Instructions
		}
		if instr == "" {
			instr = fmt.Sprintf("it asks for: %v", extra)
		}
		return &RegistrationError{Condition: "not-acceptable", NeedsForm: true, Instructions: instr}
	}

	setID := newID()
	req := iqOpen("set", setID, "") + "<query xmlns='" + nsRegister + "'><username>" + xmlEscape(full.JID.Local) +
		"</username><password>" + xmlEscape(full.Password) + "</password></query></iq>"
	if err := cn.writeString(req); err != nil {
		return err
	}
	el, err = cn.awaitIQ(hctx, setID)
	if err != nil {
		return err
	}
	if el.attr("type") == "error" {
		se := iqErrorOf(el)
		return &RegistrationError{Condition: se.Condition, Text: se.Text}
	}
	return nil
}

// iqErrorOf reads the <error/> of a raw IQ reply.
func iqErrorOf(el element) *StanzaError {
	var res struct {
		Error struct {
			Type string `xml:"type,attr"`
			definedCondition
		} `xml:"error"`
	}
	if err := decodeElement(streamHeader{}, el.Raw, &res); err != nil {
		return &StanzaError{Type: "cancel", Condition: "undefined-condition", Text: err.Error()}
	}
	return &StanzaError{Type: res.Error.Type, Condition: res.Error.Condition, Text: res.Error.Text}
}

type passwordChange struct {
	XMLName  xml.Name `xml:"jabber:iq:register query"`
	Username string   `xml:"username"`
	Password string   `xml:"password"`
}

func (*passwordChange) Namespace() string         { return nsRegister }
func (*passwordChange) GetSet() *stanza.ResultSet { return nil }

// ChangePassword sets a new password for the logged-in account (XEP-0077
// §3.3). Later reconnects use the new password.
func (c *Client) ChangePassword(ctx context.Context, newPassword string) error {
	if newPassword == "" {
		return errors.New("change password: the new password is empty")
	}
	iq := stanza.IQ{Attrs: stanza.Attrs{Type: stanza.IQTypeSet, To: c.cfg.JID.Domain},
		Payload: &passwordChange{Username: c.cfg.JID.Local, Password: newPassword}}
	if _, err := c.SendIQ(ctx, iq); err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	c.mu.Lock()
	c.cfg.Password = newPassword
	c.mu.Unlock()
	return nil
}
