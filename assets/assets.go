// Package assets holds the files Parley embeds in its binary: for now the application icon.
// Regenerate icon.png with `make icon` (scripts/mkicon).
package assets

import _ "embed"

// Icon is the 512x512 PNG application icon (a speech bubble); FyneApp.toml points at the same file.
//
//go:embed icon.png
var Icon []byte
