// SASL authentication (RFC 6120 §6): SCRAM-SHA-256 and SCRAM-SHA-1 through
// github.com/xdg-go/scram, strongest offered first, and PLAIN only on an
// encrypted stream. A refused login returns the server's condition and text.
package xmppclient

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"slices"

	"github.com/xdg-go/scram"
)

// mechanismPreference lists supported mechanisms, strongest first.
var mechanismPreference = []string{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"}

func chooseMechanism(offered []string, allowed ...string) (string, bool) {
	for _, m := range mechanismPreference {
		if slices.Contains(offered, m) && (len(allowed) == 0 || slices.Contains(allowed, m)) {
			return m, true
		}
	}
	return "", false
}

type saslPayload struct {
	XMLName xml.Name
	Data    string `xml:",chardata"`
}

// authenticate runs one SASL exchange on an encrypted stream.
func (s *conn) authenticate(ctx context.Context, cfg *Config) error {
	if !s.encrypted {
		return ErrInsecureServer // never reached: negotiate refuses earlier
	}
	mech, ok := chooseMechanism(s.features.Mechanisms, cfg.Mechanisms...)
	if !ok {
		return ErrNoMechanism
	}
	user := cfg.JID.Local
	switch mech {
	case "PLAIN":
		msg := "\x00" + user + "\x00" + cfg.Password
		if err := s.writeString(authElement(mech, []byte(msg))); err != nil {
			return err
		}
		if _, err := s.saslStep(ctx, mech); err != nil {
			return err
		}
		s.mechanism = mech
		return nil
	default:
		hash := scram.SHA1
		if mech == "SCRAM-SHA-256" {
			hash = scram.SHA256
		}
		client, err := hash.NewClient(user, cfg.Password, "")
		if err != nil {
			return &AuthError{Mechanism: mech, Condition: "malformed-request", Text: err.Error()}
		}
		conv := client.NewConversation()
		first, err := conv.Step("")
		if err != nil {
			return &ProtocolError{Step: "SCRAM", Err: err}
		}
		if err := s.writeString(authElement(mech, []byte(first))); err != nil {
			return err
		}
		for {
			data, err := s.saslStep(ctx, mech)
			if err != nil {
				return err
			}
			if data.success {
				if data.payload != "" {
					if _, err := conv.Step(data.payload); err != nil {
						return &ProtocolError{Step: "SCRAM", Err: fmt.Errorf("the server's proof is wrong: %w", err)}
					}
				}
				if !conv.Valid() {
					return &ProtocolError{Step: "SCRAM", Err: fmt.Errorf("the server did not prove it knows the password")}
				}
				s.mechanism = mech
				return nil
			}
			resp, err := conv.Step(data.payload)
			if err != nil {
				return &ProtocolError{Step: "SCRAM", Err: err}
			}
			if err := s.writeString("<response xmlns='" + nsSASL + "'>" + base64.StdEncoding.EncodeToString([]byte(resp)) + "</response>"); err != nil {
				return err
			}
		}
	}
}

func authElement(mech string, initial []byte) string {
	data := base64.StdEncoding.EncodeToString(initial)
	if data == "" {
		data = "="
	}
	return "<auth xmlns='" + nsSASL + "' mechanism='" + mech + "'>" + data + "</auth>"
}

type saslResult struct {
	success bool
	payload string // decoded challenge or success data
}

// saslStep reads the server's next SASL element: a challenge, success or failure.
func (s *conn) saslStep(ctx context.Context, mech string) (saslResult, error) {
	el, err := s.next(ctx)
	if err != nil {
		return saslResult{}, err
	}
	if el.Start.Name.Space != nsSASL {
		return saslResult{}, &ProtocolError{Step: "SASL", Err: fmt.Errorf("unexpected <%s xmlns='%s'>", el.Start.Name.Local, el.Start.Name.Space)}
	}
	switch el.Start.Name.Local {
	case "challenge", "success":
		var p saslPayload
		if err := decodeElement(s.er.header, el.Raw, &p); err != nil {
			return saslResult{}, &ProtocolError{Step: "SASL", Err: err}
		}
		var payload []byte
		if p.Data != "" && p.Data != "=" {
			payload, err = base64.StdEncoding.DecodeString(p.Data)
			if err != nil {
				return saslResult{}, &ProtocolError{Step: "SASL", Err: fmt.Errorf("bad base64 from server: %w", err)}
			}
		}
		return saslResult{success: el.Start.Name.Local == "success", payload: string(payload)}, nil
	case "failure":
		var f definedCondition
		if err := decodeElement(s.er.header, el.Raw, &f); err != nil {
			return saslResult{}, &ProtocolError{Step: "SASL", Err: err}
		}
		return saslResult{}, &AuthError{Mechanism: mech, Condition: f.Condition, Text: f.Text}
	}
	return saslResult{}, &ProtocolError{Step: "SASL", Err: fmt.Errorf("unexpected <%s>", el.Start.Name.Local)}
}
