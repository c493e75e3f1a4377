// Words the login window shows for each kind of failure. The app layer's
// typed errors are turned into a short headline and a sentence.
package views

import (
	"context"
	"errors"
	"fmt"

	"parley/app"
)

// failure is an error as the login window presents it.
type failure struct {
	Title string // short headline, e.g. "Wrong password"
	Text  string // what happened and what to do
}

// describeFailure turns an error from app.Service into words for people.
func describeFailure(err error) failure {
	var (
		cert *app.UntrustedCertificateError
		unr  *app.UnreachableError
		reg  *app.RegistrationError
		jid  *app.InvalidJIDError
	)
	switch {
	case errors.Is(err, app.ErrWrongPassword):
		return failure{"Wrong password", "The server did not accept this user name and password. Check both and try again."}
	case errors.As(err, &unr):
		return failure{"Server unreachable", fmt.Sprintf("Cannot reach the server %s. Check the address (and the Advanced settings) and your network connection.", unr.Server)}
	case errors.As(err, &cert):
		return failure{"Untrusted certificate", fmt.Sprintf("The certificate of %s is not trusted (%s). Fingerprint: %s", cert.Host, cert.Reason, cert.Fingerprint)}
	case errors.Is(err, app.ErrInsecureServer):
		return failure{"Insecure server", "The server does not offer encryption, so Parley did not send your password."}
	case errors.As(err, &jid):
		return failure{"Invalid address", app.UserMessage(err) + " An address looks like name@example.org."}
	case errors.As(err, &reg):
		switch {
		case reg.NameTaken:
			return failure{"Name taken", "That user name is already taken on this server. Choose another one, or log in if it is yours."}
		case reg.NotAllowed:
			return failure{"Registration not allowed", "This server does not allow creating accounts from Parley. Create the account on the server's web site, then log in here."}
		case reg.NeedsForm:
			text := "The server needs more information to create an account than Parley can ask for."
			if reg.Instructions != "" {
				text += " The server says: " + reg.Instructions
			}
			return failure{"Registration needs more", text}
		}
		return failure{"Registration refused", app.UserMessage(err)}
	case errors.Is(err, app.ErrNoPassword):
		return failure{"Password missing", "Enter your password."}
	case errors.Is(err, context.Canceled):
		return failure{"Cancelled", "The login was cancelled."}
	}
	return failure{"Login failed", app.UserMessage(err)}
}
