// certs.go: makes the per-instance test CA and server leaf certificate (ECDSA P-256, in
// process, about a millisecond) and loads them back for clients (CA pool, leaf fingerprint).

package xmpptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// certFiles are the PEM files of one instance, in DIR/certs.
type certFiles struct {
	CACert, CAKey string // ca.crt, ca.key
	Cert, Key     string // leaf certificate and key
	Bundle        string // leaf + CA + key in one file (ejabberd's certfiles); "" for prosody
}

// writeTestCerts creates a CA and a leaf for domain (SAN: domain, *.domain, 127.0.0.1, ::1)
// unless the leaf already exists (restarts keep their certificates).
func writeTestCerts(f certFiles, domain string) error {
	if _, err := os.Stat(f.Cert); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(f.Cert), 0o700); err != nil {
		return err
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now().Add(-time.Hour)
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "Parley Test CA"},
		NotBefore:             now,
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	leafTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: domain},
		NotBefore:             now,
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{domain, "*." + domain},
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	caKeyDER, err := x509.MarshalPKCS8PrivateKey(caKey)
	if err != nil {
		return err
	}
	leafKeyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return err
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	leafPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER})
	leafKeyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: leafKeyDER})
	files := []struct {
		path string
		data []byte
		mode os.FileMode
	}{
		{f.CACert, caPEM, 0o644},
		{f.CAKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: caKeyDER}), 0o600},
		{f.Key, leafKeyPEM, 0o600},
	}
	if f.Bundle != "" {
		bundle := append(append(append([]byte{}, leafPEM...), caPEM...), leafKeyPEM...)
		files = append(files, struct {
			path string
			data []byte
			mode os.FileMode
		}{f.Bundle, bundle, 0o600})
	}
	// the leaf certificate last: its presence means "certificates complete"
	files = append(files, struct {
		path string
		data []byte
		mode os.FileMode
	}{f.Cert, leafPEM, 0o644})
	for _, x := range files {
		if err := os.WriteFile(x.path, x.data, x.mode); err != nil {
			return err
		}
	}
	return nil
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return n
}

// loadTrust reads the CA (into a pool) and the leaf (for its fingerprint).
func loadTrust(caFile, leafFile string) (*x509.CertPool, string, error) {
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, "", err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, "", fmt.Errorf("xmpptest: no certificate in %s", caFile)
	}
	leafPEM, err := os.ReadFile(leafFile)
	if err != nil {
		return nil, "", err
	}
	block, _ := pem.Decode(leafPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, "", errors.New("xmpptest: no certificate in " + leafFile)
	}
	sum := sha256.Sum256(block.Bytes)
	return pool, hex.EncodeToString(sum[:]), nil
}
