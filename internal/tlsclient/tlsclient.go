// Package tlsclient builds the HTTP transport Ferry's clients use to reach
// a master: the system's certificate pool by default, or only the CA
// certificates of a PEM file (--ca), and it explains certificate errors.
package tlsclient

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
)

// LoadCA reads the PEM certificates in file into a new pool. A file with no
// certificate is an error.
func LoadCA(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read CA file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("read CA file %s: no PEM certificate in it", file)
	}
	return pool, nil
}

// Transport returns a clone of http.DefaultTransport that verifies servers
// against pool, or against the system's pool when pool is nil.
func Transport(pool *x509.CertPool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return t
}

// Explain adds what to do to an error of a TLS connection whose server
// certificate could not be verified; other errors are returned as they are.
func Explain(err error) error {
	var unknown x509.UnknownAuthorityError
	var host x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	switch {
	case errors.As(err, &unknown), errors.As(err, &verify) && !errors.As(err, &host) && !errors.As(err, &invalid):
		return fmt.Errorf("%w (the master's certificate is not signed by a trusted CA: pass --ca FILE or set FERRY_CA to the CA certificate that signed it)", err)
	case errors.As(err, &host):
		return fmt.Errorf("%w (the master's certificate does not name the host of the master URL)", err)
	case errors.As(err, &invalid):
		return fmt.Errorf("%w (the master's certificate is not valid: expired, not yet valid, or not for servers)", err)
	}
	return err
}
